"""Errors of the list query, each with the exact body Coder gives (QUERY-8 to QUERY-15): every malformed ``q`` and
the 500 for a status outside the TaskStatus enum."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from coder_tasks_contract.transport.paths import TASKS

from .support import BAD_QUERY, LIST_FAILED, UNCHECKED, assert_error

# --- The q search syntax (QUERY-8) ---------------------------------------------------------------------------------


def _q_cases() -> list[Any]:
    return [
        pytest.param(":owner", "q", """Query element ":owner" cannot start or end with ':'""", id="prefix-colon"),
        pytest.param("owner:", "q", """Query element "owner:" cannot start or end with ':'""", id="suffix-colon"),
        pytest.param("owner:a:b", "q", """Query element "owner:a:b" can only contain 1 ':'""", id="extra-colon"),
        pytest.param("foo:bar", "foo", '"foo" is not a valid query param', id="unknown-key"),
        pytest.param("FOO:bar", "foo", '"foo" is not a valid query param', id="unknown-key-lower-cased"),
        pytest.param(
            "owner:me owner:me",
            "owner",
            'Query param "owner" provided more than once, found 2 times. Only provide 1 instance of this query param.',
            id="key-twice",
        ),
        pytest.param(
            "owner:ctc-nobody-{run_id}",
            "owner",
            'Query param "owner" has invalid value: user "ctc-nobody-{run_id}" either does not exist, or you are '
            "unauthorized to view them",
            id="unknown-owner",
        ),
        pytest.param(
            "ctc-nobody-{run_id} second",
            "owner",
            'Query param "owner" has invalid value: user "ctc-nobody-{run_id} second" either does not exist, or you '
            "are unauthorized to view them",
            id="bare-terms-join-into-one-owner",
        ),
        pytest.param(
            "organization:ctc-noorg-{run_id}",
            "organization",
            'Query param "organization" has invalid value: organization "ctc-noorg-{run_id}" either does not exist, '
            "or you are unauthorized to view it",
            id="unknown-organization",
        ),
    ]


@pytest.mark.operation("listTasks", 400)
@pytest.mark.parametrize(("q", "field", "detail"), _q_cases())
def test_invalid_query_answers_400_with_its_validation(
    client_a: httpx.Client, run_id: str, q: str, field: str, detail: str
) -> None:
    """QUERY-8: each malformed ``q`` answers 400 "Invalid task search query." with exactly one validation naming the
    field and the rule it broke, as QUERY-9 to QUERY-14 give them."""
    response = client_a.get(TASKS, params={"q": q.format(run_id=run_id)})
    expected = [{"field": field, "detail": detail.format(run_id=run_id)}]
    assert_error(response, 400, BAD_QUERY, None, expected)


@pytest.mark.operation("listTasks", 500)
def test_unknown_status_value_answers_500(client_a: httpx.Client, prefix: str) -> None:
    """QUERY-15 (inferred): ``status:<value>`` is passed through unvalidated and the database rejects a value
    outside the TaskStatus enum: 500 "Internal error fetching tasks." (not 400), through every mount (ROUTE-1)."""
    response = client_a.get(prefix, params={"q": "status:bogus"})
    assert_error(response, 500, LIST_FAILED, UNCHECKED)
