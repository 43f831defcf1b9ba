"""``jitops audit --format html``: one self-contained page an auditor attaches to a ticket.

One file and no network: the styles are inline, and the one script is the page's own, inline
too, which a Content-Security-Policy allows by its hash while forbidding everything else, so the
page shows the same offline, years later, as today. Text that people wrote (a justification is
the requester's) is escaped wherever it goes, the table and the data the script lists. It shows
where it was generated from (repository, branch, commit, time, filters), the problems first, a
timeline of access windows per person and target, every grant with its approvers, pull
request and policy commit, and every action request with what became of it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING

from jitops.report.csv import evidence_of
from jitops.report.text import approved_by, revoked_text

if TYPE_CHECKING:
    from jitops.audit_records import AuditQuery, AuditRecord, AuditReport


_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em; color: #1f2328; }
h1 { font-size: 1.5em; margin-bottom: .2em; } h2 { font-size: 1.2em; margin-top: 2em; }
dl.source { display: grid; grid-template-columns: max-content auto; gap: .1em 1em; }
dl.source dt { font-weight: 600; } code, .mono { font-family: ui-monospace, monospace; }
.problems { border-left: 4px solid #cf222e; background: #ffebe9; padding: .5em 1em; }
.problems li { margin: .3em 0; } .ok { border-left: 4px solid #1a7f37; padding: .3em 1em; }
table { border-collapse: collapse; width: 100%; } th, td { padding: .25em .5em; }
th { text-align: left; border-bottom: 2px solid #d0d7de; position: sticky; top: 0;
  background: #fff; }
td { border-bottom: 1px solid #eaeef2; vertical-align: top; }
tr.problem td { background: #ffebe9; } tr.unknown td { background: #fff8c5; }
.timeline { display: grid; grid-template-columns: minmax(12em, max-content) 1fr;
  gap: 2px 1em; align-items: center; }
.lane { position: relative; background: #f6f8fa; }
.bar { position: absolute; height: 1.2em; min-width: 2px; background: #0969da; }
.bar.problem { background: #cf222e; } .bar.unknown { background: #bf8700; }
.axis { display: flex; justify-content: space-between; color: #57606a; font-size: .85em; }
.legend span { display: inline-block; width: 1em; height: .8em; margin: 0 .3em 0 1em; }
"""


def _text(value: object) -> str:
    return escape(str(value), quote=True)


def _moment(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value is not None else "—"


def _kind(record: AuditRecord) -> str:
    """The record's class: a grant without valid evidence, one whose evidence is not in this
    clone, or a plain one."""
    if record.unrecorded:
        return "unknown"
    return "problem" if record.problem is not None else "grant"


def _source(report: AuditReport, generated: datetime) -> str:
    rows = [
        ("repository", report.repository_url or "(no origin)"),
        ("branch", report.ref),
        ("commit", report.commit),
        ("generated", _moment(generated)),
        ("grants shown", f"{len(report.records):,}"),
        ("evidence", _evidence_summary(report)),
    ]
    if report.query is not None and report.query.asks:
        rows.append(("filters", _filters(report.query)))
    cells = "".join(f"<dt>{_text(k)}</dt><dd>{_text(v)}</dd>" for k, v in rows)
    return f'<dl class="source">{cells}</dl>'


def _evidence_summary(report: AuditReport) -> str:
    if not report.evidence_known:
        return "unknown: this clone holds no evidence notes (fetch refs/notes/jitops)"
    return f"{len(report.unverified):,} grant(s) without valid approval evidence"


def _filters(query: AuditQuery) -> str:
    parts = [
        *(f"--user {u}" for u in sorted(query.users)),
        *(f"--target {t}" for t in sorted(query.targets)),
        *(f"--role {r}" for r in sorted(query.roles)),
        *(f"--approver {a}" for a in sorted(query.approvers)),
    ]
    for flag, moment in (
        ("--since", query.since),
        ("--until", query.until),
        ("--active-at", query.active_at),
    ):
        if moment is not None:
            parts.append(f"{flag} {moment.isoformat()}")
    return " ".join(parts)


def _problems(report: AuditReport) -> str:
    items = [
        f"<li><code>{_text(f.path)}</code>: {_text(f.message)}"
        + (f" — {_text(f.hint)}" if f.hint else "")
        + "</li>"
        for f in report.findings
    ]
    items += [
        f'<li><a href="#{_anchor(r)}"><code>{_text(r.request.id)}</code></a> '
        f"(@{_text(r.request.requester)}, {_text(r.request.target)}/{_text(r.request.role)}, "
        f"landed {_text(r.landed_commit[:12])}): {_text(r.problem)}</li>"
        for r in report.records
        if r.problem is not None
    ]
    if not items:
        return '<p class="ok" id="problems">No problems: every grant shown has valid evidence.</p>'
    return f'<ul class="problems" id="problems">{"".join(items)}</ul>'


def _anchor(record: AuditRecord) -> str:
    return f"g-{record.landed_commit[:12]}-{record.request.id}"


# A timeline of more lanes than this reads as noise and slows the page; the table below it
# lists every grant whatever the count, and the filters narrow both.
TIMELINE_LANES = 200


def _timeline(records: Iterable[AuditRecord], generated: datetime) -> str:
    """One lane per person and target, a bar per grant from its start to its end: every lane
    up to ``TIMELINE_LANES``, else those whose access ended last, saying so."""
    everything: dict[tuple[str, str], list[AuditRecord]] = {}
    for record in records:
        key = (record.request.requester.lower(), record.request.target)
        everything.setdefault(key, []).append(record)
    if not everything:
        return "<p>No grants to show.</p>"
    note = ""
    lanes = everything
    if len(everything) > TIMELINE_LANES:
        latest = sorted(everything, key=lambda k: _last_end(everything[k], generated))
        lanes = {k: everything[k] for k in latest[-TIMELINE_LANES:]}
        note = (
            f"<p>The timeline shows the {TIMELINE_LANES} of {len(everything):,} people and "
            "targets whose access ended last; the table below lists every grant, and "
            "<code>--user</code>, <code>--target</code> or <code>--since</code> narrow both.</p>"
        )
    spans = [
        (r.window_start or r.landed_at, r.held_until or generated)
        for held in lanes.values()
        for r in held
    ]
    first = min(start for start, _ in spans)
    last = max(end for _, end in spans)
    total = max((last - first).total_seconds(), 1.0)
    rows = []
    for (person, target), held in sorted(lanes.items()):
        bars = []
        placed = _tracks(held, generated)
        for track, r in placed:
            start = r.window_start or r.landed_at
            end = r.held_until or generated
            left = (start - first).total_seconds() / total * 100
            width = max((end - start).total_seconds() / total * 100, 0.0)
            label = f"{r.request.id}: {r.request.role}, {_moment(start)} – {_moment(end)}"
            bars.append(
                f'<a class="bar {_kind(r)}" href="#{_anchor(r)}" title="{_text(label)}" '
                f'style="left:{left:.3f}%;width:{width:.3f}%;top:{track * 1.3}em"></a>'
            )
        height = (1 + max(track for track, _ in placed)) * 1.3
        rows.append(
            f'<div class="who">@{_text(person)} · {_text(target)}</div>'
            f'<div class="lane" style="height:{height:.1f}em">{"".join(bars)}</div>'
        )
    ticks = [first + (last - first) * i / 4 for i in range(5)]
    axis = "".join(f"<span>{t:%Y-%m-%d %H:%M}</span>" for t in ticks)
    legend = (
        '<p class="legend"><span style="background:#0969da"></span>approved'
        '<span style="background:#cf222e"></span>without valid evidence'
        '<span style="background:#bf8700"></span>evidence not in this clone (times UTC)</p>'
    )
    return (
        f'{note}<div class="timeline" id="timeline">{"".join(rows)}<div></div>'
        f'<div class="axis">{axis}</div></div>{legend}'
    )


def _last_end(held: list[AuditRecord], generated: datetime) -> datetime:
    return max(r.held_until or generated for r in held)


def _tracks(held: list[AuditRecord], generated: datetime) -> list[tuple[int, AuditRecord]]:
    """Each grant of a lane with the track it is drawn on: grants that overlap in time go on
    tracks of their own, so no bar hides another (the first track that is free by then)."""
    ends: list[datetime] = []  # the end of the last bar on each track
    placed = []
    for record in sorted(held, key=lambda r: r.window_start or r.landed_at):
        start = record.window_start or record.landed_at
        track = next((i for i, end in enumerate(ends) if end <= start), len(ends))
        if track == len(ends):
            ends.append(start)
        ends[track] = record.held_until or generated
        placed.append((track, record))
    return placed


# Rows the page lists at once: past this a browser takes seconds to build the table (a 55,000-
# grant history is 600,000 cells), so the rest travel as data the page's own script lists a
# page at a time, searched as typed.
PAGE = 200

_HEADER = (
    "request",
    "who",
    "access",
    "from",
    "until",
    "revoked",
    "approved by",
    "pull request",
    "policies of",
    "evidence",
    "justification",
)
# The cells of a grant, in _HEADER's order after the row's anchor and class; the script and
# _row_html read them by these positions.
_PULL, _MONO = 9, (2, 10)


def _cells(record: AuditRecord) -> list[str | int | None]:
    request = record.request
    return [
        _anchor(record),
        _kind(record),
        request.id,
        f"@{request.requester}",
        f"{request.target}/{request.role}",
        _moment(record.window_start),
        _moment(record.held_until),
        revoked_text(record),
        approved_by(record),
        record.pull_request,
        (record.policy_commit or "—")[:12],
        evidence_of(record),
        request.justification,
    ]


def _row_html(cells: list[str | int | None], repository_url: str | None) -> str:
    out = []
    for index, value in enumerate(cells[2:], start=2):
        if index == _PULL:
            if value is None:
                out.append("<td>—</td>")
            elif repository_url is None:
                out.append(f"<td>#{int(value)}</td>")
            else:
                href = f"{_text(repository_url)}/pull/{int(value)}"
                out.append(f'<td><a href="{href}">#{int(value)}</a></td>')
        elif index in _MONO:
            out.append(f'<td class="mono">{_text(value)}</td>')
        else:
            out.append(f"<td>{_text(value)}</td>")
    anchor, kind, grant = (_text(v) for v in cells[:3])
    return f'<tr id="{anchor}" class="{kind}" data-grant="{grant}">{"".join(out)}</tr>'


def _data_json(rows: list[list[str | int | None]]) -> str:
    """The grants as JSON text safe inside a ``<script type="application/json">``: no ``<``,
    ``>`` or ``&`` appears raw, so nothing people wrote can end the element or start one."""
    text = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# Lists the grants a page at a time and searches them; every value reaches the page as text
# (textContent), never as markup. The Content-Security-Policy allows this script alone, by its
# hash: no other script can run on the page, whatever its text holds.
_SCRIPT = """(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("grant-data").textContent);
  var table = document.getElementById("grants");
  var repo = table.getAttribute("data-repository") || "";
  var size = Number(table.getAttribute("data-page"));
  var body = table.tBodies[0], status = document.getElementById("grant-pages");
  var search = document.getElementById("grant-search");
  var prev = document.getElementById("grant-prev"), next = document.getElementById("grant-next");
  var shown = data, page = 0;
  function cell(tr, text, href, mono) {
    var td = document.createElement("td");
    if (mono) td.className = "mono";
    if (href) {
      var a = document.createElement("a");
      a.href = href;
      a.textContent = text;
      td.appendChild(a);
    } else {
      td.textContent = text;
    }
    tr.appendChild(td);
  }
  function render() {
    var all = location.hash === "#all";
    var start = all ? 0 : page * size;
    var end = all ? shown.length : Math.min(start + size, shown.length);
    var rows = document.createDocumentFragment();
    for (var i = start; i < end; i++) {
      var g = shown[i], tr = document.createElement("tr");
      tr.id = g[0];
      tr.className = g[1];
      tr.setAttribute("data-grant", g[2]);
      for (var c = 2; c < g.length; c++) {
        if (c === 9) {
          var pull = g[c] === null ? "\u2014" : "#" + g[c];
          cell(tr, pull, g[c] !== null && repo ? repo + "/pull/" + g[c] : null, false);
        } else {
          cell(tr, String(g[c]), null, c === 2 || c === 10);
        }
      }
      rows.appendChild(tr);
    }
    body.replaceChildren(rows);
    status.textContent = shown.length
      ? "grants " + (start + 1) + "\u2013" + end + " of " + shown.length
      : "no grant matches";
    prev.disabled = all || page === 0;
    next.disabled = all || end >= shown.length;
  }
  function go(anchor) {
    for (var i = 0; i < shown.length; i++) {
      if (shown[i][0] === anchor) {
        page = Math.floor(i / size);
        render();
        document.getElementById(anchor).scrollIntoView();
        return;
      }
    }
  }
  search.addEventListener("input", function () {
    var words = search.value.toLowerCase();
    shown = words ? data.filter(function (g) {
      return g.slice(2).join(" ").toLowerCase().indexOf(words) !== -1;
    }) : data;
    page = 0;
    render();
  });
  prev.addEventListener("click", function () { page -= 1; render(); });
  next.addEventListener("click", function () { page += 1; render(); });
  window.addEventListener("hashchange", function () {
    if (location.hash.indexOf("#g-") === 0) go(location.hash.slice(1)); else render();
  });
  for (var e of document.querySelectorAll(".pager")) e.hidden = false;
  if (location.hash.indexOf("#g-") === 0) go(location.hash.slice(1)); else render();
})();
"""
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(_SCRIPT.encode("utf-8")).digest()).decode()
_POLICY = (
    f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{_SCRIPT_HASH}'; "
    "img-src data:; form-action 'none'"
)


def _grants(report: AuditReport) -> str:
    """The table of grants: the first page in the page itself, all of them as data."""
    rows = [_cells(r) for r in report.records]
    head = "".join(f"<th>{_text(h)}</th>" for h in _HEADER)
    first = "\n".join(_row_html(cells, report.repository_url) for cells in rows[:PAGE])
    more = ""
    if len(rows) > PAGE:
        more = (
            f"<noscript><p>The first {PAGE} of {len(rows):,} grants are listed; the page's "
            "script lists the rest (or use <code>--format csv</code>).</p></noscript>"
        )
    pager = (
        '<p class="pager" hidden><input type="search" id="grant-search" '
        'placeholder="search the grants" aria-label="search the grants"> '
        '<button type="button" id="grant-prev">previous</button> '
        '<button type="button" id="grant-next">next</button> '
        f'<span id="grant-pages">grants 1–{min(PAGE, len(rows))} of {len(rows)}</span></p>'
    )
    repository = (
        f' data-repository="{_text(report.repository_url)}"' if report.repository_url else ""
    )
    return (
        f"{more}{pager}"
        f'<table id="grants" data-page="{PAGE}"{repository}><thead><tr>{head}</tr></thead>\n'
        f"<tbody>\n{first}\n</tbody></table>\n"
        f'<script type="application/json" id="grant-data">{_data_json(rows)}</script>\n'
        f"<script>{_SCRIPT}</script>\n"
    )


_ACTION_HEADER = (
    "action request", "who", "action", "approved by", "pull request", "outcome", "at",
    "ran as", "rows affected", "result digest", "error",
)  # fmt: skip


def _actions(report: AuditReport) -> str:
    """The table of action requests: who asked for which action, who approved it, and what
    became of it — every one, escaped (an error is the target's text)."""
    if not report.actions:
        query = report.query
        narrowed = query is not None and replace(query, only_actions=False).asks
        said = "match the filters" if narrowed else "are on the branch"
        return f'<p class="ok">No action requests {said}.</p>\n'
    head = "".join(f"<th>{_text(h)}</th>" for h in _ACTION_HEADER)
    rows = []
    for action in report.actions:
        number = action.pull_request
        if number is None:
            pull = "—"
        elif report.repository_url is None:
            pull = f"#{number}"
        else:
            pull = f'<a href="{_text(report.repository_url)}/pull/{number}">#{number}</a>'
        state = action.state
        kind = "problem" if state == "failed" else "unknown" if state == "started" else ""
        cells = [
            f'<td class="mono">{_text(action.request_id)}</td>',
            f"<td>@{_text(action.requester)}</td>",
            f"<td>{_text(action.target)}/{_text(action.action)}</td>",
            f"<td>{_text(' '.join(f'@{a}' for a in action.approvers) or '—')}</td>",
            f"<td>{pull}</td>",
            f"<td>{_text(state)}</td>",
            f"<td>{_moment(action.at)}</td>",
            f"<td>{_text(action.detail('identity') or '—')}</td>",
            f"<td>{_text('—' if action.rows_affected is None else action.rows_affected)}</td>",
            f'<td class="mono">{_text((action.detail("digest") or "—")[:12])}</td>',
            f"<td>{_text(action.detail('error') or '')}</td>",
        ]
        rows.append(f'<tr class="{kind}">{"".join(cells)}</tr>')
    body = "\n".join(rows)
    return (
        f'<table id="actions"><thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table>\n'
    )


def audit_html(report: AuditReport, generated: datetime) -> str:
    """The whole page for ``report``, generated at ``generated``."""
    title = f"jitops audit — {report.repository_url or 'access repository'} at {report.commit[:12]}"
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_text(title)}</title><style>{_STYLE}</style></head>\n"
        f"<body><h1>Access audit</h1>{_source(report, generated)}\n"
        f"<h2>Problems</h2>{_problems(report)}\n"
        f"<h2>Access over time</h2>{_timeline(report.records, generated)}\n"
        f"<h2>Every grant</h2>{_grants(report)}"
        f"<h2>Every action request</h2>{_actions(report)}"
        "</body></html>\n"
    )
