"""README's examples run, and print what README quotes: each command line README shows in an
example is run here as written (in a repository shaped as the example says), and where README
quotes its output every quoted line is in what it printed (a request id, dated the day it runs,
stands in for the one README shows; ``…`` marks lines README leaves out).

Other examples are held where their subject is tested: validate's (tests/e2e/test_validate.py),
doctor's (tests/e2e/test_doctor.py), the demo's steps (tests/e2e/test_demo.py)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.e2e.conftest import CLI
from tests.gitrepo import PROJECT, make_access_repo
from tests.test_installed_from import COMMIT, recorded

README = (PROJECT / "README.md").read_text(encoding="utf-8")
README_ID = re.compile(r"\d{4}-\d{2}-\d{2}-alice-sandbox-db-readwrite-[a-z0-9]{4}")


def code_blocks() -> list[list[str]]:
    blocks: list[list[str]] = []
    current: list[str] | None = None
    for line in README.splitlines():
        if line.startswith("```"):
            if current is None:
                current = []
            else:
                blocks.append(current)
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def block_starting(first: str) -> list[str]:
    [block] = [b for b in code_blocks() if b and b[0].startswith(first)]
    return block


def run_line(cli: CLI, line: str, cwd: Path) -> tuple[int, str]:
    words = shlex.split(line)
    assert words[0] == "jitops", line
    result = cli(*words[1:], cwd=cwd)
    return result.code, result.out + result.err


def test_the_request_example_prints_what_readme_quotes(
    tmp_path: Path, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_access_repo(tmp_path / "access")
    monkeypatch.setenv("GITHUB_ACTOR", "alice")  # the example names no --requester
    [command, *quoted] = block_starting("$ jitops request ")
    code, printed = run_line(cli, command.removeprefix("$ "), repo)
    assert code == 0, printed
    written = README_ID.search(printed)
    assert written, printed
    lines = printed.splitlines()
    for line in quoted:
        if line.strip() == "…":
            continue
        assert README_ID.sub(written.group(0), line) in lines, (line, printed)


def test_the_init_example_makes_a_repository_every_check_passes(
    tmp_path: Path, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the example assumes a jitops installed from GitHub (pip records the commit)
    recorded(
        monkeypatch,
        {"url": "https://github.com/acme/jitops", "vcs_info": {"vcs": "git", "commit_id": COMMIT}},
    )
    init, then = block_starting("jitops init access")
    code, printed = run_line(cli, init, tmp_path)
    assert code == 0, printed
    directory, _, checks = then.partition(" && ")
    assert directory == "cd access"
    for line in checks.split(" && "):
        code, printed = run_line(cli, line, tmp_path / "access")
        assert code == 0, (line, printed)

    # README's example of a workflow step is what init wrote, line for line
    [snippet] = [b for b in code_blocks() if any("command: check-pr" in line for line in b)]
    check = (tmp_path / "access" / ".github" / "workflows" / "jitops-check.yml").read_text()
    assert all(line in check.splitlines() for line in snippet), check


@pytest.mark.parametrize(
    "line", [line for line in sum(code_blocks(), []) if line.startswith("jitops audit ")]
)
def test_the_audit_examples_run(tmp_path: Path, cli: CLI, line: str) -> None:
    repo = make_access_repo(tmp_path / "access", with_requests=True)
    command, _, redirected = line.partition(" > ")  # a redirection is the shell's
    code, printed = run_line(cli, command, repo)
    assert code == 0, printed
    if "--format csv" in line:  # the columns README's table lists, in its order
        table = README.split("| column | what it holds |", 1)[1].split("\n\n", 1)[0]
        columns = re.findall(r"^\| `([a-z_]+)` \|", table, re.M)
        assert printed.splitlines()[0].split(",") == columns, printed
        assert "2026-11-20-alice-orders-latency,alice,sandbox-db" in printed
    if redirected:
        assert redirected.endswith(".md") and printed.startswith("#"), printed


def yaml_examples() -> list[str]:
    """README's YAML blocks that are whole jitops files (the modeline example shows only a
    file's first lines)."""
    found, current = [], None
    for line in README.splitlines():
        if current is None and line == "```yaml":
            current = []
        elif current is not None and line.startswith("```"):
            text = "\n".join(current) + "\n"
            if re.search(r"^kind: ", text, re.M) and not text.startswith("# yaml-language"):
                found.append(text)
            current = None
        elif current is not None:
            current.append(line)
    return found


@pytest.mark.parametrize("text", yaml_examples(), ids=lambda t: t.split("kind: ")[1].split()[0])
def test_each_yaml_example_is_a_valid_file_of_its_kind(text: str) -> None:
    from jitops.repo import POLICY_MODELS, POLICY_TEST_MODELS, REQUEST_MODELS, parse
    from jitops.repo.action_loading import ACTION_MODELS

    models = {**REQUEST_MODELS, **POLICY_MODELS, **POLICY_TEST_MODELS, **ACTION_MODELS}
    _, model, findings = parse(text.encode(), "README.md", models, "")
    assert model is not None and findings == [], [f.text for f in findings]
