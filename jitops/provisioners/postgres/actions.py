"""SQL actions on a ``postgres`` target: the approved statements run once, as the target's
action login, in one transaction whose limits PostgreSQL itself enforces.

- **Its own identity.** The statements run as ``action_user`` (password: the secret
  ``action_password``), a login of its own — never the provisioner, whose ``CREATEROLE`` a
  statement could otherwise reach with ``RESET ROLE``. Its privileges are the action's bound:
  ``jitops doctor`` checks they are no more than the actions need.
- **One transaction.** ``SET TRANSACTION READ ONLY`` first for a read-only action (PostgreSQL
  then refuses every write, whatever a function does), ``SET LOCAL statement_timeout`` for
  each statement, then the statements in order. Any error rolls everything back.
- **Rows.** The rows each ``INSERT``/``UPDATE``/``DELETE``/``MERGE`` affected (PostgreSQL's
  command tag) are summed; over ``max_rows_affected`` the whole action is rolled back. Of the
  rows returned, the first ``max_rows_returned`` are kept, as text, each cell cut.
- **A watchdog.** Should the server not stop a statement (a timeout changed from inside), the
  client cancels the query once every statement's timeout and a margin have passed.
- **Nothing printed holds a secret**: errors are redacted by the provisioner.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from jitops.provisioners.interface import ActionResult, ActionRun
from jitops.provisioners.postgres.driver import psycopg_module
from jitops.provisioners.postgres.settings import PostgresSettings

MAX_CELL_CHARS: Final = 200
WATCHDOG_MARGIN_SECONDS: Final = 5.0
_WRITING_TAGS: Final = ("INSERT", "UPDATE", "DELETE", "MERGE")


class _RolledBack(Exception):
    """The action went over a limit: everything it did is undone."""


def perform_sql(
    settings: PostgresSettings,
    action_password: Callable[[], str],
    redact: Callable[[str], str],
    run: ActionRun,
) -> ActionResult:
    """Run ``run``'s statements once, as ``settings.action_user`` with ``action_password()``;
    the outcome, success or not, as an ``ActionResult`` whose texts ``redact`` has cleaned."""
    pg = psycopg_module()
    started = datetime.now(UTC)
    identity = settings.action_user or ""

    def failed(message: str, affected: int = 0) -> ActionResult:
        return ActionResult(
            False,
            identity,
            started,
            datetime.now(UTC),
            rows_affected=affected,
            error=redact(message),
        )

    if not settings.action_user:
        return failed("the target has no `action_user`: set the login SQL actions run as")
    if not run.statements:
        return failed("the action has no statements")
    try:
        password = action_password()
        conn = pg.connect(
            host=settings.host,
            port=settings.port,
            dbname=settings.dbname,
            user=settings.action_user,
            password=password,
            sslmode=settings.sslmode,
            connect_timeout=settings.connect_timeout,
            application_name=f"jitops action {run.request_id}",
            autocommit=False,
        )
    except pg.Error as exc:
        return failed(
            f"cannot connect as {settings.action_user}: {str(exc).strip()}; check the "
            "action_password secret"
        )
    except Exception as exc:  # a secret not set, and the like: said, never raised
        return failed(str(getattr(exc, "message", exc)))
    timeout_ms = max(int(run.timeout.total_seconds() * 1000), 1)
    deadline = run.timeout.total_seconds() * len(run.statements) + WATCHDOG_MARGIN_SECONDS
    watchdog = threading.Timer(deadline, conn.cancel)
    watchdog.daemon = True
    affected = 0
    columns: tuple[str, ...] = ()
    rows: list[tuple[str, ...]] = []
    tags: list[str] = []
    more = False
    try:
        watchdog.start()
        with conn.cursor() as cursor:
            if run.read_only:
                cursor.execute("SET TRANSACTION READ ONLY")
            cursor.execute(f"SET LOCAL statement_timeout = {timeout_ms}")
            cursor.execute("SET LOCAL idle_in_transaction_session_timeout = 60000")
            for statement in run.statements:
                cursor.execute(statement)  # no parameters: sent as written, never formatted
                tags.append(cursor.statusmessage or "")
                affected += _affected(cursor.statusmessage)
                if affected > run.max_rows_affected:
                    raise _RolledBack(
                        f"{affected} rows affected, over the action's cap of "
                        f"{run.max_rows_affected}: everything it did was rolled back"
                    )
                if cursor.description is not None:
                    columns = tuple(str(c.name) for c in cursor.description)
                    fetched = cursor.fetchmany(run.max_rows_returned + 1)
                    more = len(fetched) > run.max_rows_returned
                    rows = [_row(r) for r in fetched[: run.max_rows_returned]]
        conn.commit()
    except _RolledBack as exc:
        conn.rollback()
        return failed(str(exc), affected)
    except pg.Error as exc:
        conn.rollback()
        return failed(f"PostgreSQL refused it, nothing was changed: {str(exc).strip()}")
    finally:
        watchdog.cancel()
        conn.close()
    return ActionResult(
        True,
        identity,
        started,
        datetime.now(UTC),
        rows_affected=affected,
        columns=columns,
        rows=tuple(tuple(redact(cell) for cell in row) for row in rows),
        more_rows=more,
        tags=tuple(tags),
    )


def _affected(tag: str | None) -> int:
    """The rows a statement affected, from its command tag (``UPDATE 3``, ``INSERT 0 2``)."""
    words = (tag or "").split()
    if words and words[0] in _WRITING_TAGS and words[-1].isdigit():
        return int(words[-1])
    return 0


def _row(values: Any) -> tuple[str, ...]:
    cells = []
    for value in values:
        text = "NULL" if value is None else str(value)
        cells.append(text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…")
    return tuple(cells)
