"""A session token that cannot leak through repr, str, f-strings, tracebacks (``-l``) or pickled reports."""

from __future__ import annotations

import hmac
from typing import Any, NoReturn


class Secret:
    """Holds a token; only :meth:`reveal` gives the value back, every other view shows ``Secret('****')``.

    Fixture values and locals are printed by pytest (``--showlocals``, ``--setup-show``, assertion
    introspection), so anything holding a token must hold it in this type.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Secret holds a str")
        object.__setattr__(self, "_value", value)

    def reveal(self) -> str:
        """The token itself, for the one place that must send it (an HTTP header)."""
        value: str = object.__getattribute__(self, "_value")
        return value

    def __repr__(self) -> str:
        return "Secret('****')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __bool__(self) -> bool:
        return bool(self.reveal())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self.reveal().encode(), other.reveal().encode())

    def __hash__(self) -> int:
        return hash(self.reveal())

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError("Secret is immutable")

    def __reduce__(self) -> NoReturn:
        # Pickling would carry the token into xdist reports or caches: refuse loudly instead.
        raise TypeError("a Secret is not picklable; pass Secret.reveal() explicitly where a token must travel")

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self

    def __copy__(self) -> Secret:
        return self
