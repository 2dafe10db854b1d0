"""Faults in the list's ``q`` search (QUERY): ignored, partly ignored, parsed too leniently or too strictly, its
errors answered with the wrong status."""

from __future__ import annotations

from dataclasses import replace

from starlette.types import ASGIApp

from coder_tasks_contract.faults.asgi import serve
from coder_tasks_contract.faults.base import fault
from coder_tasks_contract.server.domain.entities import Task, User
from coder_tasks_contract.server.domain.query import QueryError, TaskFilter, split_query
from coder_tasks_contract.server.domain.world import NIL_UUID, TASK_STATUSES, World


class _QueryIgnored(World):
    def parse_query(self, actor: User, q: str) -> TaskFilter:
        return TaskFilter()


@fault("query", "tests/test_query_errors.py::test_invalid_query_answers_400_with_its_validation")
def q_ignored(world: World) -> ASGIApp:
    """The ``q`` parameter is ignored: every list is the unfiltered one (QUERY-4, QUERY-5, QUERY-6, QUERY-8: ``q``
    filters by owner, organization and status, and a malformed one answers 400)."""
    return serve(world, rules=_QueryIgnored)


class _BareTermsDropped(World):
    def parse_query(self, actor: User, q: str) -> TaskFilter:
        kept = [token for token in split_query(q, " ", keep_quotes=True) if ":" in token]
        return super().parse_query(actor, " ".join(kept))


@fault(
    "query",
    "tests/test_query_errors.py::test_invalid_query_answers_400_with_its_validation[bare-terms-join-into-one-owner]",
    "tests/test_list.py::test_owner_filter_selects_the_callers_tasks[bare-term-is-owner]",
)
def q_bare_term_ignored(world: World) -> ASGIApp:
    """Words without a ``key:`` are dropped (QUERY-3: they are joined into one unqualified term that means
    ``owner:<term>``, so ``q=alice bob`` is owner "alice bob" and fails with 400)."""
    return serve(world, rules=_BareTermsDropped)


class _QueryErrorsEmpty(World):
    def parse_query(self, actor: User, q: str) -> TaskFilter:
        try:
            return super().parse_query(actor, q)
        except QueryError:
            return TaskFilter(owner_id=NIL_UUID)  # matches nothing: 200 with an empty list


@fault("query", "tests/test_query_errors.py::test_invalid_query_answers_400_with_its_validation", ci=True)
def q_error_answers_200(world: World) -> ASGIApp:
    """A malformed ``q`` answers 200 with an empty list (QUERY-8: every parse error answers 400 "Invalid task search
    query." with validations)."""
    return serve(world, rules=_QueryErrorsEmpty)


class _KeysCaseSensitive(World):
    def parse_query(self, actor: User, q: str) -> TaskFilter:
        for token in split_query(q, " ", keep_quotes=True):
            key = token.split(":", 1)[0] if ":" in token else ""
            if key and key != key.lower():
                raise QueryError([(key, f'"{key}" is not a valid query param')])
        return super().parse_query(actor, q)


@fault(
    "query", "tests/test_query_errors.py::test_invalid_query_answers_400_with_its_validation[unknown-key-lower-cased]"
)
def q_keys_case_sensitive(world: World) -> ASGIApp:
    """Upper-case keys (``OWNER:``, ``STATUS:``) are unknown keys (QUERY-1: the whole query is lower-cased before it is
    parsed)."""
    return serve(world, rules=_KeysCaseSensitive)


class _QuotesKept(World):
    def parse_query(self, actor: User, q: str) -> TaskFilter:
        # A stand-in quote character the parser does not strip: values keep their quotes, as if never stripped.
        return super().parse_query(actor, q.replace('"', "'"))


@fault("query", "tests/test_list.py::test_owner_filter_selects_the_callers_tasks[owner-quoted-me]")
def q_quotes_kept(world: World) -> ASGIApp:
    """Quotes around a value stay part of it, so ``owner:"me"`` names nobody (QUERY-2: quotes around a value are
    stripped; the Go SDK always quotes)."""
    return serve(world, rules=_QuotesKept)


class _StatusFilterIgnored(World):
    def list_tasks(self, actor: User, task_filter: TaskFilter) -> list[Task]:
        if task_filter.status is not None and task_filter.status not in TASK_STATUSES:
            return super().list_tasks(actor, task_filter)  # the 500 for a value outside the enum still happens
        return super().list_tasks(actor, replace(task_filter, status=None))


@fault("query", "tests/test_list.py::test_status_filter_selects_tasks_in_that_status", ci=True)
def status_filter_ignored(world: World) -> ASGIApp:
    """``status:<value>`` is accepted but selects nothing: every status is listed (QUERY-6, QUERY-7: ``status`` keeps
    tasks whose computed status is that value; filters combine with AND)."""
    return serve(world, rules=_StatusFilterIgnored)


class _StatusValidated(World):
    def parse_query(self, actor: User, q: str) -> TaskFilter:
        task_filter = super().parse_query(actor, q)
        if task_filter.status is not None and task_filter.status not in TASK_STATUSES:
            raise QueryError([("status", f'Query param "status" has invalid value: "{task_filter.status}"')])
        return task_filter


@fault("query", "tests/test_query_errors.py::test_unknown_status_value_answers_500")
def unknown_status_answers_400(world: World) -> ASGIApp:
    """A ``status`` outside the TaskStatus enum answers 400 (QUERY-15, inferred: the value is passed through
    unvalidated and the database's enum cast fails: 500 "Internal error fetching tasks.")."""
    return serve(world, rules=_StatusValidated)


class _OrganizationIgnored(World):
    def list_tasks(self, actor: User, task_filter: TaskFilter) -> list[Task]:
        return super().list_tasks(actor, replace(task_filter, organization_id=None))


@fault("query", "tests/test_list.py::test_unknown_uuid_filter_answers_an_empty_list[organization]")
def organization_filter_ignored(world: World) -> ASGIApp:
    """``organization:<value>`` is accepted but selects nothing (QUERY-5: the ``organization`` key keeps that
    organization's tasks; an unknown UUID is taken as is and matches nothing)."""
    return serve(world, rules=_OrganizationIgnored)


class _LastKeyWins(World):
    def parse_query(self, actor: User, q: str) -> TaskFilter:
        latest: dict[str, str] = {}
        for token in split_query(q.lower(), " ", keep_quotes=True):
            latest[token.split(":", 1)[0] if ":" in token else token] = token
        return super().parse_query(actor, " ".join(latest.values()))


@fault("query", "tests/test_query_errors.py::test_invalid_query_answers_400_with_its_validation[key-twice]")
def q_repeated_key_accepted(world: World) -> ASGIApp:
    """A key given twice is accepted, the last one winning (QUERY-12: "Query param "owner" provided more than once,
    found 2 times." → 400)."""
    return serve(world, rules=_LastKeyWins)
