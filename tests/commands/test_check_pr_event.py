"""Which pull request an Actions event asks the check about — and which events it refuses.

``workflow_run`` is the review path: the relay (``jitops-review-relay.yml``) runs on a
``pull_request_review`` with no secrets, and its completion starts ``jitops-review.yml`` on the
default branch. Anyone with push access can add a workflow of the relay's *name* on any branch;
only a run of the relay file itself, made by a review, may start a recompute.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from jitops.commands.check_pr import RELAY_WORKFLOW, pr_number_from_event
from jitops.errors import UsageError
from tests.gitrepo import PROJECT

EXAMPLES = PROJECT.parent / "shared" / "github" / "webhook-examples"


def _run_event(tmp_path: Path, **run: object) -> Path:
    """A workflow_run payload carrying the fields the check reads (the OpenAPI description's
    ``workflow-run``: ``event``, ``path``, ``pull_requests[].number``)."""
    fields = {"event": "pull_request_review", "path": RELAY_WORKFLOW, "id": 9}
    fields["pull_requests"] = [{"number": 12, "id": 1, "url": "u", "head": {}, "base": {}}]
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"action": "completed", "workflow_run": {**fields, **run}}))
    return path


def test_the_relay_made_by_a_review_names_its_pull_request(tmp_path: Path) -> None:
    assert pr_number_from_event("workflow_run", _run_event(tmp_path)) == 12
    qualified = f"acme/access/{RELAY_WORKFLOW}@refs/heads/main"
    event = _run_event(tmp_path, path=qualified)
    assert pr_number_from_event("workflow_run", event, "acme/access") == 12


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("path", ".github/workflows/look-alike.yml"),  # same name, another file
        ("path", "evil/fork/.github/workflows/jitops-review-relay.yml@main"),
        ("path", None),
        ("event", "push"),  # the relay's file, run by a push to a writer's branch
        ("event", "workflow_dispatch"),
    ],
)
@pytest.mark.attack(2, "a look-alike review relay cancelling a recompute")
def test_a_look_alike_relay_run_is_refused(tmp_path: Path, field: str, value: object) -> None:
    """Attack (the review relay): a writer's workflow named "jitops review relay", or the
    relay file run by another event, would start a recompute that cancels a real one."""
    with pytest.raises(UsageError, match="not a run of"):
        pr_number_from_event("workflow_run", _run_event(tmp_path, **{field: value}), "acme/x")


def test_a_review_event_names_its_pull_request() -> None:
    example = EXAMPLES / "pull_request_review.0.json"
    if not example.is_file():
        pytest.skip("../shared/github/webhook-examples is absent (real GitHub payloads)")
    number = json.loads(example.read_text())["pull_request"]["number"]
    assert pr_number_from_event("pull_request_review", example) == number


def test_the_review_workflow_trusts_only_the_relay_and_keys_concurrency_by_the_pull() -> None:
    """The recompute job runs only for a run of the relay file made by a review, and its
    concurrency group (the job's: a skipped run cancels nothing) is the pull request's."""
    from ruamel.yaml import YAML

    for path in (
        PROJECT / ".github" / "workflows" / "jitops-review.yml",
        PROJECT / "jitops" / "templates" / "workflows" / "jitops-review.yml",
    ):
        # the template's placeholders: a block's line goes, an inline one becomes a word
        text = re.sub(r"(?m)^ *%\{[^}]+\}\n", "", path.read_text())
        text = re.sub(r"%\{[^}]+\}", "x", text)
        workflow = YAML(typ="safe").load(text)
        assert "concurrency" not in workflow, "a workflow-level group would let any run cancel"
        (job,) = workflow["jobs"].values()
        assert "github.event.workflow_run.event == 'pull_request_review'" in job["if"]
        assert RELAY_WORKFLOW in job["if"]
        assert "workflow_run.pull_requests[0].number" in job["concurrency"]["group"]
        assert "head_sha" not in job["concurrency"]["group"]
