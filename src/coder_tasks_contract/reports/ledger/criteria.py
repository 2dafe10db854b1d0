"""The elements of the ten test coverage criteria for REST APIs, read from a level's OpenAPI document.

The criteria are those of Martin-Lopez, Segura and Ruiz-Cortes, "Test coverage criteria for RESTful web APIs"
(A-TEST 2019), which the Restats tool computes from a document and a traffic log. Input side: paths, operations,
parameters, parameter values (enum and boolean parameters; for ``q``, its keys and ``status:`` values), request
content types, operation flows (the document's links). Output side: status code classes, status codes, response
body properties, response content types. Each :class:`Element` is one thing a run can be seen to reach; its ``key``
is what ``tests/unreachable.yaml`` patterns match and what ``ledger.md`` shows.

Response body elements of a (status, property path), e.g. ``200 tasks[].current_state``: the property seen
present; a nullable one also ``...: null`` and ``...: set``; an enum one ``...: "active"`` per value; a ``oneOf`` /
``anyOf`` of several non-null schemas ``...: oneOf[i]`` per branch. ``[]`` stands for every item of an array.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from coder_tasks_contract.spec.vocabulary import OPENAPI_METHODS

HTTP_METHODS = OPENAPI_METHODS
PATH = "path"
OPERATION = "operation"
PARAMETER = "parameter"
PARAMETER_VALUE = "parameter value"
REQUEST_TYPE = "request content type"
FLOW = "operation flow"
STATUS_CLASS = "status code class"
STATUS_CODE = "status code"
BODY = "response body"
RESPONSE_TYPE = "response content type"
CRITERIA = (PATH, OPERATION, PARAMETER, PARAMETER_VALUE, REQUEST_TYPE, FLOW, STATUS_CLASS, STATUS_CODE, BODY,
            RESPONSE_TYPE)  # fmt: skip

#: The Test Coverage Levels of the paper: TCLn holds when every criterion of levels 1..n is at 100% (here: of its
#: reachable elements). TCL0 is no criterion complete.
TCL_LEVELS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (1, (PATH,)),
    (2, (OPERATION,)),
    (3, (REQUEST_TYPE, RESPONSE_TYPE)),
    (4, (PARAMETER, STATUS_CLASS)),
    (5, (PARAMETER_VALUE, STATUS_CODE)),
    (6, (BODY,)),
    (7, (FLOW,)),
)
MAX_TCL = TCL_LEVELS[-1][0]

#: The keys of Coder's task search query (QUERY-1 to QUERY-7); its ``status:`` values are the TaskStatus enum.
QUERY_PARAMETER = "q"
QUERY_KEYS = ("owner", "organization", "status")


@dataclass(frozen=True)
class Element:
    """One element of a criterion: of an operation (``operation`` "" for a path), under a response status for the
    output criteria (``statuses``: the documented statuses it depends on)."""

    criterion: str
    operation: str
    key: str
    statuses: tuple[int, ...] = ()


class Document:
    """A level's OpenAPI document with its local ``$ref``s resolved on the way."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.raw = document

    def deref(self, node: Any) -> Any:
        seen: set[str] = set()
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and node["$ref"] not in seen:
            ref = node["$ref"]
            seen.add(ref)
            target: Any = self.raw
            for part in ref.removeprefix("#/").split("/"):
                target = (
                    target.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(target, Mapping) else {}
                )
            node = target
        return node

    def operations(self) -> Iterator[tuple[str, str, str, Mapping[str, Any], list[Mapping[str, Any]]]]:
        """(path, METHOD, operationId, operation, parameters incl. the path item's), in document order."""
        for path, item in (self.raw.get("paths") or {}).items():
            item = self.deref(item)
            shared = [self.deref(p) for p in item.get("parameters", ())]
            for method in HTTP_METHODS:
                operation = item.get(method)
                if isinstance(operation, Mapping) and operation.get("operationId"):
                    own = [self.deref(p) for p in operation.get("parameters", ())]
                    names = {(p.get("in"), p.get("name")) for p in own}
                    merged = own + [p for p in shared if (p.get("in"), p.get("name")) not in names]
                    yield str(path), method.upper(), str(operation["operationId"]), operation, merged

    def responses(self, operation: Mapping[str, Any]) -> Iterator[tuple[int, Mapping[str, Any]]]:
        for code, response in (operation.get("responses") or {}).items():
            if str(code).isdigit():
                yield int(code), self.deref(response)


def elements(document: Mapping[str, Any]) -> list[Element]:
    """Every element of the ten criteria in ``document``, criterion by criterion in document order."""
    doc = Document(document)
    found: list[Element] = []
    paths_seen: dict[str, None] = {}
    for path, method, operation_id, operation, parameters in doc.operations():
        paths_seen.setdefault(path, None)
        found.append(Element(OPERATION, operation_id, f"{method} {path}"))
        found += _parameter_elements(doc, operation_id, parameters)
        body = doc.deref(operation.get("requestBody") or {})
        found += [Element(REQUEST_TYPE, operation_id, str(media)) for media in body.get("content") or {}]
        found += _response_elements(doc, operation_id, operation)
    found += [Element(PATH, "", path) for path in paths_seen]
    order = {name: index for index, name in enumerate(CRITERIA)}
    return sorted(found, key=lambda element: order[element.criterion])  # stable: document order within each


def _parameter_elements(doc: Document, operation_id: str, parameters: list[Mapping[str, Any]]) -> list[Element]:
    found: list[Element] = []
    for parameter in parameters:
        where, name = str(parameter.get("in")), str(parameter.get("name"))
        found.append(Element(PARAMETER, operation_id, f"{where} {name}"))
        if where == "query" and name == QUERY_PARAMETER:
            statuses = doc.deref({"$ref": "#/components/schemas/TaskStatus"}).get("enum") or ()
            found += [Element(PARAMETER_VALUE, operation_id, f"q {key}:") for key in QUERY_KEYS]
            found += [Element(PARAMETER_VALUE, operation_id, f"q status:{value}") for value in statuses]
            continue
        schema = doc.deref(parameter.get("schema") or {})
        values = schema.get("enum") or ([True, False] if schema.get("type") == "boolean" else [])
        found += [Element(PARAMETER_VALUE, operation_id, f"{name}={json.dumps(value)}") for value in values]
    return found


def _response_elements(doc: Document, operation_id: str, operation: Mapping[str, Any]) -> list[Element]:
    found: list[Element] = []
    classes: dict[str, list[int]] = {}
    for status, response in doc.responses(operation):
        classes.setdefault(f"{status // 100}XX", []).append(status)
        found.append(Element(STATUS_CODE, operation_id, str(status), (status,)))
        for media, content in (response.get("content") or {}).items():
            found.append(Element(RESPONSE_TYPE, operation_id, f"{status} {media}", (status,)))
            if "json" in str(media):
                schema = doc.deref(content.get("schema") or {})
                found += [Element(BODY, operation_id, f"{status} {key}", (status,)) for key in _body_keys(doc, schema)]
        for name, link in (response.get("links") or {}).items():
            target = doc.deref(link).get("operationId", "?")
            found.append(Element(FLOW, operation_id, f"{status} {name} -> {target}", (status,)))
    found += [Element(STATUS_CLASS, operation_id, name, tuple(codes)) for name, codes in classes.items()]
    return found


def _body_keys(doc: Document, schema: Mapping[str, Any], path: str = "", depth: int = 0) -> list[str]:
    """The body element keys of a schema at ``path`` (without the status), properties depth first."""
    if depth > 12:
        return []  # a recursive schema; none of the task API's is, this only keeps a bad overlay from looping
    keys, schema = _alternatives(doc, schema, path)
    keys += [f"{path}: {json.dumps(value)}" for value in schema.get("enum") or () if value is not None]
    for name, sub in (schema.get("properties") or {}).items():
        child = f"{path}.{name}" if path else str(name)
        keys.append(child)
        keys += _body_keys(doc, doc.deref(sub), child, depth + 1)
    items = schema.get("items")
    if isinstance(items, Mapping):
        keys += _body_keys(doc, doc.deref(items), f"{path}[]", depth + 1)
    return keys


def _alternatives(doc: Document, schema: Mapping[str, Any], path: str) -> tuple[list[str], Mapping[str, Any]]:
    """The null/set keys of a nullable property and the branch keys of a ``oneOf``/``anyOf`` of several schemas;
    and the schema to look into further (the one non-null branch of ``oneOf: [X, {type: 'null'}]``)."""
    branches = [doc.deref(branch) for branch in (schema.get("oneOf") or schema.get("anyOf") or ())]
    non_null = [branch for branch in branches if branch.get("type") != "null"]
    types = schema.get("type")
    nullable = (isinstance(types, list) and "null" in types) or len(non_null) < len(branches)
    keys = [f"{path}: null", f"{path}: set"] if path and nullable else []
    if len(non_null) > 1:
        word = "oneOf" if schema.get("oneOf") else "anyOf"
        keys += [f"{path}: {word}[{index}]" for index in range(len(non_null))]
    elif len(non_null) == 1:
        schema = {**non_null[0], **{k: v for k, v in schema.items() if k not in ("oneOf", "anyOf")}}
    return keys, schema
