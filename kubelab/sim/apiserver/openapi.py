"""The OpenAPI v3 documents kube-apiserver serves under ``/openapi/v3``, for KubeLab's kinds.

What is served: one document per group-version of the kind registry (``kinds.all_kinds()``:
group "" is ``api/v1``, any other ``apis/<group>/<version>``; never a list kept by hand), and the
discovery root that names them. kubectl reads these for ``kubectl explain`` (the component
schemas, found through the ``x-kubernetes-group-version-kind`` of the resource's operations) and
before ``apply``/``create``/``replace`` (a ``patch`` operation of the kind that lists the
``fieldValidation`` query parameter makes kubectl leave validation to the server and send
``fieldValidation=Strict``). ``/openapi/v2`` is not served: kubectl asks for it as protobuf, and a
404 is harmless once v3 answers.

The discovery root (kube-openapi ``pkg/handler3``): ``{"paths": {"<gv>": {"serverRelativeURL":
"<prefix>/openapi/v3/<gv>?hash=<H>"}}}``, the URL relative to the server root, so it carries the
prefix KubeLab serves a cluster under (``/k8s/<token>``); ``H`` is upstream's ETag, the SHA-512 of
the document's JSON in upper-case hex (``computeETag``), here of the bytes ``v3_document_bytes``
returns (compact, sorted keys, ``<``/``>``/``&`` escaped as Go's ``json.Marshal`` does).

A per-group-version document has upstream's shape (``openapi: 3.0.0``, ``info`` with the version
of ``KUBERNETES_VERSION``): ``paths`` with the group-version's resource list (``/apis/apps/v1/``),
for each kind its collection path (list, create, deletecollection), across all namespaces for a
namespaced kind (list), its item path (read, replace, patch, delete), its ``status`` and ``scale``
subresources (read, replace, patch), ``binding``/``eviction`` (create) and ``finalize`` (replace),
and the deprecated ``/watch/`` paths, each operation only for the verbs the kind's entry allows,
carrying ``x-kubernetes-action`` and ``x-kubernetes-group-version-kind`` as upstream does, and
upstream's query parameters for it (``dryRun``, ``fieldManager``, ``fieldValidation`` on writes,
``force`` on patch, the list and delete options). The connecting subresources (``exec``,
``attach``, ``portforward``, ``log``, ``proxy``) are not described. Media types are the JSON ones
(KubeLab serves no protobuf or CBOR); patch bodies name upstream's four patch types.

``components.schemas`` holds every schema the paths reference and everything those reference in
turn, taken from the real v1.34 schemas bundled with ``kubernetes-validate``
(``kubernetes-json-schema/v1.34.0-local-strict/_definitions.json``, JSON Schema 2020-12, the
directory ``validation`` reads) and turned back into upstream's OpenAPI 3.0 form:

- ``$ref: "#/$defs/X"`` becomes ``$ref: "#/components/schemas/X"``; a ``$ref`` with siblings (a
  description) is wrapped as ``allOf: [{$ref}]`` beside them, as upstream's v3 does (OpenAPI 3.0
  ignores a ``$ref``'s siblings);
- the nullable ``type: [X, "null"]`` becomes ``type: X``;
- what the strict JSON Schema added is dropped: ``additionalProperties: false`` on every object,
  the one-value ``enum`` on each kind's ``apiVersion`` and ``kind``;
- ``IntOrString`` and ``Quantity``, bare ``oneOf`` in the bundle, get upstream's v3 form back
  (``oneOf`` integer/string with ``format: int-or-string``; string/number) and the first
  paragraph of upstream's description;
- each kind's top-level schema carries ``x-kubernetes-group-version-kind: [{group, kind,
  version}]`` (the bundle has it; it is added if ever missing).

Known differences from upstream: the bundle has no ``default`` values and no ``enum`` on enumerated
fields (nor their "Possible enum values" text), so neither does this.

The documents are built once per group-version and kept (``functools.cache``): they are large and
never change. Callers share the returned dicts and must not change them.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from typing import Any

from kubelab.sim import KUBERNETES_VERSION, kinds
from kubelab.sim.apiserver.validation import _definitions

SCHEMAS = "#/components/schemas/"
META = "io.k8s.apimachinery.pkg.apis.meta.v1."
STATUS = META + "Status"
DELETE_OPTIONS = META + "DeleteOptions"
PATCH = META + "Patch"
WATCH_EVENT = META + "WatchEvent"
RESOURCE_LIST = META + "APIResourceList"

JSON = "application/json"
JSON_WATCH = "application/json;stream=watch"
PATCH_TYPES = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)

# Upstream's v3 form of the two scalar unions (apimachinery's OpenAPIV3OneOfTypes), which the
# bundle carries as a bare nullable oneOf without a description: here with the first paragraph
# of upstream's.
SCALAR_UNIONS: dict[str, dict[str, Any]] = {
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {
        "description": "IntOrString is a type that can hold an int32 or a string.  When used in "
        "JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  "
        "This allows you to have, for example, a JSON field that can accept a name or number.",
        "format": "int-or-string",
        "oneOf": [{"type": "integer"}, {"type": "string"}],
    },
    "io.k8s.apimachinery.pkg.api.resource.Quantity": {
        "description": "Quantity is a fixed-point representation of a number. It provides "
        "convenient marshaling/unmarshaling in JSON and YAML, in addition to String() and "
        "AsInt64() accessors.",
        "oneOf": [{"type": "string"}, {"type": "number"}],
    },
}

# The query parameters upstream's operations take: name -> (type, description).
QUERY: dict[str, tuple[str, str]] = {
    "allowWatchBookmarks": (
        "boolean",
        'allowWatchBookmarks requests watch events with type "BOOKMARK". Ignored unless this is '
        "a watch.",
    ),
    "continue": (
        "string",
        "The continue token of a previous list call with the same query, to fetch the next page "
        "of results.",
    ),
    "dryRun": (
        "string",
        "When present, indicates that modifications should not be persisted. Valid values are: "
        "- All: all dry run stages will be processed",
    ),
    "fieldManager": (
        "string",
        "fieldManager is a name associated with the actor or entity that is making these "
        "changes (at most 128 printable characters).",
    ),
    "fieldSelector": (
        "string",
        "A selector to restrict the list of returned objects by their fields. Defaults to "
        "everything.",
    ),
    "fieldValidation": (
        "string",
        "fieldValidation instructs the server on how to handle objects in the request "
        "(POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: "
        "unknown fields are dropped silently. - Warn: each unknown or duplicate field is "
        "reported in a warning header; the request still succeeds. - Strict: the request fails "
        "with BadRequest if any unknown or duplicate field is present.",
    ),
    "force": (
        "boolean",
        'Force is going to "force" Apply requests: the caller re-acquires fields owned by other '
        "managers. Must be unset for non-apply patch requests.",
    ),
    "gracePeriodSeconds": (
        "integer",
        "The duration in seconds before the object should be deleted. Zero means delete "
        "immediately; unset means the default grace period of the type.",
    ),
    "ignoreStoreReadErrorWithClusterBreakingPotential": (
        "boolean",
        "if set to true, an object that cannot be read from storage is deleted anyway (unsafe; "
        "requires the AllowUnsafeMalformedObjectDeletion feature).",
    ),
    "labelSelector": (
        "string",
        "A selector to restrict the list of returned objects by their labels. Defaults to "
        "everything.",
    ),
    "limit": (
        "integer",
        "limit is a maximum number of responses to return for a list call; the list's continue "
        "field then says whether more results are available.",
    ),
    "orphanDependents": (
        "boolean",
        "Deprecated: please use the PropagationPolicy. Whether the dependent objects should be "
        "orphaned.",
    ),
    "pretty": ("string", "If 'true', then the output is pretty printed."),
    "propagationPolicy": (
        "string",
        "Whether and how garbage collection will be performed: 'Orphan', 'Background' or "
        "'Foreground'.",
    ),
    "resourceVersion": (
        "string",
        "resourceVersion sets a constraint on what resource versions a request may be served "
        "from. Defaults to unset",
    ),
    "resourceVersionMatch": (
        "string",
        "resourceVersionMatch determines how resourceVersion is applied to list calls. Defaults "
        "to unset",
    ),
    "sendInitialEvents": (
        "boolean",
        "With watch=true, begin the watch stream with synthetic ADDED events for the current "
        "state of the objects, then a BOOKMARK event.",
    ),
    "timeoutSeconds": (
        "integer",
        "Timeout for the list/watch call, regardless of any activity or inactivity.",
    ),
    "watch": (
        "boolean",
        "Watch for changes to the described resources and return them as a stream of add, "
        "update, and remove notifications. Specify resourceVersion.",
    ),
}
LIST_PARAMS = (
    "allowWatchBookmarks",
    "continue",
    "fieldSelector",
    "labelSelector",
    "limit",
    "resourceVersion",
    "resourceVersionMatch",
    "sendInitialEvents",
    "timeoutSeconds",
    "watch",
)
WRITE_PARAMS = ("dryRun", "fieldManager", "fieldValidation")
PATCH_PARAMS = (*WRITE_PARAMS, "force")
DELETE_PARAMS = (
    "dryRun",
    "gracePeriodSeconds",
    "ignoreStoreReadErrorWithClusterBreakingPotential",
    "orphanDependents",
    "propagationPolicy",
)
DELETECOLLECTION_PARAMS = tuple(
    sorted({*DELETE_PARAMS, *LIST_PARAMS} - {"allowWatchBookmarks", "watch"})
)

# Subresources with a body: name -> (the GVK of the body, or None for the kind's own, and the
# verbs upstream serves on it).
SUBRESOURCES: dict[str, tuple[tuple[str, str, str] | None, tuple[str, ...]]] = {
    "status": (None, ("get", "update", "patch")),
    "scale": (("autoscaling", "v1", "Scale"), ("get", "update", "patch")),
    "binding": (("", "v1", "Binding"), ("create",)),
    "eviction": (("policy", "v1", "Eviction"), ("create",)),
    "finalize": (None, ("update",)),
}


# ----------------------------------------------------------------------------------------------
# Public interface
# ----------------------------------------------------------------------------------------------
def group_version_of(kind: kinds.Kind) -> str:
    """The document name of a kind's group-version: ``api/v1``, ``apis/apps/v1``."""
    return f"apis/{kind.group}/{kind.version}" if kind.group else f"api/{kind.version}"


def served_group_versions() -> list[str]:
    """Every group-version of the kind registry, in order of first declaration."""
    return list(dict.fromkeys(group_version_of(k) for k in kinds.all_kinds()))


def v3_root(prefix: str = "") -> dict[str, Any]:
    """The ``/openapi/v3`` discovery document; ``prefix`` is the path the API is served under
    (``/k8s/<token>``, or "" at the server root), which every ``serverRelativeURL`` starts with."""
    base = "/" + prefix.strip("/") if prefix.strip("/") else ""
    return {
        "paths": {
            gv: {"serverRelativeURL": f"{base}/openapi/v3/{gv}?hash={v3_hash(gv)}"}
            for gv in sorted(served_group_versions())
        }
    }


def v3_document(group_version: str) -> dict[str, Any] | None:
    """The OpenAPI 3.0 document of ``api/v1`` or ``apis/<group>/<version>``; None if not served.
    Built once and shared: do not change it."""
    if group_version not in served_group_versions():
        return None
    return _built(group_version)[0]


def v3_document_bytes(group_version: str) -> bytes | None:
    """The document as the JSON body to serve (its bytes are what ``v3_hash`` hashes)."""
    if group_version not in served_group_versions():
        return None
    return _built(group_version)[1]


def v3_hash(group_version: str) -> str:
    """The ``?hash=`` of a served document: SHA-512 of its JSON, upper-case hex (kube-openapi's
    ``computeETag``). KeyError for a group-version that is not served."""
    if group_version not in served_group_versions():
        raise KeyError(group_version)
    return _built(group_version)[2]


# ----------------------------------------------------------------------------------------------
# Building a document
# ----------------------------------------------------------------------------------------------
@functools.cache
def _built(group_version: str) -> tuple[dict[str, Any], bytes, str]:
    doc = _document(group_version)
    body = _encode(doc)
    return doc, body, hashlib.sha512(body).hexdigest().upper()


def _encode(doc: dict[str, Any]) -> bytes:
    """Compact JSON with sorted keys and Go's HTML-safe escapes (which only occur in strings)."""
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escape in (
        ("&", "\\u0026"),
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escape)
    return text.encode()


def _document(group_version: str) -> dict[str, Any]:
    members = [k for k in kinds.all_kinds() if group_version_of(k) == group_version]
    group, version = members[0].group, members[0].version
    base = "/" + group_version
    paths: dict[str, Any] = {
        base + "/": {
            "get": {
                "description": "get available resources",
                "operationId": f"get{_word(group)}{version.capitalize()}APIResources",
                "responses": _responses({"200": ("OK", RESOURCE_LIST)}),
                "tags": [_tag(group, version)],
            }
        }
    }
    for kind in members:
        paths.update(_kind_paths(kind, base))
    schemas = _closure(_refs(paths))
    for kind in members:
        gvk = {"group": kind.group, "kind": kind.kind, "version": kind.version}
        top = schemas[_schema_name(kind.group, kind.version, kind.kind)]
        listed = top.setdefault("x-kubernetes-group-version-kind", [])
        if gvk not in listed:
            listed.append(gvk)
    return {
        "components": {"schemas": schemas},
        "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION},
        "openapi": "3.0.0",
        "paths": paths,
    }


def _kind_paths(kind: kinds.Kind, base: str) -> dict[str, Any]:
    """A kind's paths, each with the operations its verbs allow (none: no path)."""
    verbs = set(kind.verbs)
    g, v, name = kind.group, kind.version, kind.kind
    gv_word = _word(g) + v.capitalize()
    ns = "Namespaced" if kind.namespaced else ""
    scope = "/namespaces/{namespace}" if kind.namespaced else ""
    collection = f"{base}{scope}/{kind.plural}"
    item = collection + "/{name}"
    own = _schema_name(g, v, name)
    listed = _schema_name(g, v, name + "List")
    gvk = {"group": g, "kind": name, "version": v}
    op = functools.partial(_operation, tag=_tag(g, v))
    out: dict[str, Any] = {}

    def add(path: str, ops: dict[str, Any], params: list[dict[str, Any]]) -> None:
        ops = {method: o for method, o in ops.items() if o}
        if ops:
            out[path] = {**ops, "parameters": params}

    scoped = [_path_param("namespace")] if kind.namespaced else []
    named = [_path_param("name", f"name of the {name}"), *scoped]
    pretty = [_query("pretty")]
    write_ok = {"200": ("OK", own), "201": ("Created", own)}

    add(
        collection,
        {
            "get": "list" in verbs
            and op(
                "list",
                gvk,
                f"list{gv_word}{ns}{name}",
                f"list or watch objects of kind {name}",
                LIST_PARAMS,
                {"200": ("OK", listed)},
                watch=True,
            ),
            "post": "create" in verbs
            and op(
                "post",
                gvk,
                f"create{gv_word}{ns}{name}",
                f"create {_article(name)} {name}",
                WRITE_PARAMS,
                {**write_ok, "202": ("Accepted", own)},
                body=own,
            ),
            "delete": "deletecollection" in verbs
            and op(
                "deletecollection",
                gvk,
                f"delete{gv_word}Collection{ns}{name}",
                f"delete collection of {name}",
                DELETECOLLECTION_PARAMS,
                {"200": ("OK", STATUS)},
                body=DELETE_OPTIONS,
                body_required=False,
            ),
        },
        [*scoped, *pretty],
    )
    if kind.namespaced:
        add(
            f"{base}/{kind.plural}",
            {
                "get": "list" in verbs
                and op(
                    "list",
                    gvk,
                    f"list{gv_word}{name}ForAllNamespaces",
                    f"list or watch objects of kind {name}",
                    (),
                    {"200": ("OK", listed)},
                    watch=True,
                )
            },
            [_query(p) for p in LIST_PARAMS] + pretty,
        )
    add(
        item,
        {
            "get": "get" in verbs
            and op(
                "get",
                gvk,
                f"read{gv_word}{ns}{name}",
                f"read the specified {name}",
                (),
                {"200": ("OK", own)},
            ),
            "put": "update" in verbs
            and op(
                "put",
                gvk,
                f"replace{gv_word}{ns}{name}",
                f"replace the specified {name}",
                WRITE_PARAMS,
                write_ok,
                body=own,
            ),
            "patch": "patch" in verbs
            and op(
                "patch",
                gvk,
                f"patch{gv_word}{ns}{name}",
                f"partially update the specified {name}",
                PATCH_PARAMS,
                write_ok,
                body=PATCH,
                patch=True,
            ),
            "delete": "delete" in verbs
            and op(
                "delete",
                gvk,
                f"delete{gv_word}{ns}{name}",
                f"delete {_article(name)} {name}",
                DELETE_PARAMS,
                {"200": ("OK", STATUS), "202": ("Accepted", STATUS)},
                body=DELETE_OPTIONS,
                body_required=False,
            ),
        },
        [*named, *pretty],
    )
    for sub in kind.subresources:
        if sub not in SUBRESOURCES:
            continue
        body_gvk, sub_verbs = SUBRESOURCES[sub]
        sg, sv, sk = body_gvk or (g, v, name)
        body = _schema_name(sg, sv, sk)
        sub_gvk = {"group": sg, "kind": sk, "version": sv}
        word = f"{gv_word}{ns}{name}{sub.capitalize()}"
        allowed = set(sub_verbs) & verbs
        ok = {"200": ("OK", body), "201": ("Created", body)}
        add(
            f"{item}/{sub}",
            {
                "get": "get" in allowed
                and op(
                    "get",
                    sub_gvk,
                    f"read{word}",
                    f"read {sub} of the specified {name}",
                    (),
                    {"200": ("OK", body)},
                ),
                "post": "create" in allowed
                and op(
                    "post",
                    sub_gvk,
                    f"create{word}",
                    f"create {sub} of {_article(name)} {name}",
                    WRITE_PARAMS,
                    {**ok, "202": ("Accepted", body)},
                    body=body,
                ),
                "put": "update" in allowed
                and op(
                    "put",
                    sub_gvk,
                    f"replace{word}",
                    f"replace {sub} of the specified {name}",
                    WRITE_PARAMS,
                    ok,
                    body=body,
                ),
                "patch": "patch" in allowed
                and op(
                    "patch",
                    sub_gvk,
                    f"patch{word}",
                    f"partially update {sub} of the specified {name}",
                    PATCH_PARAMS,
                    ok,
                    body=PATCH,
                    patch=True,
                ),
            },
            [*named, *pretty],
        )
    if "watch" in verbs:

        def watch(action: str, operation_id: str, description: str) -> dict[str, Any]:
            events = {"200": ("OK", WATCH_EVENT)}
            return op(action, gvk, operation_id, description, (), events, watch=True)

        watch_params = [_query(p) for p in LIST_PARAMS]
        deprecated = "deprecated: use the 'watch' parameter with a list operation instead"
        if kind.namespaced:
            add(
                f"{base}/watch/{kind.plural}",
                {
                    "get": watch(
                        "watchlist",
                        f"watch{gv_word}{name}ListForAllNamespaces",
                        f"watch individual changes to a list of {name}. {deprecated}.",
                    )
                },
                watch_params + pretty,
            )
        add(
            f"{base}/watch{scope}/{kind.plural}",
            {
                "get": watch(
                    "watchlist",
                    f"watch{gv_word}{ns}{name}List",
                    f"watch individual changes to a list of {name}. {deprecated}.",
                )
            },
            watch_params + scoped + pretty,
        )
        add(
            f"{base}/watch{scope}/{kind.plural}/{{name}}",
            {
                "get": watch(
                    "watch",
                    f"watch{gv_word}{ns}{name}",
                    f"watch changes to an object of kind {name}. {deprecated}, filtered to a "
                    "single item with the 'fieldSelector' parameter.",
                )
            },
            watch_params + named + pretty,
        )
    return out


def _operation(
    action: str,
    gvk: dict[str, str],
    operation_id: str,
    description: str,
    params: tuple[str, ...],
    responses: dict[str, tuple[str, str]],
    *,
    tag: str,
    body: str | None = None,
    body_required: bool = True,
    patch: bool = False,
    watch: bool = False,
) -> dict[str, Any]:
    op: dict[str, Any] = {"description": description, "operationId": operation_id}
    if params:
        op["parameters"] = [_query(p) for p in params]
    if body is not None:
        types = PATCH_TYPES if patch else ("*/*",)
        op["requestBody"] = {"content": {t: {"schema": {"$ref": SCHEMAS + body}} for t in types}}
        if body_required:
            op["requestBody"]["required"] = True
    op["responses"] = _responses(responses, (JSON, JSON_WATCH) if watch else (JSON,))
    op["tags"] = [tag]
    op["x-kubernetes-action"] = action
    op["x-kubernetes-group-version-kind"] = dict(gvk)
    return op


def _responses(
    codes: dict[str, tuple[str, str]], media: tuple[str, ...] = (JSON,)
) -> dict[str, Any]:
    out: dict[str, Any] = {
        code: {
            "content": {m: {"schema": {"$ref": SCHEMAS + schema}} for m in media},
            "description": text,
        }
        for code, (text, schema) in codes.items()
    }
    out["401"] = {"description": "Unauthorized"}
    return out


def _query(name: str) -> dict[str, Any]:
    kind, description = QUERY[name]
    return {
        "description": description,
        "in": "query",
        "name": name,
        "schema": {"type": kind, "uniqueItems": True},
    }


def _path_param(name: str, description: str = "") -> dict[str, Any]:
    return {
        "description": description or "object name and auth scope, such as for teams and projects",
        "in": "path",
        "name": name,
        "required": True,
        "schema": {"type": "string", "uniqueItems": True},
    }


def _article(noun: str) -> str:
    return "an" if noun[0] in "AEIOU" else "a"


def _group_parts(group: str) -> list[str]:
    return group.removesuffix(".k8s.io").split(".") if group else ["core"]


def _word(group: str) -> str:
    """The group in operation ids: ``Core``, ``Apps``, ``Networking``, ``RbacAuthorization``."""
    return "".join(p.capitalize() for p in _group_parts(group))


def _tag(group: str, version: str) -> str:
    """The operations' tag: ``core_v1``, ``apps_v1``, ``rbacAuthorization_v1``."""
    first, *rest = _group_parts(group)
    return first + "".join(p.capitalize() for p in rest) + "_" + version


# ----------------------------------------------------------------------------------------------
# Schemas: from the bundled JSON Schema to upstream's OpenAPI 3.0 component schemas
# ----------------------------------------------------------------------------------------------
@functools.cache
def _gvk_index() -> dict[tuple[str, str, str], str]:
    index: dict[tuple[str, str, str], str] = {}
    for name, schema in _definitions().items():
        for gvk in schema.get("x-kubernetes-group-version-kind") or []:
            index.setdefault((gvk["group"], gvk["version"], gvk["kind"]), name)
    return index


def _schema_name(group: str, version: str, kind: str) -> str:
    try:
        return _gvk_index()[(group, version, kind)]
    except KeyError:
        raise KeyError(f"no v1.34 schema for {group or 'core'}/{version} {kind}") from None


def _closure(roots: set[str]) -> dict[str, Any]:
    """The converted schemas of ``roots`` and of everything they reference, transitively."""
    defs = _definitions()
    out: dict[str, Any] = {}
    todo = sorted(roots)
    while todo:
        name = todo.pop()
        if name in out:
            continue
        out[name] = _component(name, defs[name])
        todo.extend(sorted(_refs(out[name]) - out.keys()))
    return dict(sorted(out.items()))


def _component(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    if name in SCALAR_UNIONS:
        return copy.deepcopy(SCALAR_UNIONS[name])
    return _convert(schema)


def _convert(schema: dict[str, Any], *, type_meta: bool = False) -> dict[str, Any]:
    """One schema in OpenAPI 3.0 form; ``type_meta`` for an object's apiVersion/kind property,
    whose one-value enum the strict JSON Schema added."""
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "$ref":
            out[key] = SCHEMAS + value.removeprefix("#/$defs/")
        elif key == "type" and isinstance(value, list):
            kept = [t for t in value if t != "null"]
            out[key] = kept[0] if len(kept) == 1 else kept
        elif key == "properties":
            out[key] = {
                prop: _convert(sub, type_meta=prop in ("apiVersion", "kind"))
                for prop, sub in value.items()
            }
        elif key in ("items", "not"):
            out[key] = _convert(value)
        elif key == "additionalProperties":
            if isinstance(value, dict):
                out[key] = _convert(value)
            elif value is not False:
                out[key] = value
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [_convert(s) for s in value]
        elif key == "enum" and type_meta:
            continue
        else:
            out[key] = copy.deepcopy(value)
    if "$ref" in out and len(out) > 1:
        out = {"allOf": [{"$ref": out.pop("$ref")}], **out}
    return out


def _refs(node: Any) -> set[str]:
    """The component names every ``$ref`` under ``node`` points at."""
    found: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, dict):
            ref = n.get("$ref")
            if isinstance(ref, str) and ref.startswith(SCHEMAS):
                found.add(ref.removeprefix(SCHEMAS))
            stack.extend(n.values())
        elif isinstance(n, list):
            stack.extend(n)
    return found
