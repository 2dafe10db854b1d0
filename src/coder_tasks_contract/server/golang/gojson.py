"""Decode a request body the way Coder's ``httpapi.Read`` does (Go's ``json.Decoder``), with Go's error texts.

Coder answers a body it cannot decode with 400 ``Request body must be valid JSON.`` and the decoder's error as
``detail``: ``EOF`` for an empty body, ``unexpected EOF`` for a truncated one, ``invalid character 'x' looking for
beginning of value`` for a syntax error, ``json: cannot unmarshal number into Go struct field
CreateTaskRequest.input of type string`` for a wrong type, and google/uuid's text (``invalid UUID length: 3``) for a
bad UUID string. The rules reproduced here:

- Only the first JSON value is read; bytes after it are ignored (``Decoder.Decode``).
- Syntax is checked for the whole value before any field is assigned.
- Object keys match struct fields exactly, else case-insensitively; unknown keys are ignored; the last one wins.
- ``null`` leaves a field unchanged. A wrong type is remembered and decoding goes on (the first one is reported);
  a UUID parse error stops decoding at once and wins over an earlier type error.
- Invalid UTF-8 and lone surrogate escapes become U+FFFD.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from coder_tasks_contract.server.golang.gofmt import UUIDError, go_quote_char, parse_uuid

_SPACE = frozenset(b" \t\r\n")
_DIGITS = frozenset(b"0123456789")
_HEXDIGITS = frozenset(b"0123456789abcdefABCDEF")
MAX_DEPTH = 10000


class DecodeError(ValueError):
    """The body is not a value of the expected shape; ``str()`` is Go's error text."""


@dataclass(frozen=True)
class Struct:
    """A Go request struct: its Go type name and its JSON fields with their kinds (``string``, ``uuid``, ``bool``)."""

    name: str
    fields: dict[str, str]
    go_types: dict[str, str] = field(default_factory=dict)  # Go type names that differ from the kind's default


def _syntax(byte: int, context: str) -> DecodeError:
    return DecodeError(f"invalid character {go_quote_char(byte)} {context}")


class _Scanner:
    """A port of encoding/json's scanner: finds the end of the first value or raises Go's syntax error."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _peek(self) -> int:
        if self.pos >= len(self.data):
            raise DecodeError("unexpected EOF")
        return self.data[self.pos]

    def _skip_space(self) -> None:
        while self.pos < len(self.data) and self.data[self.pos] in _SPACE:
            self.pos += 1

    def first_value(self) -> tuple[int, int]:
        """Start and end offsets of the first value; ``EOF`` if the body holds only whitespace."""
        self._skip_space()
        if self.pos >= len(self.data):
            raise DecodeError("EOF")
        start = self.pos
        self._value(depth=0)
        return start, self.pos

    def _value(self, depth: int) -> None:
        """Scan one value. Iterative, with an explicit stack, so deep nesting cannot exhaust Python's stack."""
        stack: list[int] = []
        while True:
            self._skip_space()
            byte = self._peek()
            if byte in (ord("{"), ord("[")):
                stack.append(byte)
                if depth + len(stack) > MAX_DEPTH:
                    raise _syntax(byte, "exceeded max depth")
                self.pos += 1
                self._skip_space()
                closing = ord("}") if byte == ord("{") else ord("]")
                if self._peek() != closing:
                    if byte == ord("{"):
                        self._key()
                    continue
                self.pos += 1
                stack.pop()
            elif byte == ord('"'):
                self._string()
            elif byte == ord("-") or byte in _DIGITS:
                self._number()
            elif byte in (ord("t"), ord("f"), ord("n")):
                self._literal({ord("t"): b"true", ord("f"): b"false", ord("n"): b"null"}[byte])
            else:
                raise _syntax(byte, "looking for beginning of value")
            if not self._after_value(stack):
                return

    def _key(self) -> None:
        self._skip_space()
        byte = self._peek()
        if byte != ord('"'):
            raise _syntax(byte, "looking for beginning of object key string")
        self._string()
        self._skip_space()
        byte = self._peek()
        if byte != ord(":"):
            raise _syntax(byte, "after object key")
        self.pos += 1

    def _after_value(self, stack: list[int]) -> bool:
        """Close finished containers; True when another value is expected, False when the top value is done."""
        while stack:
            self._skip_space()
            byte = self._peek()
            self.pos += 1
            if stack[-1] == ord("{"):
                if byte == ord(","):
                    self._key()
                    return True
                if byte != ord("}"):
                    raise _syntax(byte, "after object key:value pair")
            else:
                if byte == ord(","):
                    return True
                if byte != ord("]"):
                    raise _syntax(byte, "after array element")
            stack.pop()
        return False

    def _string(self) -> None:
        self.pos += 1
        while True:
            byte = self._peek()
            self.pos += 1
            if byte == ord('"'):
                return
            if byte == ord("\\"):
                escape = self._peek()
                self.pos += 1
                if escape == ord("u"):
                    for _ in range(4):
                        digit = self._peek()
                        if digit not in _HEXDIGITS:
                            raise _syntax(digit, "in \\u hexadecimal character escape")
                        self.pos += 1
                elif escape not in b'bfnrt\\/"':
                    raise _syntax(escape, "in string escape code")
            elif byte < 0x20:
                raise _syntax(byte, "in string literal")

    def _digits(self) -> int:
        count = 0
        while self.pos < len(self.data) and self.data[self.pos] in _DIGITS:
            self.pos += 1
            count += 1
        return count

    def _number(self) -> None:
        if self.data[self.pos] == ord("-"):
            self.pos += 1
            byte = self._peek()
            if byte not in _DIGITS:
                raise _syntax(byte, "in numeric literal")
        if self.data[self.pos] == ord("0"):
            self.pos += 1
        else:
            self._digits()
        if self.pos < len(self.data) and self.data[self.pos] == ord("."):
            self.pos += 1
            byte = self._peek()
            if byte not in _DIGITS:
                raise _syntax(byte, "after decimal point in numeric literal")
            self._digits()
        if self.pos < len(self.data) and self.data[self.pos] in b"eE":
            self.pos += 1
            if self._peek() in b"+-":
                self.pos += 1
            byte = self._peek()
            if byte not in _DIGITS:
                raise _syntax(byte, "in exponent of numeric literal")
            self._digits()

    def _literal(self, word: bytes) -> None:
        self.pos += 1
        for expected in word[1:]:
            byte = self._peek()
            if byte != expected:
                raise _syntax(byte, f"in literal {word.decode()} (expecting {go_quote_char(expected)})")
            self.pos += 1


def _kind(raw: bytes) -> str:
    """The JSON kind of a syntactically valid value, named as Go's UnmarshalTypeError names it."""
    first = raw.lstrip(b" \t\r\n")[:1]
    return {b"{": "object", b"[": "array", b'"': "string", b"t": "bool", b"f": "bool", b"n": "null"}.get(
        first, "number"
    )


def _go_string(raw: bytes) -> str:
    """A JSON string token decoded like Go: invalid UTF-8 and lone surrogates become U+FFFD."""
    text: str = json.loads(raw.decode("utf-8", "replace"))
    return "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in text)


def _members(raw: bytes) -> list[tuple[str, bytes]]:
    """The key/raw-value pairs of a syntactically valid object, in order, values left undecoded."""
    scanner = _Scanner(raw)
    scanner.pos = 1
    members: list[tuple[str, bytes]] = []
    scanner._skip_space()
    if raw[scanner.pos] == ord("}"):
        return members
    while True:
        scanner._skip_space()
        key_start = scanner.pos
        scanner._string()
        key = _go_string(raw[key_start : scanner.pos])
        scanner._skip_space()
        scanner.pos += 1  # ':'
        scanner._skip_space()
        value_start = scanner.pos
        scanner._value(depth=0)
        members.append((key, raw[value_start : scanner.pos]))
        scanner._skip_space()
        scanner.pos += 1  # ',' or '}'
        if raw[scanner.pos - 1] == ord("}"):
            return members


def decode(body: bytes, struct: Struct) -> dict[str, Any]:
    """Decode ``body`` into the fields of ``struct``; fields not given are absent. Raises ``DecodeError``."""
    start, end = _Scanner(body).first_value()
    raw = body[start:end]
    kind = _kind(raw)
    if kind == "null":
        return {}
    if kind != "object":
        raise DecodeError(f"json: cannot unmarshal {kind} into Go value of type codersdk.{struct.name}")
    by_folded = {name.lower(): name for name in struct.fields}
    result: dict[str, Any] = {}
    first_type_error: DecodeError | None = None
    for key, value_raw in _members(raw):
        name = key if key in struct.fields else by_folded.get(key.lower())
        if name is None:
            continue
        field_kind = struct.fields[name]
        value_kind = _kind(value_raw)
        if value_kind == "null":
            continue
        expected = "string" if field_kind in ("string", "uuid") else field_kind
        if value_kind != expected:
            if first_type_error is None:
                go_type = (
                    struct.go_types.get(name) or {"string": "string", "uuid": "uuid.UUID", "bool": "bool"}[field_kind]
                )
                first_type_error = DecodeError(
                    f"json: cannot unmarshal {value_kind} into Go struct field {struct.name}.{name} of type {go_type}"
                )
            continue
        if field_kind == "bool":
            result[name] = value_raw == b"true"
            continue
        text = _go_string(value_raw)
        if field_kind == "uuid":
            try:
                text = parse_uuid(text)
            except UUIDError as exc:
                raise DecodeError(str(exc)) from None
        result[name] = text
    if first_type_error is not None:
        raise first_type_error
    return result
