"""Loading an access repository: ``policies/`` and ``requests/`` into validated models.

Every file is read through ``jitops.loader`` and validated by ``jitops.models``. Problems become
``Finding``s (file, line, column, what is wrong, how to fix it); nothing is raised for a bad file,
so one run reports them all. Cross-file rules live here too: a request's path must match its
contents, ids are unique, policies refer to targets and roles that exist, and each
target/role pair is governed by exactly one policy.

Layout::

    policies/*.yaml                       Policy, Target and PolicyChangeRule documents
    policies/tests/*.yaml                 PolicyTest documents (``jitops test``)
    requests/<target>/<role>/<id>.yaml    one AccessRequest per file

The package follows that order: ``files`` (the folders, reading a file safely, walking a
folder), ``parsing`` (bytes to a validated model, errors to findings), then one module per kind
of file: ``request_loading``, ``policy_loading`` and ``target_loading`` (targets one by one,
for a sweep that must revoke while a policy file is broken).
"""

from __future__ import annotations

from jitops.repo.files import (
    IGNORED_NAMES,
    POLICIES_DIR,
    POLICY_TESTS_DIR,
    REQUESTS_DIR,
    YAML_SUFFIXES,
)
from jitops.repo.parsing import describe_error, parse, validation_findings
from jitops.repo.policy_loading import (
    POLICY_MODELS,
    POLICY_TEST_MODELS,
    PolicyLoad,
    build_policy_set,
    cross_check_policies,
    load_policies,
    load_policies_at,
    load_policy_tests,
)
from jitops.repo.request_loading import (
    REQUEST_MODELS,
    RequestFile,
    duplicate_id_findings,
    load_request,
    load_request_chunk,
    parse_request,
    placement_findings,
    request_paths,
)
from jitops.repo.target_loading import TargetLoad, load_targets, load_targets_at

__all__ = [
    "IGNORED_NAMES",
    "POLICIES_DIR",
    "POLICY_MODELS",
    "POLICY_TESTS_DIR",
    "POLICY_TEST_MODELS",
    "REQUESTS_DIR",
    "REQUEST_MODELS",
    "YAML_SUFFIXES",
    "PolicyLoad",
    "RequestFile",
    "TargetLoad",
    "build_policy_set",
    "cross_check_policies",
    "describe_error",
    "duplicate_id_findings",
    "load_policies",
    "load_policies_at",
    "load_policy_tests",
    "load_request",
    "load_request_chunk",
    "load_targets",
    "load_targets_at",
    "parse",
    "parse_request",
    "placement_findings",
    "request_paths",
    "validation_findings",
]
