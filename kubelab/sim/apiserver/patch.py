"""The PATCH body types of kube-apiserver: JSON patch, JSON merge patch, strategic merge patch.

- ``json_patch``: RFC 6902 (add, remove, replace, move, copy, test) with RFC 6901 pointers, as
  ``github.com/evanphx/json-patch`` applies it for the apiserver; at most 10,000 operations
  (``maxJSONPatchOperations`` in ``staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go``).
- ``merge_patch``: RFC 7386.
- ``strategic_merge_patch``: ``k8s.io/apimachinery/pkg/util/strategicpatch/patch.go``. Maps merge
  recursively and ``null`` deletes; a list whose schema field has ``x-kubernetes-patch-strategy:
  merge`` merges by its ``x-kubernetes-patch-merge-key`` (or, for scalars, unions); other lists are
  replaced. Directives: ``$patch: replace|delete|merge``, ``$setElementOrder/<list>``,
  ``$deleteFromPrimitiveList/<list>``, ``$retainKeys``. The strategies and merge keys are read from
  the bundled upstream v1.34 schema (``validation._definitions``), never from a table of ours.

Every function returns a new value and leaves its inputs alone. A patch that does not apply raises
``PatchError`` (code 422, as the apiserver answers a patch it cannot apply; 400 for a malformed
patch body).
"""

from __future__ import annotations

import copy
import functools
from typing import Any

MAX_OPERATIONS = 10_000


class PatchError(Exception):
    def __init__(self, message: str, code: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# ----- RFC 7386 ---------------------------------------------------------------------------------
def merge_patch(doc: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(doc) if isinstance(doc, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


# ----- RFC 6902 ---------------------------------------------------------------------------------
def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str):
        raise PatchError("invalid JSON patch: path must be a string", 400)
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f'JSON Pointer must start with "/": {path!r}')
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _index(container: list[Any], token: str, path: str, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return len(container)
    if not token.isdigit() or (len(token) > 1 and token[0] == "0"):
        raise PatchError(f"doc is missing path: {path!r}: missing value")
    i = int(token)
    if i > len(container) or (i == len(container) and not allow_end):
        raise PatchError(f"doc is missing path: {path!r}: missing value")
    return i


def _parent(doc: Any, parts: list[str], path: str) -> Any:
    node = doc
    for token in parts[:-1]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, path, False)]
        else:
            raise PatchError(f"doc is missing path: {path!r}: missing value")
    return node


def _get(doc: Any, path: str) -> Any:
    node = doc
    for token in _pointer(path):
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, path, False)]
        else:
            raise PatchError(f"doc is missing path: {path!r}: missing value")
    return node


def _add(doc: Any, path: str, value: Any) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent = _parent(doc, parts, path)
    if isinstance(parent, dict):
        parent[parts[-1]] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, parts[-1], path, True), value)
    else:
        raise PatchError(f"doc is missing path: {path!r}: missing value")
    return doc


def _remove(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        raise PatchError("unable to remove the whole document")
    parent = _parent(doc, parts, path)
    if isinstance(parent, dict) and parts[-1] in parent:
        del parent[parts[-1]]
    elif isinstance(parent, list):
        del parent[_index(parent, parts[-1], path, False)]
    else:
        raise PatchError(f"unable to remove nonexistent key: {parts[-1]}: missing value")
    return doc


def json_patch(doc: Any, ops: Any) -> Any:
    if not isinstance(ops, list):
        raise PatchError("json: cannot unmarshal object into Go value of type jsonpatch.Patch", 400)
    if len(ops) > MAX_OPERATIONS:
        raise PatchError(
            f"The allowed maximum operations in a JSON patch is {MAX_OPERATIONS}, got {len(ops)}",
            413,
        )
    out = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict):
            raise PatchError("invalid JSON patch: an operation must be an object", 400)
        name = op.get("op")
        path = op.get("path")
        if name in ("add", "replace", "test") and "value" not in op:
            raise PatchError(f"missing value for operation {name!r}", 400)
        if name == "add":
            out = _add(out, path, copy.deepcopy(op["value"]))
        elif name == "remove":
            out = _remove(out, path)
        elif name == "replace":
            _get(out, path)  # must exist
            parts = _pointer(path)
            if not parts:
                out = copy.deepcopy(op["value"])
            else:
                parent = _parent(out, parts, path)
                if isinstance(parent, list):
                    parent[_index(parent, parts[-1], path, False)] = copy.deepcopy(op["value"])
                else:
                    parent[parts[-1]] = copy.deepcopy(op["value"])
        elif name in ("move", "copy"):
            source = op.get("from")
            value = copy.deepcopy(_get(out, source))
            if name == "move":
                if (
                    isinstance(path, str)
                    and isinstance(source, str)
                    and path.startswith(source + "/")
                ):
                    raise PatchError("Unable to move a value into one of its own children")
                out = _remove(out, source)
            out = _add(out, path, value)
        elif name == "test":
            if _get(out, path) != op["value"]:
                raise PatchError(f"testing value {path} failed: test failed")
        else:
            raise PatchError(f"Unexpected kind: {name}", 400)
    return out


# ----- strategic merge patch --------------------------------------------------------------------
@functools.cache
def _root(group: str, version: str, kind: str) -> str | None:
    from .validation import _definitions

    for name, schema in _definitions().items():
        for gvk in schema.get("x-kubernetes-group-version-kind") or []:
            if (gvk.get("group", ""), gvk.get("version"), gvk.get("kind")) == (
                group,
                version,
                kind,
            ):
                return name
    return None


def _resolve(schema: dict[str, Any] | None) -> dict[str, Any] | None:
    from .validation import _definitions

    seen = 0
    while schema is not None and "$ref" in schema and seen < 10:
        schema = _definitions().get(schema["$ref"].rsplit("/", 1)[-1])
        seen += 1
    return schema


def _field(schema: dict[str, Any] | None, key: str) -> dict[str, Any] | None:
    schema = _resolve(schema)
    if schema is None:
        return None
    props = schema.get("properties") or {}
    if key in props:
        return props[key]
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, dict) else None


def _items(schema: dict[str, Any] | None) -> dict[str, Any] | None:
    schema = _resolve(schema)
    return _resolve(schema.get("items")) if schema else None


def _strategy(field_schema: dict[str, Any] | None) -> tuple[set[str], str]:
    if not field_schema:
        return set(), ""
    strategy = set(filter(None, (field_schema.get("x-kubernetes-patch-strategy") or "").split(",")))
    return strategy, field_schema.get("x-kubernetes-patch-merge-key") or ""


def strategic_merge_patch(
    doc: dict[str, Any], patch: dict[str, Any], kind: str, api_version: str
) -> dict[str, Any]:
    group, _, version = api_version.rpartition("/")
    name = _root(group, version, kind)
    from .validation import _definitions

    schema = _definitions().get(name) if name else None
    return _merge_map(copy.deepcopy(doc), copy.deepcopy(patch), schema)


def _merge_map(
    original: dict[str, Any], patch: dict[str, Any], schema: dict[str, Any] | None
) -> dict[str, Any]:
    directive = patch.pop("$patch", None)
    if directive == "replace":
        return _strip(patch)
    if directive == "delete":
        return {}
    if directive not in (None, "merge"):
        raise PatchError(f"Unknown patch type: {directive}")
    retain = patch.pop("$retainKeys", None)
    if retain is not None:
        if not isinstance(retain, list):
            raise PatchError("invalid patch: $retainKeys must be a list")
        original = {k: v for k, v in original.items() if k in retain}
    orders = {k: patch.pop(k) for k in list(patch) if k.startswith("$setElementOrder/")}
    for k in [k for k in patch if k.startswith("$deleteFromPrimitiveList/")]:
        field = k.split("/", 1)[1]
        values = patch.pop(k)
        if isinstance(original.get(field), list) and isinstance(values, list):
            original[field] = [v for v in original[field] if v not in values]
    for key, value in patch.items():
        field_schema = _field(schema, key)
        if value is None:
            original.pop(key, None)
            continue
        current = original.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            original[key] = _merge_map(current, value, field_schema)
        elif isinstance(value, list):
            strategy, merge_key = _strategy(field_schema)
            if "merge" in strategy and isinstance(current, list):
                original[key] = _merge_list(current, value, merge_key, _items(field_schema))
            else:
                original[key] = _strip(value)
        elif isinstance(value, dict):
            original[key] = _merge_map({}, value, field_schema)
        else:
            original[key] = value
    for okey, order in orders.items():
        field = okey.split("/", 1)[1]
        _, merge_key = _strategy(_field(schema, field))
        if isinstance(original.get(field), list) and isinstance(order, list):
            original[field] = _ordered(original[field], order, merge_key)
    return original


def _strip(value: Any) -> Any:
    """A patch value with its directives removed (what a replaced field becomes)."""
    if isinstance(value, dict):
        return {
            k: _strip(v)
            for k, v in value.items()
            if not k.startswith(("$setElementOrder/", "$deleteFromPrimitiveList/"))
            and k not in ("$patch", "$retainKeys")
        }
    if isinstance(value, list):
        return [
            _strip(v) for v in value if not (isinstance(v, dict) and v.get("$patch") == "delete")
        ]
    return value


def _merge_list(
    original: list[Any], patch: list[Any], merge_key: str, item_schema: dict[str, Any] | None
) -> list[Any]:
    if any(isinstance(p, dict) and p.get("$patch") == "replace" for p in patch):
        return [_strip(p) for p in patch if not (isinstance(p, dict) and "$patch" in p)]
    if not merge_key:  # a merge list of scalars: the union, in order
        out = list(original)
        for v in patch:
            if v not in out:
                out.append(v)
        return out
    out = list(original)
    for item in patch:
        if not isinstance(item, dict) or merge_key not in item:
            raise PatchError(f"map: {item} does not contain declared merge key: {merge_key}")
        at = next(
            (
                i
                for i, o in enumerate(out)
                if isinstance(o, dict) and o.get(merge_key) == item[merge_key]
            ),
            None,
        )
        if item.get("$patch") == "delete":
            if at is not None:
                del out[at]
            continue
        if at is None:
            out.append(_merge_map({}, dict(item), item_schema))
        else:
            out[at] = _merge_map(out[at], dict(item), item_schema)
    return out


def _ordered(items: list[Any], order: list[Any], merge_key: str) -> list[Any]:
    """``$setElementOrder``: the listed items first, in that order; the others after."""
    if merge_key:
        keys = [o.get(merge_key) if isinstance(o, dict) else o for o in order]

        def key_of(x: Any) -> Any:
            return x.get(merge_key) if isinstance(x, dict) else x
    else:
        keys = list(order)

        def key_of(x: Any) -> Any:
            return x

    first = sorted((x for x in items if key_of(x) in keys), key=lambda x: keys.index(key_of(x)))
    return first + [x for x in items if key_of(x) not in keys]
