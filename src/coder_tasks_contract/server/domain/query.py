"""The ``q`` search grammar of the task list (QUERY-1 to QUERY-15), as Coder's ``searchquery.Tasks`` parses it.

Pure: user and organization names are resolved through callables the caller passes in, so the grammar can be
tested without a world. Errors come back as the list of ``(field, detail)`` validations Coder puts in its 400 body.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from coder_tasks_contract.server.golang.gofmt import go_quote, try_uuid


@dataclass(frozen=True)
class TaskFilter:
    """What the list keeps: each None means "no filter on this"."""

    owner_id: str | None = None
    organization_id: str | None = None
    status: str | None = None


class QueryError(ValueError):
    """The query is invalid; ``validations`` are Coder's ``(field, detail)`` pairs."""

    def __init__(self, validations: list[tuple[str, str]]) -> None:
        super().__init__("Invalid task search query.")
        self.validations = validations


def split_query(query: str, delimiter: str, keep_quotes: bool) -> list[str]:
    """``splitQueryParameterByDelimiter``: split on ``delimiter`` outside double quotes, dropping empty parts
    (Go's ``strings.FieldsFunc``); without ``keep_quotes``, quotes around each part are stripped."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in query:
        if ch == '"':
            quoted = not quoted
        if not quoted and ch == delimiter:
            if current:
                parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if current:
        parts.append("".join(current))
    if not keep_quotes:
        parts = [part.strip('"') for part in parts]
    return parts


def search_terms(query: str, free_key: str = "owner") -> dict[str, list[str]]:
    """Split a query into ``key -> values``; the words without a colon become one ``free_key`` term (``owner`` for
    tasks, ``search`` for users: Coder's ``searchTerms`` takes that default key the same way)."""
    values: dict[str, list[str]] = {}
    unqualified: list[str] = []
    for element in split_query(query, " ", keep_quotes=True):
        if element.startswith(":") or element.endswith(":"):
            raise QueryError([("q", f"Query element {go_quote(element)} cannot start or end with ':'")])
        parts = split_query(element, ":", keep_quotes=False)
        if len(parts) == 1:
            unqualified.append(parts[0])
        elif len(parts) == 2:
            values.setdefault(parts[0].lower(), []).append(parts[1])
        else:
            raise QueryError([("q", f"Query element {go_quote(element)} can only contain 1 ':'")])
    if unqualified:
        values.setdefault(free_key, []).append(" ".join(unqualified))
    return values


def parse_task_query(
    query: str,
    *,
    actor_id: str,
    user_id_by_name: Callable[[str], str | None],
    org_id_by_name: Callable[[str], str | None],
) -> TaskFilter:
    """Parse ``q`` into a ``TaskFilter``, or raise ``QueryError`` with every validation Coder would report.

    ``user_id_by_name`` must only find users the caller may read (a member cannot resolve another member);
    UUIDs are taken as they are, with no existence check; ``status`` is not validated here (QUERY-6).
    """
    if query == "":
        return TaskFilter()
    values = search_terms(query.lower())
    errors: list[tuple[str, str]] = []

    def single(key: str) -> str | None:
        given = values.get(key)
        if given is None:
            return None
        if len(given) > 1:
            errors.append(
                (
                    key,
                    f"Query param {go_quote(key)} provided more than once, found {len(given)} times. "
                    "Only provide 1 instance of this query param.",
                )
            )
            return None
        return given[0]

    owner_id: str | None = None
    owner = single("owner")
    if owner:
        owner_id = actor_id if owner == "me" else try_uuid(owner) or user_id_by_name(owner)
        if owner_id is None:
            errors.append(
                (
                    "owner",
                    f"Query param {go_quote('owner')} has invalid value: user {go_quote(owner)} either does not "
                    "exist, or you are unauthorized to view them",
                )
            )
    organization_id: str | None = None
    organization = single("organization")
    if organization:
        organization_id = try_uuid(organization) or org_id_by_name(organization)
        if organization_id is None:
            errors.append(
                (
                    "organization",
                    f"Query param {go_quote('organization')} has invalid value: organization "
                    f"{go_quote(organization)} either does not exist, or you are unauthorized to view it",
                )
            )
    status = single("status") or None
    for key in sorted(set(values) - {"owner", "organization", "status"}):
        errors.append((key, f"{go_quote(key)} is not a valid query param"))
    if errors:
        raise QueryError(errors)
    return TaskFilter(owner_id=owner_id, organization_id=organization_id, status=status)
