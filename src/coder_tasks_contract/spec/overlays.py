"""Builds a contract level's OpenAPI document: the hand-written base ``spec/coder-tasks.yaml`` with the overlays of
``spec/levels/`` applied, oldest level first. The overlay format is described in ``spec/levels/README.md``.

The base stays the single source of truth: an overlay says only what changed at its level, so what differs between
two levels can be read in one file. The result is a plain dict (the caller may change it freely).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from coder_tasks_contract import resources
from coder_tasks_contract.spec.vocabulary import OPENAPI_METHODS
from coder_tasks_contract.transport.paths import TASKS

BASE = resources.base_spec()
LEVELS_DIR = resources.levels_dir()
KEYS = ("level", "extends", "summary", "mounts", "merge", "set", "add", "remove")
LINKS_REF = "#/components/links/"


class OverlayError(ValueError):
    """An overlay that cannot be read or applied; the message names the file and the problem."""


@dataclass(frozen=True)
class Overlay:
    """One ``spec/levels/<level>.yaml``: the changes that make the ``extends`` level's document this level's."""

    level: str
    extends: str | None
    summary: str
    path: Path
    #: Extra mounts: prefix -> operationId suffix. Every base task path is copied there last (see :func:`mount`).
    mounts: dict[str, str] = field(default_factory=dict)
    merge: dict[str, Any] = field(default_factory=dict)
    set: dict[str, Any] = field(default_factory=dict)
    add: dict[str, list[Any]] = field(default_factory=dict)
    remove: dict[str, list[Any]] = field(default_factory=dict)


def overlay_path(level: str, directory: Path = LEVELS_DIR) -> Path:
    return directory / f"{level}.yaml"


def load(level: str, directory: Path = LEVELS_DIR) -> Overlay:
    """Read and check the overlay of ``level``."""
    path = overlay_path(level, directory)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise OverlayError(f"cannot read {path}: {type(exc).__name__}: {exc}") from None
    if not isinstance(data, dict):
        raise OverlayError(f"{path}: expected a mapping with the keys {', '.join(KEYS)}")
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise OverlayError(f"{path}: unknown key(s) {', '.join(unknown)}; an overlay has {', '.join(KEYS)}")
    if str(data.get("level")) != level:
        raise OverlayError(f"{path}: says level {data.get('level')!r}, but the file is named for {level!r}")
    for key, kind in (("mounts", dict), ("merge", dict), ("set", dict), ("add", dict), ("remove", dict)):
        if not isinstance(data.get(key) or {}, kind):
            raise OverlayError(f"{path}: {key} must be a mapping")
    for key in ("add", "remove"):
        for pointer, items in (data.get(key) or {}).items():
            if not isinstance(items, list):
                raise OverlayError(f"{path}: {key}[{pointer!r}] must be a list of items")
    extends = data.get("extends")
    return Overlay(
        level=level,
        extends=None if extends is None else str(extends),
        summary=" ".join(str(data.get("summary", "")).split()),
        path=path,
        mounts={str(k): str(v) for k, v in (data.get("mounts") or {}).items()},
        merge=data.get("merge") or {},
        set=data.get("set") or {},
        add=data.get("add") or {},
        remove=data.get("remove") or {},
    )


def chain(level: str, directory: Path = LEVELS_DIR) -> list[Overlay]:
    """The overlays from the root level (``extends: null``) to ``level``, in the order they apply."""
    found: list[Overlay] = []
    name: str | None = level
    while name is not None:
        if any(overlay.level == name for overlay in found):
            raise OverlayError(f"overlays extend each other in a circle: {' <- '.join(o.level for o in found)}")
        overlay = load(name, directory)
        found.append(overlay)
        name = overlay.extends
    return list(reversed(found))


# ---- the operations ---------------------------------------------------------------------------------------------


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON Merge Patch: objects merge key by key, ``null`` deletes a key, anything else (arrays
    included) replaces. Dicts of ``target`` are changed in place, so YAML anchors shared in the base stay shared."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = merge_patch(target.get(key), value)
    return target


def _tokens(pointer: str) -> list[str]:
    if not pointer.startswith("/"):
        raise OverlayError(f"{pointer!r} is not a JSON Pointer (RFC 6901): it must start with '/'")
    return [token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/")]


def _step(node: Any, token: str, pointer: str) -> Any:
    if isinstance(node, dict) and token in node:
        return node[token]
    if isinstance(node, list) and token.isdigit() and int(token) < len(node):
        return node[int(token)]
    raise OverlayError(f"{pointer}: nothing at {token!r}")


def resolve(document: Any, pointer: str) -> Any:
    """The value at a JSON Pointer (RFC 6901: ``~1`` is ``/``, ``~0`` is ``~``)."""
    node = document
    for token in _tokens(pointer):
        node = _step(node, token, pointer)
    return node


def set_value(document: Any, pointer: str, value: Any) -> None:
    """Put ``value`` (verbatim: nulls are kept) at ``pointer``; its parent must exist."""
    *parents, last = _tokens(pointer)
    node = document
    for token in parents:
        node = _step(node, token, pointer)
    if not isinstance(node, dict):
        raise OverlayError(f"{pointer}: the parent is not an object")
    node[last] = copy.deepcopy(value)


def _array(document: Any, pointer: str) -> list[Any]:
    node = resolve(document, pointer)
    if not isinstance(node, list):
        raise OverlayError(f"{pointer}: not an array")
    return node


def apply(document: dict[str, Any], overlay: Overlay) -> None:
    """One overlay's changes, in this order: ``merge``, ``set``, ``add``, ``remove`` (mounts come last of all)."""
    try:
        merge_patch(document, overlay.merge)
        for pointer, value in overlay.set.items():
            set_value(document, pointer, value)
        for pointer, items in overlay.add.items():
            array = _array(document, pointer)
            for item in items:
                if item in array:
                    raise OverlayError(f"add {pointer}: {item!r} is already there")
                array.append(copy.deepcopy(item))
        for pointer, items in overlay.remove.items():
            array = _array(document, pointer)
            for item in items:
                if item not in array:
                    raise OverlayError(f"remove {pointer}: {item!r} is not there")
                array.remove(item)
    except OverlayError as exc:
        raise OverlayError(f"{overlay.path}: {exc}") from None


def _suffix_links(node: dict[str, Any], suffix: str) -> None:
    """Point a copied operation's response links at the copies of the link components."""
    for response in (node.get("responses") or {}).values():
        links = response.get("links") if isinstance(response, dict) else None
        for link in (links or {}).values():
            ref = link.get("$ref", "")
            if ref.startswith(LINKS_REF):
                link["$ref"] = ref + suffix
            elif "operationId" in link:
                link["operationId"] += suffix


def mount(document: dict[str, Any], prefix: str, suffix: str, links: list[str]) -> None:
    """Serve every task path of the base mount (``/api/experimental/tasks...``) at ``prefix`` as well: a copy of
    each path item whose operationIds carry ``suffix`` (operationIds are unique), linked to copies of the base
    link components ``links`` (so a create at ``prefix`` leads to the other operations at ``prefix``)."""
    if not suffix:
        raise OverlayError(f"mount {prefix}: needs an operationId suffix")
    paths = document["paths"]
    base = [(key, item) for key, item in paths.items() if key == TASKS or key.startswith(TASKS + "/")]
    for key, item in base:
        copied_key = prefix + key[len(TASKS) :]
        if copied_key in paths:
            raise OverlayError(f"mount {prefix}: {copied_key} is already in the document")
        copied = copy.deepcopy(item)
        for method in OPENAPI_METHODS:
            operation = copied.get(method)
            if isinstance(operation, dict):
                operation["operationId"] = str(operation["operationId"]) + suffix
                _suffix_links(operation, suffix)
        paths[copied_key] = copied
    components = document.get("components", {}).get("links", {})
    for name in links:
        copied_link = copy.deepcopy(components[name])
        copied_link["operationId"] = str(copied_link["operationId"]) + suffix
        components[name + suffix] = copied_link


def build(level: str, *, base: Path | None = None, directory: Path = LEVELS_DIR) -> dict[str, Any]:
    """The document of ``level``: the base, each overlay of its chain, then the mounts the chain declares."""
    source = base or BASE
    try:
        document = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise OverlayError(f"cannot read the base document {source}: {type(exc).__name__}: {exc}") from None
    mounts: dict[str, str] = {}
    for overlay in chain(level, directory):
        apply(document, overlay)
        mounts.update(overlay.mounts)
    base_links = list(document.get("components", {}).get("links", {}))
    for prefix, suffix in mounts.items():
        mount(document, prefix, suffix, base_links)
    # Where the level serves the task operations and under which operationId suffix (the base mount has none).
    document["info"]["x-coder-mounts"] = {TASKS: "", **mounts}
    document["info"]["x-coder-level"] = level
    result: dict[str, Any] = document
    return result
