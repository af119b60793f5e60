"""The Kubernetes HTTP API over a ``ClusterState``: kube-apiserver v1.34's REST semantics.

``handle(state, request)`` answers one request (everything but the streaming part of a watch,
which the web layer serves from the after-commit deltas) with a ``Response``; a refusal raises
``status.Status`` anywhere below and becomes kube-apiserver's ``Status`` object. It is pure: the
web layer (``clusters.apiserver``) authenticates the caller, runs it inside the service layer's
one transaction (``clusters.services.api_call``) with the caller's authorizer installed on the
state, and publishes the change as one delta after commit like every other write.

Paths (``route``): ``/version``, discovery (``/api``, ``/apis``, ``/api/v1``,
``/apis/<group>[/<version>]``), ``/openapi/v3[/<gv>]``, and resources:
``/api/v1[/namespaces/<ns>]/<plural>[/<name>[/<subresource>]]`` and the same under
``/apis/<group>/<version>``.

Verbs, as ``pkg/endpoints/handlers`` and ``pkg/registry/generic/registry/store.go``:
get, list (``labelSelector``, ``fieldSelector``, ``limit``/``continue``), create (``POST``),
update (``PUT``), patch (JSON patch, merge patch, strategic merge patch), delete
(``propagationPolicy``, ``gracePeriodSeconds``), deletecollection; ``dryRun=All``;
``fieldValidation=Strict|Warn|Ignore`` (``Warn`` when absent, as v1.34) with ``Warning``
headers; subresources ``status`` (read), ``scale`` (autoscaling/v1), ``pods/eviction`` and
``pods/binding``. ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io`` answers a
``meta.k8s.io/v1`` Table built from the kind's registry columns and row function, the same ones
the console prints.

Timestamps are served against the wall clock: ``epoch`` is the wall time of simulated second 0
for this request (``time.time() - state.now``), so a client that computes ages itself (``kubectl
describe``, the events' LAST SEEN) agrees with the simulation's clock, paused or sped up.

Writes go through the same registry strategy as ``kubectl apply`` in the editor (validation,
defaulting, immutable fields, allocation, quota and admission), via ``create_object`` and
``update_object``, which ``apply.py`` uses too.
"""

from __future__ import annotations

import base64
import copy
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from kubelab.sim import kinds
from kubelab.sim.objects import KObject, OwnerRef, random_suffix
from kubelab.sim.quantity import QUANTITY_ERROR

from . import ApiError, discovery, quota
from . import status as st
from .authz import authorize
from .selectors import fields_match, labels_match, parse_fields, parse_labels
from .validation import quantity_fields_ok, replica_errors, schema_problems, semantic_errors

MAX_BODY = 3 * 1024 * 1024  # apiserver's maxRequestBodyBytes
MAX_LIMIT = 500  # what kubectl asks for; a larger limit is served as asked
JSON = "application/json"
YAML = "application/yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"
BODY_TYPES = [JSON, YAML, PROTOBUF]
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PATCH_TYPES = [JSON_PATCH, MERGE_PATCH, APPLY_PATCH, STRATEGIC_PATCH]
MAX_REPLICAS = 1000


@dataclass
class Request:
    method: str
    path: str  # after the cluster's prefix, e.g. "/api/v1/namespaces/default/pods"
    query: dict[str, list[str]] = field(default_factory=dict)
    content_type: str = ""
    accept: str = ""
    body: bytes = b""
    server_address: str = "127.0.0.1:8000"
    prefix: str = ""  # the cluster's URL prefix (``/k8s/<token>``), for OpenAPI's relative URLs

    def param(self, name: str, default: str = "") -> str:
        values = self.query.get(name)
        return values[-1] if values else default


@dataclass
class Response:
    code: int
    body: Any  # a dict (JSON), or str (text/plain)
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    changed: bool = False  # the request wrote something


@dataclass
class Route:
    """A resource path: the kind, its namespace (None: across namespaces), name, subresource."""

    kind: kinds.Kind
    namespace: str | None
    name: str = ""
    sub: str = ""


# ----- routing -----------------------------------------------------------------------------------
def split(path: str) -> list[str]:
    return [unquote(p) for p in path.strip("/").split("/") if p != ""]


def route(parts: list[str]) -> Route:
    """A resource path (``parts`` after ``api/v1`` or ``apis/<g>/<v>`` are resolved here)."""
    if parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    else:
        group, version, rest = parts[1], parts[2], parts[3:]
    if not discovery.served(group, version):
        raise st.no_resource()
    by_plural = {k.plural: k for k in discovery.kinds_of(group, version)}
    namespace: str | None = None
    if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] in by_plural:
        namespace, rest = rest[1], rest[2:]
    if not rest or rest[0] not in by_plural or len(rest) > 3:
        raise st.no_resource()
    k = by_plural[rest[0]]
    name = rest[1] if len(rest) > 1 else ""
    sub = rest[2] if len(rest) > 2 else ""
    if k.namespaced and name and namespace is None:
        raise st.no_resource()  # a namespaced object needs its namespace in the path
    if not k.namespaced and namespace is not None:
        raise st.no_resource()
    if sub and sub not in k.subresources:
        raise st.no_resource()
    return Route(k, namespace, name, sub)


def is_watch(req: Request) -> bool:
    return req.method == "GET" and req.param("watch") in ("true", "1")


def handle(state: Any, req: Request) -> Response:
    """Answer one request against the state (a Status exception becomes the error answer)."""
    try:
        return _dispatch(state, req)
    except st.Status as s:
        return Response(s.code, s.body(), headers=s.headers)
    except ApiError as e:
        s = st.from_api_error(e)
        return Response(s.code, s.body(), headers=s.headers)


def _dispatch(state: Any, req: Request) -> Response:
    parts = split(req.path)
    if not parts:
        return Response(200, {"paths": ["/api", "/api/v1", "/apis", "/openapi/v3", "/version"]})
    head = parts[0]
    if head == "version" and len(parts) == 1:
        return Response(200, discovery.version_info())
    if head in ("api", "apis") and len(parts) <= (2 if head == "api" else 3):
        return _discovery(parts, req)
    if head in ("api", "apis"):
        return _resource(state, route(parts), req)
    if head == "openapi":
        return _openapi(parts, req)
    return Response(404, "404 page not found\n", content_type="text/plain; charset=utf-8")


def wants_aggregated(accept: str) -> bool:
    return "as=APIGroupDiscoveryList" in accept and "v=v2" in accept


def _discovery(parts: list[str], req: Request) -> Response:
    if req.method != "GET":
        raise st.not_allowed()
    if parts == ["api"]:
        if wants_aggregated(req.accept):
            return Response(200, discovery.aggregated(True), discovery.AGGREGATED_TYPE)
        return Response(200, discovery.api_versions(req.server_address))
    if parts == ["apis"]:
        if wants_aggregated(req.accept):
            return Response(200, discovery.aggregated(False), discovery.AGGREGATED_TYPE)
        return Response(200, discovery.api_group_list())
    if parts[0] == "api":
        body = discovery.resource_list("", parts[1])
    elif len(parts) == 2:
        body = discovery.api_group(parts[1])
    else:
        body = discovery.resource_list(parts[1], parts[2])
    if body is None:
        return Response(404, "404 page not found\n", content_type="text/plain; charset=utf-8")
    return Response(200, body)


def _openapi(parts: list[str], req: Request) -> Response:
    from . import openapi

    if parts == ["openapi", "v3"]:
        return Response(200, openapi.v3_root(req.prefix))
    if len(parts) >= 3 and parts[1] == "v3":
        doc = openapi.v3_document_bytes("/".join(parts[2:]))
        if doc is not None:
            return Response(200, doc)
    return Response(404, "404 page not found\n", content_type="text/plain; charset=utf-8")


# ----- helpers -----------------------------------------------------------------------------------
def epoch_of(state: Any) -> float:
    """The wall time of simulated second 0, for this request's timestamps."""
    return time.time() - state.now


def _authorize(state: Any, verb: str, r: Route, name: str = "") -> None:
    try:
        authorize(state, verb, r.kind.kind, r.namespace or "", name or r.name, r.sub)
    except ApiError as e:
        s = st.from_api_error(e)
        raise st.forbidden_status(s.message, r.kind.plural, r.kind.group, name or r.name) from None


def _get_obj(state: Any, r: Route) -> Any:
    k = r.kind
    obj = state.store(k.kind).get(k.key(r.namespace or "", r.name))
    if obj is None:
        raise st.not_found(k.plural, k.group, r.name)
    return obj


def _dry_run(req: Request) -> bool:
    values = req.query.get("dryRun") or []
    for v in values:
        if v != "All":
            raise st.bad_request(f'Invalid dry run value "{v}". Valid values are: "All"')
    return bool(values)


def _field_validation(req: Request) -> str:
    v = req.param("fieldValidation", "Warn") or "Warn"
    if v not in ("Strict", "Warn", "Ignore"):
        raise st.bad_request(
            f"fieldValidation parameter unsupported: {v}. Valid values are: Ignore, Warn, Strict"
        )
    return v


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def decode_body(req: Request, types: list[str] | None = None) -> Any:
    """The request body as JSON-shaped data (JSON, YAML or protobuf); 415/400 otherwise."""
    mt = media_type(req.content_type) or JSON  # the Python client sends no Content-Type
    accepted = types or BODY_TYPES
    if mt not in accepted:
        raise st.unsupported_media(accepted)
    if len(req.body) > MAX_BODY:
        raise st.too_large(MAX_BODY)
    if mt == PROTOBUF:
        from .protobuf import ProtobufError, decode

        try:
            return decode(req.body)
        except ProtobufError as e:
            raise st.bad_request(str(e)) from None
    try:
        text = req.body.decode("utf-8")
    except UnicodeDecodeError:
        raise st.bad_request("invalid character in request body: not UTF-8") from None
    if mt in (YAML, APPLY_PATCH):
        from .manifests import load_documents

        try:
            docs = load_documents(text, "request body")
        except ApiError as e:
            raise st.bad_request(st.from_api_error(e).message) from None
        if len(docs) != 1:
            raise st.bad_request("the request body must hold exactly one YAML document")
        return docs[0].data
    try:
        return json.loads(text)
    except RecursionError:
        raise st.bad_request("json: exceeded max depth") from None
    except ValueError as e:
        raise st.bad_request(f"json: {e}") from None


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def _meta(data: dict[str, Any]) -> dict[str, Any]:
    meta = data.get("metadata")
    return meta if isinstance(meta, dict) else {}


# ----- resources ---------------------------------------------------------------------------------
def _resource(state: Any, r: Route, req: Request) -> Response:
    m = req.method
    if r.sub:
        return _subresource(state, r, req)
    if m == "GET" and r.name:
        _authorize(state, "get", r)
        obj = _get_obj(state, r)
        return _render_one(state, r.kind, obj, req)
    if m == "GET":
        _authorize(state, "watch" if is_watch(req) else "list", r)
        return list_response(state, r, req)
    if m == "POST" and not r.name and (r.namespace is not None or not r.kind.namespaced):
        return _create(state, r, req)
    if m == "PUT" and r.name:
        return _update(state, r, req)
    if m == "PATCH" and r.name:
        return _patch(state, r, req)
    if m == "DELETE" and r.name:
        return _delete(state, r, req)
    if m == "DELETE":
        return _delete_collection(state, r, req)
    raise st.not_allowed()


def check_watch(state: Any, r: Route) -> None:
    """What a watch request must pass before it streams: the verb and the person's RBAC."""
    _check_verb(r.kind, "watch")
    _authorize(state, "watch", r)
    if r.namespace is not None and r.kind.namespaced and r.namespace not in state.namespaces:
        return  # upstream watches an empty namespace without complaint


def _check_verb(k: kinds.Kind, verb: str) -> None:
    if verb not in k.verbs:
        raise st.method_not_supported(k.plural, k.group, verb)


def table_wanted(accept: str) -> bool:
    return "as=Table" in accept


def table_columns(k: kinds.Kind) -> list[dict[str, Any]]:
    return [
        {
            "name": c.name,
            "type": c.type,
            "format": c.format,
            "description": c.description,
            "priority": c.priority,
        }
        for c in k.columns
    ]


def typed_cells(k: kinds.Kind, cells: list[Any]) -> list[Any]:
    """A row's cells as the Table carries them: integer columns as numbers."""
    return [
        int(v) if c.type == "integer" and isinstance(v, str) and v.lstrip("-").isdigit() else v
        for c, v in zip(k.columns, cells, strict=False)
    ]


def table_row(k: kinds.Kind, obj: Any, now: float, epoch: float, include: str) -> dict[str, Any]:
    assert k.row is not None
    row: dict[str, Any] = {"cells": typed_cells(k, k.row(obj, now))}
    if include == "Object":
        row["object"] = k.to_json(obj, now, epoch)
    elif include != "None":
        row["object"] = {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": k.metadata(obj, now, epoch),
        }
    return row


def table(
    state: Any, k: kinds.Kind, objs: list[Any], req: Request, meta: dict[str, Any] | None = None
) -> dict[str, Any]:
    include = req.param("includeObject", "Metadata")
    now, epoch = state.now, epoch_of(state)
    out: dict[str, Any] = {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta if meta is not None else {"resourceVersion": str(state.rv)},
        "columnDefinitions": table_columns(k),
        "rows": [table_row(k, o, now, epoch, include) for o in objs],
    }
    return out


def _render_one(state: Any, k: kinds.Kind, obj: Any, req: Request, code: int = 200) -> Response:
    if table_wanted(req.accept) and k.row is not None:
        return Response(code, table(state, k, [obj], req, meta={}))
    return Response(code, k.to_json(obj, state.now, epoch_of(state)))


def matching(state: Any, r: Route, req: Request) -> list[Any]:
    """The objects a list names (namespace, label and field selectors), in etcd's key order."""
    k = r.kind
    label_reqs = parse_labels(req.param("labelSelector"))
    supported = k.selectable()
    field_reqs = parse_fields(req.param("fieldSelector"), supported)
    items = k.objects(state)
    if k.namespaced and r.namespace is not None:
        items = (o for o in items if o.namespace == r.namespace)
    out = []
    for o in items:
        if not label_reqs and not field_reqs:
            out.append(o)
            continue
        view = k.selector_view(o)
        labels = (view.get("metadata") or {}).get("labels") or {}
        if labels_match(label_reqs, labels) and fields_match(field_reqs, view, supported):
            out.append(o)
    out.sort(key=lambda o: (o.namespace, o.name) if k.namespaced else o.name)
    return out


def _continue_token(rv: int, key: Any) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": key}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _continue_start(token: str) -> Any:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        start = data["start"]
        return tuple(start) if isinstance(start, list) else start
    except (ValueError, KeyError, TypeError):
        raise st.bad_request(
            "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"
        ) from None


def list_response(state: Any, r: Route, req: Request) -> Response:
    k = r.kind
    objs = matching(state, r, req)
    meta: dict[str, Any] = {"resourceVersion": str(state.rv)}
    token = req.param("continue")
    if token:
        start = _continue_start(token)
        keyf = (lambda o: (o.namespace, o.name)) if k.namespaced else (lambda o: o.name)
        objs = [o for o in objs if keyf(o) > start]
    try:
        limit = int(req.param("limit", "0") or 0)
    except ValueError:
        raise st.bad_request(f"invalid limit: {req.param('limit')!r}") from None
    if limit > 0 and len(objs) > limit:
        last = objs[limit - 1]
        meta["continue"] = _continue_token(
            state.rv, [last.namespace, last.name] if k.namespaced else last.name
        )
        meta["remainingItemCount"] = len(objs) - limit
        objs = objs[:limit]
    if table_wanted(req.accept) and k.row is not None:
        return Response(200, table(state, k, objs, req, meta))
    now, epoch = state.now, epoch_of(state)
    return Response(
        200,
        {
            "kind": f"{k.kind}List",
            "apiVersion": k.api_version,
            "metadata": meta,
            "items": [k.to_json(o, now, epoch) for o in objs],
        },
    )


# ----- writes ------------------------------------------------------------------------------------
def _checked_body(k: kinds.Kind, data: Any, namespace: str | None, req: Request) -> dict[str, Any]:
    """The object of a create/update request: its type checked against the path's."""
    if not isinstance(data, dict):
        raise st.bad_request(
            f'{k.kind} in version "{k.version}" cannot be handled as a {k.kind}: json: cannot '
            f"unmarshal {type(data).__name__} into Go value of type struct"
        )
    api_version = data.get("apiVersion") or k.api_version
    if api_version != k.api_version:
        raise st.bad_request(
            f"the API version in the data ({api_version}) does not match the expected API "
            f"version ({k.api_version})"
        )
    kind = data.get("kind") or k.kind
    if kind != k.kind:
        raise st.bad_request(
            f'{k.kind} in version "{k.version}" cannot be handled as a {k.kind}: no kind '
            f'"{kind}" is registered for version "{k.api_version}"'
        )
    data = _drop_nulls(copy.deepcopy(data))
    data["apiVersion"], data["kind"] = k.api_version, k.kind
    meta = data.setdefault("metadata", {})
    if not isinstance(meta, dict):
        raise st.bad_request(
            f'{k.kind} in version "{k.version}" cannot be handled as a {k.kind}: json: cannot '
            f"unmarshal {type(meta).__name__} into Go struct field {k.kind}.metadata of type "
            "v1.ObjectMeta"
        )
    if k.namespaced:
        ns = meta.get("namespace")
        if ns not in (None, "") and ns != namespace:
            raise st.bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        meta["namespace"] = namespace
    else:
        meta.pop("namespace", None)
    return data


def _decode_checks(k: kinds.Kind, data: dict[str, Any], req: Request) -> list[str]:
    """Strict decoding (unknown fields per ``fieldValidation``, wrong types); the warnings."""
    mode = _field_validation(req)
    warnings: list[str] = []
    for problem in schema_problems(data):
        message = problem.message
        marker = "strict decoding error: "
        if marker in message:
            if mode == "Strict":
                raise st.bad_request(message)
            if mode == "Warn":
                warnings += message.split(marker, 1)[1].split(", ")
            continue
        raise st.bad_request(message)
    if quantity_fields_ok(data) is not None:
        raise st.bad_request(
            f'{k.kind} in version "{k.version}" cannot be handled as a {k.kind}: {QUANTITY_ERROR}'
        )
    return warnings


def _view(data: dict[str, Any]) -> dict[str, Any]:
    meta = _meta(data)
    return {
        "labels": dict(meta.get("labels") or {}),
        "annotations": dict(meta.get("annotations") or {}),
        "spec": copy.deepcopy(data.get("spec") or {}),
    }


def admit_create(
    state: Any,
    k: kinds.Kind,
    namespace: str,
    data: dict[str, Any],
    max_replicas: int = MAX_REPLICAS,
) -> dict[str, Any]:
    """Validate and default a new object (``rest.BeforeCreate``): labels, annotations, spec."""
    name = str(_meta(data).get("name") or "")
    errors = semantic_errors(data, k, max_replicas=max_replicas)
    if errors:
        raise st.invalid_from_errors(k.kind, k.group, name, errors)
    view = _view(data)
    if k.validate_create is not None:
        errors = k.validate_create(view)
        if errors:
            raise st.invalid_from_errors(k.kind, k.group, name, errors)
    if k.default is not None:
        k.default(view["spec"])
    if k.namespaced and namespace not in state.namespaces:
        raise st.not_found("namespaces", "", namespace)
    if state.get(k.kind, namespace, name) is not None:
        raise st.already_exists(k.plural, k.group, name)
    return view


def admit_update(
    state: Any,
    k: kinds.Kind,
    existing: KObject,
    data: dict[str, Any],
    max_replicas: int = MAX_REPLICAS,
) -> dict[str, Any]:
    """Validate and default a changed object (``rest.BeforeUpdate``)."""
    name = existing.name
    want_rv = _meta(data).get("resourceVersion")
    if want_rv not in (None, "") and str(want_rv) != str(existing.resource_version):
        raise st.conflict(k.plural, k.group, name, st.MODIFIED)
    view = _view(data)
    if k.prepare_update is not None:
        k.prepare_update(view["spec"])
    if k.default is not None:
        k.default(view["spec"])
    check = {
        "apiVersion": k.api_version,
        "kind": k.kind,
        "metadata": {"name": name, "labels": view["labels"]},
        "spec": view["spec"],
    }
    if k.namespaced:
        check["metadata"]["namespace"] = existing.namespace
    errors = semantic_errors(check, k, max_replicas=max_replicas)
    if k.validate_update is not None:
        errors += k.validate_update(existing, view["spec"])
    if errors:
        raise st.invalid_from_errors(k.kind, k.group, name, errors)
    return view


def create_object(
    state: Any,
    k: kinds.Kind,
    namespace: str,
    name: str,
    view: dict[str, Any],
    owner: OwnerRef | None = None,
    dry_run: bool = False,
) -> KObject:
    """Write a new object (allocation, limit ranges, quota, the kind's create hooks)."""
    assert k.cls is not None
    spec = view["spec"]
    if k.allocate is not None and not dry_run:
        k.allocate(state, namespace, name, spec, None)
    if k.kind == "Pod":
        quota.apply_limit_range(state, namespace, spec)
    quota.admit(state, k.kind, namespace, name, spec)
    obj = k.cls(
        name=name,
        namespace=namespace,
        labels=view["labels"],
        annotations=view["annotations"],
        spec=spec,
        owner=owner,
    )
    if dry_run:
        obj.uid = state.new_uid()
        obj.created = state.now
        return obj
    if k.prepare_create is not None:
        k.prepare_create(state, obj)
    state.add(obj)
    return obj


def update_object(state: Any, obj: KObject, view: dict[str, Any], dry_run: bool = False) -> bool:
    """Write a changed object; False when nothing changed (no new resourceVersion, as upstream)."""
    k = kinds.get(obj.kind)
    if k.allocate is not None and not dry_run:
        k.allocate(state, obj.namespace, obj.name, view["spec"], obj)
    same = (
        view["spec"] == obj.spec
        and view["labels"] == obj.labels
        and view["annotations"] == obj.annotations
    )
    if same or dry_run:
        return not same
    spec_changed = obj.spec != view["spec"]
    obj.labels = view["labels"]
    obj.annotations = view["annotations"]
    if spec_changed:
        obj.spec = view["spec"]
        if obj.has_generation:
            obj.generation += 1
        obj.after_load()
    state.touch(obj)
    return True


def _owner(data: dict[str, Any]) -> OwnerRef | None:
    refs = _meta(data).get("ownerReferences") or []
    if not isinstance(refs, list) or not refs:
        return None
    ref = next((x for x in refs if isinstance(x, dict) and x.get("controller")), refs[0])
    if not isinstance(ref, dict) or not all(ref.get(f) for f in ("kind", "name", "uid")):
        return None
    return OwnerRef.from_json(ref)


def _create(state: Any, r: Route, req: Request) -> Response:
    k = r.kind
    _check_verb(k, "create")
    if not k.applicable:
        raise st.method_not_supported(k.plural, k.group, "create")
    data = _checked_body(k, decode_body(req), r.namespace, req)
    meta = data["metadata"]
    if not meta.get("name") and meta.get("generateName"):
        meta["name"] = f"{meta['generateName']}{random_suffix(state.rng)}"
    name = str(meta.get("name") or "")
    _authorize(state, "create", r, name)
    dry = _dry_run(req)
    warnings = _decode_checks(k, data, req)
    if not name:
        raise st.invalid(
            k.kind,
            k.group,
            "",
            [
                (
                    "FieldValueRequired",
                    "metadata.name",
                    "Required value: name or generateName is required",
                )
            ],
        )
    ns = r.namespace or ""
    view = admit_create(state, k, ns, data)
    obj = create_object(state, k, ns, name, view, _owner(data), dry_run=dry)
    out = _render_one(state, k, obj, req, code=201)
    out.warnings, out.changed = warnings, not dry
    return out


def _update(state: Any, r: Route, req: Request) -> Response:
    k = r.kind
    _check_verb(k, "update")
    _authorize(state, "update", r)
    data = _checked_body(k, decode_body(req), r.namespace, req)
    name = str(data["metadata"].get("name") or "")
    if name != r.name:
        raise st.bad_request(
            f"the name of the object ({name}) does not match the name on the URL ({r.name})"
        )
    existing = _get_obj(state, r)
    warnings = _decode_checks(k, data, req)
    return _write_update(state, k, existing, data, req, warnings)


def _write_update(
    state: Any,
    k: kinds.Kind,
    existing: KObject,
    data: dict[str, Any],
    req: Request,
    warnings: list[str],
) -> Response:
    if not k.applicable and k.kind != "Node":
        raise st.method_not_supported(k.plural, k.group, "update")
    dry = _dry_run(req)
    view = admit_update(state, k, existing, data)
    changed = update_object(state, existing, view, dry_run=dry)
    if dry:
        preview = copy.copy(existing)
        preview.labels, preview.annotations, preview.spec = (
            view["labels"],
            view["annotations"],
            view["spec"],
        )
        out = _render_one(state, k, preview, req)
    else:
        out = _render_one(state, k, existing, req)
    out.warnings, out.changed = warnings, changed
    return out


def _patched(doc: dict[str, Any], req: Request, k: kinds.Kind) -> dict[str, Any]:
    from . import patch

    mt = media_type(req.content_type)
    if mt not in PATCH_TYPES:
        raise st.unsupported_media(PATCH_TYPES)
    if len(req.body) > MAX_BODY:
        raise st.too_large(MAX_BODY)
    if mt == APPLY_PATCH:
        raise st.unsupported_media([JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH])
    try:
        body = json.loads(req.body.decode("utf-8"))
    except RecursionError:
        raise st.bad_request("json: exceeded max depth") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise st.bad_request(f"error decoding patch: {e}") from None
    try:
        if mt == JSON_PATCH:
            result = patch.json_patch(doc, body)
        elif mt == MERGE_PATCH:
            result = patch.merge_patch(doc, body)
        else:
            if not isinstance(body, dict):
                raise st.bad_request(
                    "json: cannot unmarshal array into Go value of type map[string]interface {}"
                )
            result = patch.strategic_merge_patch(doc, body, k.kind, k.api_version)
    except patch.PatchError as e:
        if e.code == 400:
            raise st.bad_request(e.message) from None
        raise st.Status(422, "Invalid", e.message) from None
    if not isinstance(result, dict):
        raise st.bad_request("the patch did not produce an object")
    return result


def _patch(state: Any, r: Route, req: Request) -> Response:
    k = r.kind
    _check_verb(k, "patch")
    _authorize(state, "patch", r)
    existing = _get_obj(state, r)
    doc = k.to_json(existing, state.now, epoch_of(state))
    data = _checked_body(k, _patched(doc, req, k), r.namespace, req)
    if data["metadata"].get("name") != r.name:
        raise st.bad_request(
            f"the name of the object ({data['metadata'].get('name')}) does not match the name on the URL ({r.name})"
        )
    warnings = _decode_checks(k, data, req)
    return _write_update(state, k, existing, data, req, warnings)


def _delete_options(req: Request) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    if req.body:
        mt = media_type(req.content_type) or JSON
        if mt == PROTOBUF:
            opts = {}  # drain's fallback sends DeleteOptions as protobuf: the defaults serve
        else:
            data = decode_body(req)
            if isinstance(data, dict):
                opts = data
    for key in ("propagationPolicy", "gracePeriodSeconds", "orphanDependents"):
        if req.param(key):
            opts[key] = req.param(key)
    return opts


def _grace(opts: dict[str, Any]) -> int | None:
    g = opts.get("gracePeriodSeconds")
    if g in (None, ""):
        return None
    try:
        return max(0, int(g))
    except (TypeError, ValueError):
        raise st.bad_request(f"invalid gracePeriodSeconds: {g!r}") from None


def _delete_one(state: Any, k: kinds.Kind, obj: Any, opts: dict[str, Any], dry: bool) -> Any:
    """Delete one object as the registry store does; what the response shows."""
    from kubelab.sim import actions

    policy = opts.get("propagationPolicy") or (
        "Orphan" if opts.get("orphanDependents") in (True, "true") else "Background"
    )
    if policy not in ("Background", "Foreground", "Orphan"):
        raise st.invalid(
            "DeleteOptions",
            "",
            "",
            [
                (
                    "FieldValueNotSupported",
                    "propagationPolicy",
                    f'Unsupported value: "{policy}": supported values: "Foreground", "Background", "Orphan"',
                )
            ],
        )
    if dry:
        return obj
    if k.kind == "Pod":
        state.delete_pod(obj, _grace(opts))
        return obj
    if policy == "Orphan":
        for kind in kinds.stored():
            for dep in list(state.store(kind.kind).values()):
                if dep.owner is not None and dep.owner.uid == obj.uid:
                    dep.owner = None
                    state.touch(dep)
    actions.delete(state, k.kind, obj.namespace, obj.name)
    return None


def _deleted_status(k: kinds.Kind, obj: Any) -> dict[str, Any]:
    details: dict[str, Any] = {"name": obj.name}
    if k.group:
        details["group"] = k.group
    details.update({"kind": k.plural, "uid": obj.uid})
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    }


def _delete(state: Any, r: Route, req: Request) -> Response:
    k = r.kind
    _check_verb(k, "delete")
    _authorize(state, "delete", r)
    obj = _get_obj(state, r)
    opts = _delete_options(req)
    dry = _dry_run(req)
    _delete_one(state, k, obj, opts, dry)
    epoch = epoch_of(state)
    if k.kind in ("Pod", "Namespace"):  # their stores set ReturnDeletedObject
        body = k.to_json(obj, state.now, epoch)
        if k.kind == "Namespace":
            body.setdefault("status", {})["phase"] = "Terminating"
        return Response(200, body, changed=not dry)
    return Response(200, _deleted_status(k, obj), changed=not dry)


def _delete_collection(state: Any, r: Route, req: Request) -> Response:
    k = r.kind
    _check_verb(k, "deletecollection")
    _authorize(state, "deletecollection", r)
    objs = matching(state, r, req)
    opts = _delete_options(req)
    dry = _dry_run(req)
    now, epoch = state.now, epoch_of(state)
    items = [k.to_json(o, now, epoch) for o in objs]
    for o in objs:
        _delete_one(state, k, o, opts, dry)
    return Response(
        200,
        {
            "kind": f"{k.kind}List",
            "apiVersion": k.api_version,
            "metadata": {"resourceVersion": str(state.rv)},
            "items": items,
        },
        changed=bool(objs) and not dry,
    )


# ----- subresources ------------------------------------------------------------------------------
def format_selector(selector: dict[str, Any] | None) -> str:
    """``metav1.FormatLabelSelector``."""
    if not selector:
        return ""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for e in selector.get("matchExpressions") or []:
        op, key, values = e.get("operator"), e.get("key"), e.get("values") or []
        if op == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            parts.append(str(key))
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)


def _scale(state: Any, obj: Any) -> dict[str, Any]:
    full = kinds.get(obj.kind).to_json(obj, state.now, epoch_of(state))
    meta = {
        k: v
        for k, v in full["metadata"].items()
        if k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
    }
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": meta,
        "spec": {"replicas": obj.spec.get("replicas", 1)},
        "status": {
            "replicas": obj.status.get("replicas", 0),
            "selector": format_selector(obj.spec.get("selector")),
        },
    }


def _subresource(state: Any, r: Route, req: Request) -> Response:
    k, m = r.kind, req.method
    if r.sub == "status":
        if m != "GET":
            raise st.method_not_supported(f"{k.plural}/status", k.group, m.lower())
        _authorize(state, "get", r)
        return _render_one(state, k, _get_obj(state, r), req)
    if r.sub == "scale":
        verb = {"GET": "get", "PUT": "update", "PATCH": "patch"}.get(m)
        if verb is None:
            raise st.not_allowed()
        _authorize(state, verb, r)
        obj = _get_obj(state, r)
        if m == "GET":
            return Response(200, _scale(state, obj))
        current = _scale(state, obj)
        if m == "PUT":
            new = decode_body(req, [JSON, YAML, PROTOBUF])
        else:
            from . import patch

            mt = media_type(req.content_type)
            if mt not in (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH):
                raise st.unsupported_media(PATCH_TYPES)
            try:
                body = json.loads(req.body.decode("utf-8"))
                new = (
                    patch.json_patch(current, body)
                    if mt == JSON_PATCH
                    else patch.merge_patch(current, body)
                )
            except (ValueError, UnicodeDecodeError) as e:
                raise st.bad_request(f"error decoding patch: {e}") from None
            except patch.PatchError as e:
                raise st.Status(
                    e.code, "Invalid" if e.code == 422 else "BadRequest", e.message
                ) from None
        replicas = (
            ((new or {}).get("spec") or {}).get("replicas") if isinstance(new, dict) else None
        )
        if not isinstance(replicas, int) or isinstance(replicas, bool):
            raise st.bad_request(
                'Scale in version "v1" cannot be handled as a Scale: spec.replicas must be an integer'
            )
        want_rv = (
            (new.get("metadata") or {}) if isinstance(new.get("metadata"), dict) else {}
        ).get("resourceVersion")
        if m == "PUT" and want_rv not in (None, "") and str(want_rv) != str(obj.resource_version):
            raise st.conflict(k.plural, k.group, r.name, st.MODIFIED)
        errors = replica_errors(replicas, MAX_REPLICAS)
        if errors:
            raise st.invalid_from_errors("Scale", "autoscaling", r.name, errors)
        dry = _dry_run(req)
        changed = False
        if obj.spec.get("replicas") != replicas and not dry:
            obj.spec["replicas"] = replicas
            obj.generation += 1
            state.touch(obj)
            changed = True
        out = _scale(state, obj)
        if dry:
            out["spec"]["replicas"] = replicas
        return Response(200, out, changed=changed)
    if r.sub == "eviction" and m == "POST":
        _authorize(state, "create", r)
        pod = _get_obj(state, r)
        body = decode_body(req)
        opts = (body or {}).get("deleteOptions") or {} if isinstance(body, dict) else {}
        dry = _dry_run(req) or (opts.get("dryRun") == ["All"])
        if not dry:
            state.delete_pod(pod, _grace(opts))
        return Response(
            201,
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "code": 201,
            },
            changed=not dry,
        )
    if r.sub == "binding" and m == "POST":
        _authorize(state, "create", r)
        pod = _get_obj(state, r)
        body = decode_body(req)
        target = (body.get("target") or {}) if isinstance(body, dict) else {}
        node = (
            state.nodes.get(target.get("name", ""))
            if target.get("kind", "Node") == "Node"
            else None
        )
        if pod.node_name:
            raise st.conflict(
                "pods/binding",
                "",
                r.name,
                f'pod {r.name} is already assigned to node "{pod.node_name}"',
            )
        if node is None:
            raise st.not_found("nodes", "", str(target.get("name", "")))
        state.bind(pod, node)
        return Response(
            201,
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "code": 201,
            },
            changed=True,
        )
    raise st.Status(
        404,
        "NotFound",
        f"the server could not find the requested resource ({m.lower()} {k.plural} {r.name}/{r.sub}): "
        f"KubeLab does not simulate {k.plural}/{r.sub} yet",
        {},
    )
