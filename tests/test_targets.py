"""From a ``Target`` document to what a provisioner is built from, and each wrong setting found
offline with its file, line and column."""

from __future__ import annotations

from jitops.findings import Severity
from jitops.loader import Loaded, load_document
from jitops.models import Target
from jitops.targets import settings_findings, target_config

TARGET = """\
apiVersion: jitops/v1
kind: Target
name: box
provisioner: {kind}
roles: [op, reader]
secrets: {{token: BOX_TOKEN}}
settings:
  command: [/bin/true]
{extra}"""


def _loaded(kind: str = "exec", extra: str = "") -> Loaded:
    text = TARGET.format(kind=kind, extra=extra)
    document = load_document(text.encode(), "policies/box.yaml")
    return Loaded("policies/box.yaml", text, Target.model_validate(document.data))


def test_a_target_becomes_its_provisioners_config() -> None:
    config = target_config(_loaded().model)
    assert (config.name, config.kind, config.roles) == ("box", "exec", ("op", "reader"))
    assert config.settings == {"command": ["/bin/true"]}
    assert config.secrets == {"token": "BOX_TOKEN"}  # the variable's name, never its value


def test_settings_that_fit_their_provisioner_find_nothing() -> None:
    assert settings_findings([_loaded()]) == []


def test_an_unknown_provisioner_is_found_at_its_value_with_the_kinds_there_are() -> None:
    [finding] = settings_findings([_loaded(kind="vaultish")])
    assert finding.severity is Severity.ERROR
    assert (finding.location, finding.message) == (
        "policies/box.yaml:4:14",
        "unknown provisioner 'vaultish'",
    )
    assert finding.hint is not None and "exec" in finding.hint


def test_a_setting_the_provisioner_does_not_have_is_found_at_its_key() -> None:
    [finding] = settings_findings([_loaded(extra="  colour: blue\n")])
    assert finding.location == "policies/box.yaml:9:3"
    assert finding.message == "`settings.colour`: not a setting of the exec provisioner"
    assert finding.hint is not None and "command" in finding.hint


def test_documents_other_than_targets_are_left_alone() -> None:
    other = Loaded("policies/p.yaml", "kind: Policy\n", object())
    assert settings_findings([other]) == []
