"""The ``q`` grammar of ``GET /api/v2/users``, as Coder's ``searchquery.Users`` parses it.

The query is lower-cased and split like the task query (``query.split_query``); the words without a colon form one
``search`` term (a case-insensitive substring of the username or the email). The keys Coder knows are those of
``searchquery.Users``: ``search``, ``status``, ``role``, ``login_type``, ``github_com_user_id`` and the four time
bounds. Any other key (``username:``, ``email:``, ...) is a 400 naming it, as ``ErrorExcessParams`` reports it:
Coder's user search has no exact-username or exact-email key; ``GET /api/v2/users/{user}`` looks a username up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from coder_tasks_contract.server.domain.query import QueryError, search_terms
from coder_tasks_contract.server.golang.gofmt import go_quote

USER_STATUSES = ("active", "dormant", "suspended")
LOGIN_TYPES = ("github", "none", "oidc", "password", "token")
TIME_KEYS = ("last_seen_after", "last_seen_before", "created_after", "created_before")
KEYS = ("search", "status", "role", "login_type", "github_com_user_id", *TIME_KEYS)


@dataclass(frozen=True)
class UserFilter:
    """What the user list keeps; an empty value means no filter on it."""

    search: str = ""
    status: tuple[str, ...] = ()
    role: tuple[str, ...] = ()
    login_type: tuple[str, ...] = ()
    github_com_user_id: int = 0
    times: tuple[tuple[str, datetime], ...] = ()  # (key, bound) for each time key given


def _rfc3339(key: str, raw: str) -> datetime | str:
    """``Time3339Nano``: the lower-cased term is upper-cased again, then parsed; a string is the error detail."""
    try:
        when = datetime.fromisoformat(raw.upper().replace("Z", "+00:00"))
    except ValueError:
        return f"Query param {go_quote(key)} must be a valid date format (2006-01-02T15:04:05.999999999Z07:00)"
    return when if when.tzinfo else f"Query param {go_quote(key)} must be a valid date format (missing time zone)"


def parse_user_query(query: str) -> UserFilter:
    """Parse ``q`` into a ``UserFilter`` or raise ``QueryError`` with Coder's validations (field, detail)."""
    if query == "":
        return UserFilter()
    values = search_terms(query.lower(), "search")
    errors: list[tuple[str, str]] = []

    def last(key: str) -> str:
        return values.get(key, [""])[0]

    def listed(key: str, allowed: tuple[str, ...] | None) -> tuple[str, ...]:
        terms = tuple(t for t in last(key).split(",") if last(key))
        bad = [t for t in terms if allowed is not None and t not in allowed]
        if bad:
            errors.append((key, f"Query param {go_quote(key)} has invalid values: {','.join(bad)}"))
            return ()
        return terms

    github_id = 0
    if last("github_com_user_id"):
        raw = last("github_com_user_id")
        try:
            github_id = int(raw, 10)
        except ValueError:
            # Inferred wording, after the parser's other integer errors (strconv's error in parentheses).
            errors.append(
                (
                    "github_com_user_id",
                    f'Query param "github_com_user_id" must be a valid 64-bit integer '
                    f"(strconv.ParseInt: parsing {go_quote(raw)}: invalid syntax)",
                )
            )
    times: list[tuple[str, datetime]] = []
    for key in TIME_KEYS:
        if last(key):
            parsed = _rfc3339(key, last(key))
            if isinstance(parsed, str):
                errors.append((key, parsed))
            else:
                times.append((key, parsed))
    result = UserFilter(
        search=last("search"),
        status=listed("status", USER_STATUSES),
        role=listed("role", None),
        login_type=listed("login_type", LOGIN_TYPES),
        github_com_user_id=github_id,
        times=tuple(times),
    )
    for key in sorted(set(values) - set(KEYS)):
        errors.append((key, f"{go_quote(key)} is not a valid query param"))
    if errors:
        raise QueryError(errors)
    return result
