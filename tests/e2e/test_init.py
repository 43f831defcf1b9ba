"""``jitops init`` end to end: real folders and git repositories in ``tmp_path``.

A repository init creates must pass validate, test and doctor at once; reruns change nothing;
a file that differs is kept unless --force (policies never); --dry-run writes nothing; bad input
is refused with nothing written; a write that fails is undone.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from jitops import __version__
from jitops.templates import Install, WorkflowSettings, render_workflows
from tests.e2e.conftest import CLI
from tests.gitrepo import (
    PROJECT,
    commit_all,
    git,
    init_repo,
    make_access_repo,
    write_teamless_policies,
)
from tests.test_installed_from import github_clone, recorded

# The jitops action the workflows use: given, so what init writes never depends on where the
# jitops under test was installed from (tests/test_installed_from.py covers that).
PIN = "acme/jitops@" + "0123456789abcdef" * 2 + "01234567"
ACTION = ("--action", PIN)
WORKFLOW_FILES = [
    f".github/workflows/{name}"
    for name in (
        "jitops-check.yml",
        "jitops-review-relay.yml",
        "jitops-review.yml",
        "jitops-apply.yml",
        "jitops-sweep.yml",
    )
]
STARTER_FILES = [
    "policies/targets.yaml",
    "policies/sandbox-db.yaml",
    "policies/policy-changes.yaml",
    "policies/tests/sandbox-db.yaml",
    "requests/.gitkeep",
    ".github/CODEOWNERS",
    *WORKFLOW_FILES,
]


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (outside .git) with its bytes; {} when it does not exist."""
    if not root.exists():
        return {}
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def initialised(tmp_path: Path, cli: CLI, *args: str) -> Path:
    root = tmp_path / "access"
    result = cli("init", *ACTION, str(root), "--org", "acme", "--security-team", "@acme/sec", *args)
    assert result.code == 0, result.output
    return root


def test_a_new_folder_becomes_an_access_repository_every_check_passes(
    tmp_path: Path, cli: CLI
) -> None:
    root = tmp_path / "new" / "access"
    result = cli("init", *ACTION, str(root), "--org", "acme", "--security-team", "@acme/sec")
    assert result.code == 0, result.output
    assert sorted(snapshot(root)) == sorted(STARTER_FILES)
    assert git(root, "symbolic-ref", "--short", "HEAD").strip() == "main"
    for path in STARTER_FILES:
        assert f"create     {path}" in result.out
    assert "jitops init: 11 created, 0 replaced, 0 unchanged, 0 kept" in result.err

    validate = cli("validate", "--repo", str(root))
    assert validate.code == 0, validate.output
    assert "0 errors, 0 denied, 0 warnings" in validate.err
    tests = cli("test", "--repo", str(root))
    assert tests.code == 0, tests.output
    assert "6 passed, 0 failed" in tests.err
    doctor = cli("doctor", "--repo", str(root), "--offline")
    assert doctor.code == 0, doctor.output
    assert "✗" not in doctor.out
    assert doctor.out.count("✓ .github/workflows/") == 5
    assert "0 errors" in doctor.err

    # CODEOWNERS is jitops' own rendering of the starter policies, and routes to the team.
    owners = cli("codeowners", "--repo", str(root))
    assert owners.out == (root / ".github" / "CODEOWNERS").read_text()
    assert "* @acme/sec\n" in owners.out
    assert "/requests/sandbox-db/readwrite/ @acme/sec\n" in owners.out

    commit_all(root, "access repository")
    assert cli("validate", "--repo", str(root)).code == 0


def test_the_workflows_run_the_pinned_action_and_pass_the_targets_secret(
    tmp_path: Path, cli: CLI
) -> None:
    root = initialised(tmp_path, cli)
    repository, _, commit = PIN.partition("@")
    expected = render_workflows(
        WorkflowSettings(
            Install.action(repository, commit), "main", ("JITOPS_SANDBOX_DB_PASSWORD",)
        )
    )
    for name, text in expected.items():
        assert (root / ".github" / "workflows" / name).read_text() == text
    texts = "".join(snapshot(root)[p].decode() for p in WORKFLOW_FILES)
    # check, review, apply; sweep, scheduled apply, reconcile and audit in the sweep
    assert texts.count(f"uses: {PIN}\n") == 7
    assert "pip install" not in texts and "run: jitops" not in texts
    apply = (root / ".github/workflows/jitops-apply.yml").read_text()
    assert "command: apply --catch-up --push-notes\n" in apply
    assert "JITOPS_SANDBOX_DB_PASSWORD: ${{ secrets.JITOPS_SANDBOX_DB_PASSWORD }}" in apply


def test_release_installs_this_release_pinned_from_the_index(tmp_path: Path, cli: CLI) -> None:
    root = tmp_path / "access"
    result = cli("init", str(root), "--org", "acme", "--release")
    assert result.code == 0, result.output
    assert f"the workflows run Install jitops {__version__} (--release)" in result.out
    expected = render_workflows(
        WorkflowSettings(Install.release(__version__), "main", ("JITOPS_SANDBOX_DB_PASSWORD",))
    )
    for name, text in expected.items():
        assert (root / ".github" / "workflows" / name).read_text() == text
    apply = (root / ".github/workflows/jitops-apply.yml").read_text()
    assert f"pip install --quiet 'jitops[postgres,aws]=={__version__}'" in apply
    assert "uses: acme/jitops" not in apply


@pytest.mark.parametrize(
    "args, words",
    [
        (("--action", "acme/jitops@main"), "not OWNER/NAME@COMMIT"),
        (("--action", "acme/jitops@" + "A" * 40), "not OWNER/NAME@COMMIT"),  # not lowercase hex
        (("--action", "acme@" + "a" * 40), "not OWNER/NAME@COMMIT"),
        (("--action", "-x/jitops@" + "a" * 40), "not OWNER/NAME@COMMIT"),
    ],
)
@pytest.mark.attack(3, "run the workflows' jitops from a branch or tag that can move")
def test_an_action_that_is_not_a_pinned_commit_is_refused(
    tmp_path: Path, cli: CLI, args: tuple[str, ...], words: str
) -> None:
    """Attack (a moving pin): a branch or tag in `uses:` runs whatever it names on the day
    the workflow runs, so init takes only a full commit SHA — nothing is written otherwise."""
    root = tmp_path / "access"
    result = cli("init", str(root), "--org", "acme", *args)
    assert result.code == 2, result.output
    assert words in result.err
    assert snapshot(root) == {}


def test_the_action_and_a_release_at_once_are_refused(tmp_path: Path, cli: CLI) -> None:
    result = cli("init", str(tmp_path / "access"), "--org", "acme", "--action", PIN, "--release")
    assert result.code == 2
    assert "give one of them" in result.err
    assert not (tmp_path / "access").exists()


def test_the_next_steps_say_exactly_what_to_set_up_on_github(tmp_path: Path, cli: CLI) -> None:
    root = tmp_path / "access"
    out = cli("init", *ACTION, str(root), "--org", "acme").out
    steps = out[out.index("Next steps:") :]
    flat = " ".join(steps.split())
    for said in (
        "GitHub Environment `jitops`",
        "Selected branches: `main`",
        "secrets: JITOPS_SANDBOX_DB_PASSWORD.",
        "(@acme/engineering, @acme/security)",
        "JITOPS_READ_ORG_TOKEN",
        "`jitops-read-org`",
        "never as a repository secret",
        "require the status check `jitops/approval`",
        "require review from Code Owners",
        "dismiss stale approvals",
        "require approval of the most recent push",
        "administrators included",
        '"Allow auto-merge"',
        "Run `jitops doctor`",
    ):
        assert said in flat
    assert all(len(line) <= 100 for line in steps.splitlines())


def test_policies_that_name_no_team_need_no_org_token(tmp_path: Path, cli: CLI) -> None:
    root = write_teamless_policies(init_repo(tmp_path / "access"))
    result = cli("init", *ACTION, str(root))  # no --org: no starter is written, so none is needed
    assert result.code == 0, result.output
    assert "JITOPS_READ_ORG_TOKEN" not in result.out
    assert "secrets: none yet" in " ".join(result.out.split())
    sweep = (root / ".github/workflows/jitops-sweep.yml").read_text()
    reconcile = sweep.split("command: reconcile\n", 1)[1].split("      - name:", 1)[0]
    assert reconcile == "        env:\n          GITHUB_TOKEN: ${{ github.token }}\n"
    assert cli("validate", "--repo", str(root)).code == 0
    assert cli("doctor", "--repo", str(root), "--offline").code == 0


def test_a_notify_channel_s_secrets_reach_every_step_that_tells_it(
    tmp_path: Path, cli: CLI
) -> None:
    root = write_teamless_policies(init_repo(tmp_path / "access"))
    (root / "policies" / "notify.yaml").write_text(
        "apiVersion: jitops/v1\nkind: Notify\nname: slack\nchannel: slack\n"
        "secrets: {url: JITOPS_SLACK_URL}\n"
    )
    result = cli("init", *ACTION, str(root))
    assert result.code == 0, result.output
    line = "JITOPS_SLACK_URL: ${{ secrets.JITOPS_SLACK_URL }}"
    workflows = root / ".github" / "workflows"
    for name, count in (("check", 1), ("review", 1), ("apply", 1), ("sweep", 3)):
        assert (workflows / f"jitops-{name}.yml").read_text().count(line) == count, name
    steps = " ".join(result.out.split())
    assert "secrets: JITOPS_SLACK_URL" in steps  # the `jitops` Environment
    assert "The Notify channels' secrets (JITOPS_SLACK_URL)" in steps
    assert "`jitops-read-org`" in steps
    assert cli("doctor", "--repo", str(root), "--offline").code == 0


def test_an_existing_access_repository_keeps_its_policies_and_gets_their_secrets(
    tmp_path: Path, cli: CLI
) -> None:
    root = make_access_repo(tmp_path / "access")
    before = snapshot(root)
    result = cli("init", *ACTION, str(root))
    assert result.code == 0, result.output
    after = snapshot(root)
    assert {p: after[p] for p in before} == before, "nothing of the repository changed"
    assert "unchanged  .github/CODEOWNERS" in result.out
    assert "keep       policies/ — yours (7 YAML files)" in result.out
    # jitops' own workflows, but with the pinned action instead of the checkout's
    for path in WORKFLOW_FILES:
        own = (PROJECT / path).read_text().replace(Install.local().uses or "", PIN)
        assert after[path].decode() == own, path
    assert cli("doctor", "--repo", str(root), "--offline").code == 0


def test_org_and_default_branch_come_from_the_github_remote(tmp_path: Path, cli: CLI) -> None:
    root = init_repo(tmp_path / "access")
    git(root, "remote", "add", "origin", "git@github.com:Example-Org/access.git")
    commit_all(root, "first")
    git(root, "update-ref", "refs/remotes/origin/trunk", "HEAD")
    git(root, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/trunk")
    result = cli("init", *ACTION, str(root))
    assert result.code == 0, result.output
    assert "default branch trunk" in result.out
    assert "branches: [trunk]" in (root / ".github/workflows/jitops-apply.yml").read_text()
    assert '"@Example-Org/security"' in (root / "policies/policy-changes.yaml").read_text()
    assert "Selected branches: `trunk`" in " ".join(result.out.split())


def test_a_rerun_changes_nothing_and_says_so(tmp_path: Path, cli: CLI) -> None:
    root = initialised(tmp_path, cli)
    before = snapshot(root)
    result = cli("init", *ACTION, str(root), "--org", "acme", "--security-team", "@acme/sec")
    assert result.code == 0, result.output
    assert snapshot(root) == before
    assert "jitops init: 0 created, 0 replaced, 7 unchanged, 1 kept" in result.err
    for path in [".github/CODEOWNERS", "requests/.gitkeep", *WORKFLOW_FILES]:
        assert f"unchanged  {path}" in result.out
    # without --org too: with policies in place the organisation is not needed
    assert cli("init", *ACTION, str(root)).code == 0
    assert snapshot(root) == before


def test_a_file_that_differs_is_kept_unless_force_and_policies_always(
    tmp_path: Path, cli: CLI
) -> None:
    root = initialised(tmp_path, cli)
    apply = root / ".github/workflows/jitops-apply.yml"
    generated = apply.read_text()
    apply.write_text(generated + "# a local change\n")
    policy = root / "policies/sandbox-db.yaml"
    policy.write_text(policy.read_text().replace("max_duration: 8h", "max_duration: 2h"))
    edited = policy.read_text()

    kept = cli("init", *ACTION, str(root))
    assert kept.code == 0, kept.output
    assert (
        "keep       .github/workflows/jitops-apply.yml — differs from what init writes; "
        "--force replaces it"
    ) in kept.out
    assert apply.read_text() == generated + "# a local change\n"

    forced = cli("init", *ACTION, str(root), "--force")
    assert forced.code == 0, forced.output
    assert "replace    .github/workflows/jitops-apply.yml" in forced.out
    assert apply.read_text() == generated
    assert policy.read_text() == edited, "--force never replaces policies"


def test_dry_run_writes_nothing(tmp_path: Path, cli: CLI) -> None:
    new = tmp_path / "access"
    result = cli("init", *ACTION, str(new), "--org", "acme", "--dry-run")
    assert result.code == 0, result.output
    assert not new.exists()
    assert "would run      git init --initial-branch=main" in result.out
    assert "would create   .github/workflows/jitops-check.yml" in result.out
    assert "11 to create, 0 to replace" in result.err
    assert "dry run: nothing was written" in result.err

    root = initialised(tmp_path / "other", cli)
    (root / ".github/CODEOWNERS").write_text("* @someone\n")
    before = snapshot(root)
    forced = cli("init", *ACTION, str(root), "--force", "--dry-run")
    assert forced.code == 0, forced.output
    assert "would replace  .github/CODEOWNERS" in forced.out
    assert snapshot(root) == before


def test_an_existing_yaml_workflow_is_the_one_compared_never_a_second_copy(
    tmp_path: Path, cli: CLI
) -> None:
    root = init_repo(tmp_path / "access")
    workflows = root / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "jitops-check.yaml").write_text("name: jitops check\n")
    result = cli("init", *ACTION, str(root), "--org", "acme")
    assert result.code == 0, result.output
    assert "keep       .github/workflows/jitops-check.yaml" in result.out
    assert not (workflows / "jitops-check.yml").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "acme", "--security-team", "security"], "'security' is not a team"),
        (["--org", "acme", "--security-team", "@acme/sec team"], "is not a team"),
        (["--security-team", "@acme/"], "is not a team"),
        (["--org", "acme", "--security-team", "@other/sec"], "is a team of other, not of acme"),
        (["--org", "-acme"], "is not a GitHub organisation name"),
        (["--org", "acme", "--default-branch", "no"], "is not a branch name"),
        (["--org", "acme", "--default-branch", "a..b"], "is not a branch name"),
        ([], "Give --org ORG"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    tmp_path: Path, cli: CLI, args: list[str], message: str
) -> None:
    root = tmp_path / "access"
    result = cli("init", *ACTION, str(root), *args)
    assert result.code == 2, result.output
    assert message in result.err
    assert "Traceback" not in result.output
    assert not root.exists()


def test_a_path_that_is_not_a_folder_is_refused(tmp_path: Path, cli: CLI) -> None:
    file = tmp_path / "access"
    file.write_text("not a folder\n")
    result = cli("init", *ACTION, str(file), "--org", "acme")
    assert result.code == 2
    assert f"{file} is not a directory" in result.err
    assert file.read_text() == "not a folder\n"
    below = cli("init", *ACTION, str(file / "deeper"), "--org", "acme")
    assert below.code == 2
    assert "is not a directory" in below.err


def test_a_folder_inside_another_repository_is_refused(tmp_path: Path, cli: CLI) -> None:
    outer = init_repo(tmp_path / "monorepo")
    (outer / "existing").mkdir()
    for path in (outer / "existing", outer / "new"):
        result = cli("init", *ACTION, str(path), "--org", "acme")
        assert result.code == 2, result.output
        assert f"inside the git repository {outer}" in result.err
        assert snapshot(outer) == {}


def test_something_in_the_way_is_refused_before_anything_is_written(
    tmp_path: Path, cli: CLI
) -> None:
    root = init_repo(tmp_path / "access")
    (root / ".github").write_text("a file where a folder goes\n")
    result = cli("init", *ACTION, str(root), "--org", "acme")
    assert result.code == 2, result.output
    assert "is in the way" in result.err
    assert snapshot(root) == {".github": b"a file where a folder goes\n"}


def test_policies_with_errors_are_refused_with_what_to_fix(tmp_path: Path, cli: CLI) -> None:
    root = make_access_repo(tmp_path / "access")
    policy = root / "policies" / "sandbox-db.yaml"
    policy.write_text(policy.read_text().replace("max_duration: 8h", "max_durration: 8h"))
    before = snapshot(root)
    result = cli("init", *ACTION, str(root))
    assert result.code == 2, result.output
    assert "policies/sandbox-db.yaml" in result.err
    assert "have errors" in result.err and "`jitops validate`" in result.err
    assert snapshot(root) == before


def test_a_secret_github_could_not_hold_is_refused(tmp_path: Path, cli: CLI) -> None:
    root = make_access_repo(tmp_path / "access")
    targets = root / "policies" / "targets.yaml"
    targets.write_text(targets.read_text().replace("JITOPS_SANDBOX_DB_PASSWORD", "GITHUB_DB"))
    result = cli("init", *ACTION, str(root))
    assert result.code == 2, result.output
    assert "cannot be named GITHUB_" in result.err
    assert not (root / ".github" / "workflows").exists()


def test_a_failed_write_is_undone(
    tmp_path: Path, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A full disk, injected at the fourth workflow: everything before it must be undone.
    real = Path.write_bytes

    def write_bytes(self: Path, data: bytes) -> int:
        if self.name == "jitops-apply.yml":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    new = tmp_path / "new" / "access"
    result = cli("init", *ACTION, str(new), "--org", "acme")
    assert result.code == 3, result.output
    assert "No space left on device" in result.err
    assert "what it had written was undone" in result.err
    assert not (tmp_path / "new").exists(), "the folders init made are gone too"

    # In an existing repository, --force: replaced files get their old contents back.
    root = make_access_repo(tmp_path / "access")
    workflows = root / ".github" / "workflows"
    workflows.mkdir()
    (workflows / "jitops-check.yml").write_text("name: mine\n")
    before = snapshot(root)
    result = cli("init", *ACTION, str(root), "--force")
    assert result.code == 3, result.output
    assert snapshot(root) == before
    assert (root / ".git").is_dir()


def test_init_runs_as_a_real_process_from_the_installed_package(
    tmp_path: Path, cli_process: CLI
) -> None:
    root = tmp_path / "access"
    result = cli_process("init", *ACTION, str(root), "--org", "acme")
    assert result.code == 0, result.output
    assert cli_process("validate", "--repo", str(root)).code == 0
    assert cli_process("test", "--repo", str(root)).code == 0
    help_text = cli_process("init", "--help").out
    assert "jitops init access --org acme --security-team @acme/security" in help_text


def test_after_adding_a_target_doctor_wants_its_secret_and_init_force_renders_it(
    tmp_path: Path, cli: CLI
) -> None:
    root = initialised(tmp_path, cli)
    (root / "policies" / "deployers.yaml").write_text(
        "apiVersion: jitops/v1\nkind: Target\nname: deployers\nprovisioner: github-team\n"
        "roles: [member]\nsettings: {org: acme, roles: {member: deployers}}\n"
        "secrets: {token: JITOPS_TEAM_TOKEN}\n"
    )
    (root / "policies" / "deployers-policy.yaml").write_text(
        "apiVersion: jitops/v1\nkind: Policy\nname: deployers\ntargets: [deployers]\n"
        'requesters: ["@acme/engineering"]\n'
        'roles: {member: {max_duration: 1d, approvals: [{count: 1, from: ["@acme/sec"]}]}}\n'
    )
    doctor = cli("doctor", "--repo", str(root), "--offline")
    assert doctor.code == 1
    assert doctor.out.count("without JITOPS_TEAM_TOKEN in its environment") == 4

    preview = cli("init", *ACTION, str(root), "--force", "--dry-run")
    for path in (".github/CODEOWNERS", *WORKFLOW_FILES[3:]):
        assert f"would replace  {path}" in preview.out
    assert "JITOPS_TEAM_TOKEN" in preview.out  # the new target's secret, named (README)
    assert cli("init", *ACTION, str(root), "--force").code == 0
    assert cli("validate", "--repo", str(root)).code == 0
    assert cli("doctor", "--repo", str(root), "--offline").code == 0


def test_init_pins_the_workflows_to_the_commit_this_jitops_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: CLI
) -> None:
    clone = github_clone(tmp_path / "jitops", pushed=False)
    head = git(clone, "rev-parse", "HEAD").strip()
    recorded(monkeypatch, {"url": clone.as_uri(), "dir_info": {"editable": True}})
    result = cli("init", str(tmp_path / "access"), "--org", "acme")
    assert result.code == 0, result.output
    check = (tmp_path / "access" / ".github/workflows/jitops-check.yml").read_text()
    assert f"uses: acme/jitops@{head}  # jitops " in check
    assert f"installed from the clone at {clone}" in result.out
    assert "jitops: warning: commit" in result.err and "push it" in result.err


def test_init_with_no_commit_to_pin_asks_for_one_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: CLI
) -> None:
    recorded(monkeypatch, {"url": "https://example.com/jitops.whl", "archive_info": {}})
    result = cli("init", str(tmp_path / "access"), "--org", "acme")
    assert result.code == 2
    assert "--action OWNER/jitops@COMMIT" in result.err and "--release" in result.err
    assert not (tmp_path / "access").exists()
