"""The demo's story: people and workflows, step by step, each checked against what should happen.

The people act on the GitHub test server as users would (the requester runs the real
``jitops request --open-pr`` in her own clone; others review and merge; an attacker pushes to a
pull request's branch); the workflows are jitops' own command functions, run the way the workflow
files run them: a fresh checkout of the default branch, the event payload the server produced
in ``GITHUB_EVENT_PATH``, the workflow token, and the target secret only where the real job has
it. Every step ends with checks of what actually happened (a status on GitHub, a row read from
PostgreSQL, a merged pull request); one that fails stops the story with ``StepFailed``.

Narration goes out as ``Line`` values through ``say``; ``jitops.report.text.demo_text``
renders them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from jitops.demo.acting import ACTION, ORDER, Acting
from jitops.demo.ending import Ending
from jitops.demo.granting import Granting
from jitops.demo.lines import Line, Tone
from jitops.demo.opening import Opening
from jitops.demo.probes import pg_reason
from jitops.demo.reviewing import Reviewing
from jitops.demo.scene import APPROVER, AUDITOR, REQUESTER, REVIEWER, StepFailed
from jitops.demo.world import REPOSITORY, ROLE, TABLE, TARGET
from jitops.errors import JitopsError
from jitops.testing.github import HubError


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    run: Callable[[], None]


@dataclass(frozen=True)
class StepResult:
    number: int
    key: str
    title: str
    passed: bool
    detail: str = ""


class Story(Opening, Reviewing, Granting, Acting, Ending):
    """The whole loop, as steps. ``run`` plays them in order and stops at the first failure."""

    # -- the steps -------------------------------------------------------------------------

    def steps(self) -> list[Step]:
        titles = [
            ("setup", "The world: a GitHub organisation, an access repository, a database"),
            ("request", f"{REQUESTER} asks for {ROLE} on {TARGET}"),
            ("unqualified-review", f"{REVIEWER} approves, but she is no db-lead"),
            ("approval", f"{APPROVER} approves: he is a db-lead"),
            ("stale-push", f"Attack: {REQUESTER} changes her request after the approval"),
            ("merge", f"{APPROVER} approves the new version; {REQUESTER} merges"),
            ("apply", "The apply workflow re-verifies through the API, then grants"),
            ("read", f"{REQUESTER} reads the {TABLE} table"),
            ("sweep", "Time passes; the sweep workflow revokes at expiry"),
            ("revoked", f"{REQUESTER}'s access is gone"),
            ("action-request", f"{REQUESTER} asks jitops to run one UPDATE ({ACTION})"),
            ("action-review", f"{APPROVER} asks for a WHERE; {REQUESTER} adds it; he approves"),
            ("perform", f"apply performs it once: order {ORDER} fixed, nobody held access"),
            ("audit", f"{AUDITOR} (security) audits from git alone"),
        ]
        return [Step(key, title, getattr(self, key.replace("-", "_"))) for key, title in titles]

    def run(self) -> list[StepResult]:
        results: list[StepResult] = []
        for number, step in enumerate(self.steps(), 1):
            self.say(f"{number}. {step.title}", Tone.HEADING)
            try:
                if self.inject is not None and self._world is not None:
                    self.inject(step.key, self._world)
                step.run()
            except (StepFailed, JitopsError, psycopg.Error, HubError) as exc:
                detail = _message(exc)
                self.say(
                    f"step {number} ({step.key}) did not behave as expected: {detail}", Tone.FAIL
                )
                results.append(StepResult(number, step.key, step.title, False, detail))
                break
            except KeyboardInterrupt:
                self.say(f"interrupted at step {number} ({step.key}); stopping", Tone.FAIL)
                raise
            except BaseException:
                self.say(f"step {number} ({step.key}) broke: see the error below", Tone.FAIL)
                raise
            results.append(StepResult(number, step.key, step.title, True))
        return results


def _message(exc: BaseException) -> str:
    if isinstance(exc, JitopsError):
        return exc.message
    if isinstance(exc, HubError):
        return f"GitHub refused: {exc.message}"
    if isinstance(exc, psycopg.Error):
        return pg_reason(exc)
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def intro() -> list[Line]:
    return [
        Line(Tone.TITLE, "jitops demo — the whole loop on this machine, with no GitHub account"),
        Line(Tone.SAY, "GitHub is jitops' test server (real git behind GitHub's REST API), the"),
        Line(Tone.SAY, "database a real PostgreSQL; both run only for the demo. The demo plays"),
        Line(Tone.SAY, "the people; the workflows' part is played by jitops' own code."),
    ]


def summary(
    results: tuple[StepResult, ...] | list[StepResult],
    steps: list[Step],
    seconds: float,
    kept: Path | None,
) -> list[Line]:
    lines = [Line(Tone.HEADING, "Summary")]
    done = {r.number: r for r in results}
    for number, step in enumerate(steps, 1):
        result = done.get(number)
        if result is None:
            lines.append(Line(Tone.SKIP, f"{number}. {step.title} (not run)"))
        elif result.passed:
            lines.append(Line(Tone.OK, f"{number}. {step.title}"))
        else:
            detail = result.detail if len(result.detail) < 100 else result.detail[:99] + "…"
            lines.append(Line(Tone.FAIL, f"{number}. {step.title}: {detail}"))
    passed = sum(r.passed for r in results)
    verdict = (
        "the whole loop behaved as expected"
        if passed == len(steps)
        else f"stopped at step {len(results)}: {passed} of {len(steps)} steps behaved as expected"
    )
    where = (
        f"servers stopped; the repositories, checkouts, event payloads and PostgreSQL's data "
        f"are kept in {kept}"
        if kept
        else "servers stopped, temporary files removed"
    )
    lines.append(Line(Tone.SUMMARY, f"{verdict} in {seconds:.1f} s; {where}."))
    if kept:
        history = kept / "github" / "repos" / f"{REPOSITORY}.git"
        lines.append(Line(Tone.SAY, f"its history: git -C {history} log --graph --oneline main"))
    return lines
