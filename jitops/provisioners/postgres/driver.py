"""psycopg, imported when a postgres target is first reached (the driver is an extra)."""

from __future__ import annotations

from typing import Any

from jitops.provisioners.interface import ProvisionerError


def psycopg_module() -> Any:
    try:
        import psycopg
    except ImportError:
        raise ProvisionerError(
            "the postgres provisioner needs psycopg: pip install 'jitops[postgres]'"
        ) from None
    return psycopg
