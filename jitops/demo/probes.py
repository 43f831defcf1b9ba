"""What the demo asks PostgreSQL as alice: can she read the table, and if not, PostgreSQL's
own reason."""

from __future__ import annotations

from typing import Any

import psycopg

from jitops.demo.world import TABLE, Database


def pg_reason(exc: psycopg.Error) -> str:
    """PostgreSQL's own words, without the driver's preamble (socket paths and the like)."""
    text = str(exc).strip()
    if "FATAL:" in text:
        text = text.split("FATAL:", 1)[1]
    return " ".join(text.split()) or type(exc).__name__


def read_error(session: Any) -> str | None:
    """None if ``session`` can read the table, else why not."""
    try:
        session.execute(f"SELECT count(*) FROM {TABLE}").fetchall()
    except psycopg.Error as exc:
        return pg_reason(exc)
    return None


def new_session_error(database: Database, person: str) -> str | None:
    """None if ``person`` can log in anew and read the table, else why not."""
    try:
        with database.connect_as(person) as session:
            return read_error(session)
    except psycopg.Error as exc:
        return pg_reason(exc)
