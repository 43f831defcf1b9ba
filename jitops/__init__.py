"""jitops: just-in-time, time-boxed access to sandbox environments through pull requests.

Git is the source of truth and the audit log, GitHub review is the approval, CI enforces policy,
merging grants and expiry revokes. The package is laid out the way data flows:
load (``loader``, ``repo``, ``models``) → decide (``policy``) → act (``provisioners``,
``github``, ``git``) → report (``report``); ``commands`` ties them together for ``cli``.
"""

from __future__ import annotations

__version__ = "0.1.0"
