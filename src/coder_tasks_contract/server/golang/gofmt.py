"""Go's text formats, reproduced so the fake's bytes match Coder's: ``%q`` quoting, RFC 3339 times,
``encoding/json`` output and ``google/uuid`` parsing (with its error texts)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any

_NAMED_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def _quote_rune(ch: str, quote: str) -> str:
    if ch == quote or ch == "\\":
        return "\\" + ch
    if ch.isprintable():
        return ch
    if ch in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[ch]
    code = ord(ch)
    if 0xD800 <= code <= 0xDFFF:  # cannot come from valid UTF-8: Go shows the replacement character
        return "\\ufffd"
    if code < 0x80:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def go_quote(text: str) -> str:
    """``strconv.Quote`` / ``fmt.Sprintf("%q")``: a double-quoted Go string literal."""
    return '"' + "".join(_quote_rune(ch, '"') for ch in text) + '"'


def go_quote_char(byte: int) -> str:
    """``quoteChar`` of encoding/json's scanner: how a byte is shown in "invalid character ..." errors."""
    if byte == ord("'"):
        return "'\\''"
    if byte == ord('"'):
        return "'\"'"
    # Go converts the byte to a rune (Latin-1), then quotes it.
    return "'" + _quote_rune(chr(byte), "'") + "'"


def rfc3339(when: datetime) -> str:
    """Go's ``time.RFC3339Nano`` as ``encoding/json`` writes it: UTC ``Z``, fraction without trailing zeros."""
    when = when.astimezone(timezone.utc)
    text = when.strftime("%Y-%m-%dT%H:%M:%S")
    if when.microsecond:
        text += ("." + f"{when.microsecond:06d}").rstrip("0")
    return text + "Z"


def go_json(value: Any) -> bytes:
    """``json.Encoder`` with HTML escaping (Coder's ``httpapi.Write``): compact, ``<>&`` and U+2028/9 escaped,
    and a trailing newline."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    # These characters can only occur inside JSON strings, so plain replacement is safe.
    for raw, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return (text + "\n").encode("utf-8")


class UUIDError(ValueError):
    """google/uuid's parse error; ``str()`` is Go's error text."""


_HEX = set("0123456789abcdefABCDEF")


def parse_uuid(text: str) -> str:
    """``uuid.Parse`` from google/uuid: the canonical lower-case form, or ``UUIDError`` with Go's message.

    Accepts the 36-char form, ``urn:uuid:`` + 36, any one character + 36 + any one character (Go does not check
    the braces), and 32 hex digits. Lengths are in bytes, as in Go.
    """
    raw = text.encode("utf-8", "surrogatepass")
    length = len(raw)
    if length == 32:
        if not all(chr(b) in _HEX for b in raw):
            raise UUIDError("invalid UUID format")
        return str(uuid.UUID(raw.decode("ascii")))
    if length == 45:
        if raw[:9].decode("utf-8", "replace").lower() != "urn:uuid:":
            raise UUIDError(f"invalid urn prefix: {go_quote(raw[:9].decode('utf-8', 'replace'))}")
        raw = raw[9:]
    elif length == 38:
        raw = raw[1:]
    elif length != 36:
        raise UUIDError(f"invalid UUID length: {length}")
    body = raw[:36]
    if any(body[i] != ord("-") for i in (8, 13, 18, 23)):
        raise UUIDError("invalid UUID format")
    hex_digits = body[:8] + body[9:13] + body[14:18] + body[19:23] + body[24:36]
    if not all(chr(b) in _HEX for b in hex_digits):
        raise UUIDError("invalid UUID format")
    return str(uuid.UUID(hex_digits.decode("ascii")))


def try_uuid(text: str) -> str | None:
    """The canonical UUID if ``text`` parses as one (Go's rules), else None."""
    try:
        return parse_uuid(text)
    except UUIDError:
        return None


# unicode.IsSpace: Latin-1 spaces plus the White_Space characters beyond it.
_GO_SPACES = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


def go_trim_space(text: str) -> str:
    """``strings.TrimSpace``: Python's ``str.strip()`` would also remove \\x1c-\\x1f, which Go keeps."""
    start, end = 0, len(text)
    while start < end and text[start] in _GO_SPACES:
        start += 1
    while end > start and text[end - 1] in _GO_SPACES:
        end -= 1
    return text[start:end]


def _unescape(text: str, *, query: bool) -> str | None:
    """``url.unescape``: ``%XX`` must be valid hex (else None, Go's error); ``+`` is a space in a query."""
    out = bytearray()
    raw = text.encode("utf-8", "surrogateescape")
    i = 0
    while i < len(raw):
        byte = raw[i]
        if byte == ord("%"):
            pair = raw[i + 1 : i + 3]
            if len(pair) < 2 or not all(chr(b) in _HEX for b in pair):
                return None
            out.append(int(pair, 16))
            i += 3
            continue
        out.append(ord(" ") if query and byte == ord("+") else byte)
        i += 1
    return out.decode("utf-8", "replace")


def go_parse_query(query_string: bytes) -> list[tuple[str, str]]:
    """``url.ParseQuery`` as ``r.URL.Query()`` uses it: pairs split on ``&``; a pair with ``;`` or a bad escape is
    dropped (Go records an error and skips it, and Coder ignores the error)."""
    pairs: list[tuple[str, str]] = []
    for part in query_string.decode("latin-1").split("&"):
        if not part or ";" in part:
            continue
        key, _, value = part.partition("=")
        key_text, value_text = _unescape(key, query=True), _unescape(value, query=True)
        if key_text is None or value_text is None:
            continue
        pairs.append((key_text, value_text))
    return pairs


def query_values(pairs: list[tuple[str, str]], key: str) -> list[str]:
    return [value for name, value in pairs if name == key]


_PATH_SAFE = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~$&+,/:;=@")


def go_escape_path(path: str) -> str:
    """``url.PathEscape``-like escaping of a whole path (``escape(p, encodePath)``)."""
    return "".join(chr(b) if b in _PATH_SAFE else f"%{b:02X}" for b in path.encode("utf-8", "surrogateescape"))


def routing_path(decoded: str, raw: bytes | None) -> str:
    """The path chi routes on: ``URL.RawPath`` when the request's encoding differs from Go's canonical one
    (then path parameters stay percent-encoded, e.g. ``a%2Fb``), else the decoded path."""
    if not raw:
        return decoded
    raw_text = raw.decode("latin-1")
    if "%" not in raw_text or go_escape_path(decoded) == raw_text:
        return decoded
    return raw_text
