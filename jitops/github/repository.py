"""A repository's settings and rules: its default branch and "Allow auto-merge", GitHub's own
complaints about CODEOWNERS, and the status checks and reviews that branch protection and
rulesets require of a merge."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from jitops.github.client import GitHubBase
from jitops.github.errors import GitHubError
from jitops.github.values import RepositorySettings, RequiredChecks, ReviewRules


def _review_rules(settings: Any, names: tuple[str, str, str, str]) -> ReviewRules | None:
    """Review settings from a JSON object, by their names in that source."""
    if not isinstance(settings, dict):
        return None
    count, owners, stale, last = names
    approvals = settings.get(count)
    return ReviewRules(
        approvals if isinstance(approvals, int) else 0,
        settings.get(owners) is True,
        settings.get(stale) is True,
        settings.get(last) is True,
    )


_CLASSIC_REVIEWS = (
    "required_approving_review_count",
    "require_code_owner_reviews",
    "dismiss_stale_reviews",
    "require_last_push_approval",
)
_RULESET_REVIEWS = (
    "required_approving_review_count",
    "require_code_owner_review",
    "dismiss_stale_reviews_on_push",
    "require_last_push_approval",
)


def _rule_contexts(rule: object) -> set[str]:
    """The status checks one ``repository-rule-detailed`` requires (none, for other rules)."""
    if not isinstance(rule, dict) or rule.get("type") != "required_status_checks":
        return set()
    parameters = rule.get("parameters")
    checks = parameters.get("required_status_checks") if isinstance(parameters, dict) else None
    return {
        str(check["context"])
        for check in (checks if isinstance(checks, list) else [])
        if isinstance(check, dict) and isinstance(check.get("context"), str)
    }


class RepositoryMixin(GitHubBase):
    """Settings, CODEOWNERS errors, branch protection and rulesets."""

    def codeowners_errors(self, ref: str) -> list[str]:
        """GitHub's own complaints about the CODEOWNERS file at ``ref``."""
        data = self._raw("GET", "/codeowners/errors", "CODEOWNERS errors", parameters={"ref": ref})
        errors = data.get("errors", []) if isinstance(data, dict) else []
        return [
            f"{e.get('path', 'CODEOWNERS')}:{e.get('line', '?')}: {e.get('message', e.get('kind'))}"
            for e in errors
            if isinstance(e, dict)
        ]

    def repository_settings(self) -> RepositorySettings:
        """The default branch and "Allow auto-merge" (``full-repository``), in one call."""
        data = self._raw("GET", "", "reading the repository")
        if not isinstance(data, dict) or not isinstance(data.get("default_branch"), str):
            raise GitHubError("GitHub answered with something that is not a repository")
        allowed = data.get("allow_auto_merge")
        return RepositorySettings(
            data["default_branch"], allowed if isinstance(allowed, bool) else None
        )

    def required_checks(self, branch: str) -> RequiredChecks:
        """The status checks ``branch``'s protection requires (``branch-protection``).

        GitHub answers 404 "Branch not protected" for a branch without protection: that is an
        answer, returned as ``protected=False``. Reading protection needs administration
        (read) permission; without it GitHub answers 403 or 404, raised as ``GitHubError``
        with that ``status``. Rulesets are read by :meth:`ruleset_checks`.
        """
        path = f"/branches/{quote(branch, safe='')}/protection"
        try:
            data = self._raw("GET", path, f"reading the protection of {branch}")
        except GitHubError as exc:
            if exc.status == 404 and exc.reason.lower() == "branch not protected":
                return RequiredChecks(branch, protected=False)
            raise
        reviews = _review_rules(
            data.get("required_pull_request_reviews") if isinstance(data, dict) else None,
            _CLASSIC_REVIEWS,
        )
        checks = data.get("required_status_checks") if isinstance(data, dict) else None
        if not isinstance(checks, dict):  # protected, but no status check is required
            return RequiredChecks(branch, protected=True, reviews=reviews)
        # ``contexts`` is the older list of names; ``checks`` adds the app expected to post.
        contexts = {str(c) for c in checks.get("contexts") or [] if isinstance(c, str)}
        contexts |= {
            str(c["context"])
            for c in checks.get("checks") or []
            if isinstance(c, dict) and isinstance(c.get("context"), str)
        }
        return RequiredChecks(branch, protected=True, contexts=frozenset(contexts), reviews=reviews)

    def ruleset_checks(self, branch: str) -> RequiredChecks:
        """The status checks the active rulesets applying to ``branch`` require
        (``repos/get-branch-rules``: every active rule, from repository and organization
        rulesets alike; ``evaluate`` and disabled rulesets are not returned).

        Read access is enough, so this answers where :meth:`required_checks` may not. A
        ``required_status_checks`` rule names its checks in
        ``parameters.required_status_checks[].context``.
        """
        path = f"/rules/branches/{quote(branch, safe='')}"
        rules: list[Any] = []
        page = 1
        while True:
            data = self._raw(
                "GET",
                path,
                f"reading the rulesets of {branch}",
                parameters={"per_page": 100, "page": page},
            )
            batch = data if isinstance(data, list) else []
            rules.extend(batch)
            if len(batch) < 100:
                break
            page += 1
        contexts = {context for rule in rules for context in _rule_contexts(rule)}
        reviews: ReviewRules | None = None
        for rule in rules:
            if isinstance(rule, dict) and rule.get("type") == "pull_request":
                found = _review_rules(rule.get("parameters"), _RULESET_REVIEWS)
                if found is not None:
                    reviews = found.combined(reviews)
        return RequiredChecks(
            branch, protected=bool(rules), contexts=frozenset(contexts), reviews=reviews
        )
