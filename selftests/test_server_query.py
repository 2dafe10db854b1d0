"""The reference server's ``q`` grammar (QUERY-1 to QUERY-14), as a pure function with stub name lookups."""

from __future__ import annotations

import pytest

from coder_tasks_contract.server.domain.query import QueryError, TaskFilter, parse_task_query, split_query

ME = "11111111-1111-4111-8111-111111111111"
ALICE = "22222222-2222-4222-8222-222222222222"
ORG = "33333333-3333-4333-8333-333333333333"


def parse(q: str) -> TaskFilter:
    return parse_task_query(
        q,
        actor_id=ME,
        user_id_by_name={"alice": ALICE}.get,
        org_id_by_name={"coder": ORG}.get,
    )


def errors(q: str) -> list[tuple[str, str]]:
    with pytest.raises(QueryError) as caught:
        parse(q)
    return caught.value.validations


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        pytest.param("", TaskFilter(), id="empty"),
        pytest.param("   ", TaskFilter(), id="only-spaces"),
        pytest.param("owner:me", TaskFilter(owner_id=ME), id="owner-me"),
        pytest.param("OWNER:ALICE", TaskFilter(owner_id=ALICE), id="lower-cased"),
        pytest.param('owner:"alice"', TaskFilter(owner_id=ALICE), id="quoted-value"),
        pytest.param("alice", TaskFilter(owner_id=ALICE), id="unqualified-is-owner"),
        pytest.param(
            "owner:99999999-9999-4999-8999-999999999999",
            TaskFilter(owner_id="99999999-9999-4999-8999-999999999999"),
            id="uuid-no-existence-check",
        ),
        pytest.param("organization:coder", TaskFilter(organization_id=ORG), id="org-name"),
        pytest.param("status:bogus", TaskFilter(status="bogus"), id="status-unvalidated"),
        pytest.param('owner:"me" status:"active"', TaskFilter(owner_id=ME, status="active"), id="sdk-style"),
        pytest.param('status:""', TaskFilter(), id="empty-quoted-status"),
    ],
)
def test_valid_queries(q: str, expected: TaskFilter) -> None:
    """QUERY-1 to QUERY-6: keys, lower-casing, quotes, the unqualified owner term and unvalidated status."""
    assert parse(q) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        pytest.param("owner:", [("q", "Query element \"owner:\" cannot start or end with ':'")], id="suffix-colon"),
        pytest.param(":owner", [("q", "Query element \":owner\" cannot start or end with ':'")], id="prefix-colon"),
        pytest.param("owner:a:b", [("q", "Query element \"owner:a:b\" can only contain 1 ':'")], id="extra-colon"),
        pytest.param("foo:bar", [("foo", '"foo" is not a valid query param')], id="unknown-key"),
        pytest.param(
            "owner:me owner:alice",
            [
                (
                    "owner",
                    'Query param "owner" provided more than once, found 2 times. '
                    "Only provide 1 instance of this query param.",
                )
            ],
            id="twice",
        ),
        pytest.param(
            "bob",
            [
                (
                    "owner",
                    'Query param "owner" has invalid value: user "bob" either does not exist, or you are '
                    "unauthorized to view them",
                )
            ],
            id="invisible-user",
        ),
        pytest.param(
            "alice bob",
            [
                (
                    "owner",
                    'Query param "owner" has invalid value: user "alice bob" either does not exist, or you are '
                    "unauthorized to view them",
                )
            ],
            id="unqualified-words-join",
        ),
        pytest.param(
            "organization:acme",
            [
                (
                    "organization",
                    'Query param "organization" has invalid value: organization "acme" either does not exist, '
                    "or you are unauthorized to view it",
                )
            ],
            id="unknown-org",
        ),
    ],
)
def test_invalid_queries(q: str, expected: list[tuple[str, str]]) -> None:
    """QUERY-8: field and detail of each validation."""
    assert errors(q) == expected


def test_several_errors_are_reported_together() -> None:
    """QUERY-8: the parser collects every validation, not only the first."""
    assert [field for field, _ in errors("owner:nobody zzz:1")] == ["owner", "zzz"]


def test_split_keeps_quoted_spaces() -> None:
    """QUERY-2: split on spaces outside double quotes; empty fields dropped."""
    assert split_query('a  "b c" d', " ", keep_quotes=True) == ["a", '"b c"', "d"]
    assert split_query('owner:"a:b"', ":", keep_quotes=False) == ["owner", "a:b"]
