"""Request bodies decoded like Go's json.Decoder, with its error texts (ERR-3 "Bad JSON detail examples")."""

from __future__ import annotations

import pytest

from coder_tasks_contract.server.golang.gojson import DecodeError, Struct, decode

CREATE = Struct(
    "CreateTaskRequest",
    {"template_version_id": "uuid", "template_version_preset_id": "uuid", "input": "string", "name": "string"},
)
UUID = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        pytest.param(b"", "EOF", id="empty"),
        pytest.param(b" \n\t", "EOF", id="whitespace"),
        pytest.param(b'{"input":', "unexpected EOF", id="truncated"),
        pytest.param(b"x", "invalid character 'x' looking for beginning of value", id="garbage"),
        pytest.param(b"{x}", "invalid character 'x' looking for beginning of object key string", id="bad-key"),
        pytest.param(b'{"a" 1}', "invalid character '1' after object key", id="missing-colon"),
        pytest.param(b'{"a":1 "b"}', "invalid character '\"' after object key:value pair", id="missing-comma"),
        pytest.param(b'{"a":[1 2]}', "invalid character '2' after array element", id="array"),
        pytest.param(b'{"a":"\x01"}', "invalid character '\\x01' in string literal", id="control-char"),
        pytest.param(b'{"a":"\\x"}', "invalid character 'x' in string escape code", id="bad-escape"),
        pytest.param(b'{"a":tx}', "invalid character 'x' in literal true (expecting 'r')", id="bad-literal"),
        pytest.param(b'{"a":01}', "invalid character '1' after object key:value pair", id="leading-zero"),
        pytest.param(b'{"a":-}', "invalid character '}' in numeric literal", id="bare-minus"),
        pytest.param(b"[" * 10001, "invalid character '[' exceeded max depth", id="too-deep"),
        pytest.param(
            b'{"input":5}',
            "json: cannot unmarshal number into Go struct field CreateTaskRequest.input of type string",
            id="number-for-string",
        ),
        pytest.param(
            b'{"template_version_id":true}',
            "json: cannot unmarshal bool into Go struct field CreateTaskRequest.template_version_id of type uuid.UUID",
            id="bool-for-uuid",
        ),
        pytest.param(b'{"template_version_id":"abc"}', "invalid UUID length: 3", id="short-uuid"),
        pytest.param(b'{"template_version_preset_id":""}', "invalid UUID length: 0", id="empty-preset"),
        pytest.param(b'{"input":1,"name":"x","template_version_id":"abc"}', "invalid UUID length: 3", id="uuid-wins"),
        pytest.param(
            b"[]", "json: cannot unmarshal array into Go value of type codersdk.CreateTaskRequest", id="array"
        ),
        pytest.param(b"42", "json: cannot unmarshal number into Go value of type codersdk.CreateTaskRequest", id="num"),
    ],
)
def test_decode_errors(body: bytes, detail: str) -> None:
    """ERR-3: the decoder error Coder puts into the 400 body's detail."""
    with pytest.raises(DecodeError) as caught:
        decode(body, CREATE)
    assert str(caught.value) == detail


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(b"null", {}, id="null-body"),
        pytest.param(b'{"input":null}', {}, id="null-field-untouched"),
        pytest.param(b'{"unknown":[1,{"x":2}],"input":"a"}', {"input": "a"}, id="unknown-fields-ignored"),
        pytest.param(b'{"INPUT":"a"}', {"input": "a"}, id="case-insensitive-key"),
        pytest.param(b'{"input":"a","input":"b"}', {"input": "b"}, id="last-wins"),
        pytest.param(b'{"input":"a"} trailing junk', {"input": "a"}, id="only-first-value"),
        pytest.param(b'{"input":"\\ud800"}', {"input": "\ufffd"}, id="lone-surrogate"),
        pytest.param(b'{"input":"\xff"}', {"input": "\ufffd"}, id="invalid-utf8"),
        pytest.param(
            ('{"template_version_id":"' + UUID.upper() + '"}').encode(), {"template_version_id": UUID}, id="uuid"
        ),
        pytest.param(b'{"a":' + b"[" * 3000 + b"]" * 3000 + b"}", {}, id="deep-but-legal"),
    ],
)
def test_decode_values(body: bytes, expected: dict[str, str]) -> None:
    """Go's decoding rules the fake reproduces: null, unknown keys, case folding, first value only, U+FFFD."""
    assert decode(body, CREATE) == expected
