"""``kubectl apply``: create or three-way-merge each object, answering in kubectl's words.

A whole apply is checked before anything is written: if one document is bad, nothing
changes (kubectl would apply the good documents; a classroom is better served by
all-or-nothing, and every error still reads as kubectl's).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any

from kubelab.sim import kinds
from kubelab.sim.objects import KObject
from kubelab.sim.quantity import QUANTITY_ERROR
from kubelab.sim.state import ClusterState

from . import ApiError, quota
from .authz import authorize
from .manifests import Document, load_documents
from .validation import (
    invalid_error,
    quantity_fields_ok,
    schema_problems,
    semantic_errors,
)

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
MAX_REPLICAS = 1000  # per workload


@dataclass
class Change:
    kind: str
    namespace: str
    name: str
    action: str  # created | configured | unchanged
    data: dict[str, Any]  # the object's metadata/spec after merge and defaulting
    existing: KObject | None
    doc: Document

    @property
    def line(self) -> str:
        return f"{kinds.get(self.kind).kubectl_name}/{self.name} {self.action}"


def _path_tuple(path: str) -> tuple[str | int, ...]:
    out: list[str | int] = []
    for part in re.findall(r"[^.\[\]]+|\[[^\]]*\]", path):
        if part.startswith("["):
            inner = part[1:-1]
            out.append(int(inner) if inner.isdigit() else inner)
        else:
            out.append(part)
    return tuple(out)


def _located(
    doc: Document, message: str, path: tuple[str | int, ...] | str | None, code: int
) -> ApiError:
    if isinstance(path, str):
        field = path
        path = _path_tuple(path)
    else:
        field = ".".join(
            str(p) if not isinstance(p, int) else f"[{p}]" for p in path or ()
        ).replace(".[", "[")
    return ApiError(
        message, line=doc.line_of(path or ()), field=field or None, doc=doc.index, code=code
    )


# Strategic merge: lists of objects merged by these keys (patchMergeKey in the API types).
MERGE_KEYS = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ports": ("containerPort", "port"),
    "env": ("name",),
    "volumes": ("name",),
    "volumeMounts": ("mountPath",),
}


def _merge_list(current: list[Any], last: Any, new: list[Any], field: str) -> list[Any]:
    def key_of(item: Any) -> Any:
        if not isinstance(item, dict):
            return None
        for k in MERGE_KEYS[field]:
            if k in item:
                return (k, item[k])
        return None

    cur = {key_of(i): i for i in current if key_of(i) is not None}
    old = {key_of(i): i for i in last if key_of(i) is not None} if isinstance(last, list) else {}
    out = []
    for item in new:
        k = key_of(item)
        if k is not None and k in cur and isinstance(item, dict):
            out.append(three_way(cur[k], old.get(k), item))
        else:
            out.append(copy.deepcopy(item))
    return out


def three_way(
    current: dict[str, Any], last: dict[str, Any] | None, new: dict[str, Any]
) -> dict[str, Any]:
    """Client-side apply's merge: set what the manifest sets, drop what it no longer sets, keep the rest."""
    result = copy.deepcopy(current)
    last = last if isinstance(last, dict) else {}
    for k, v in new.items():
        if isinstance(v, dict) and isinstance(result.get(k), dict):
            result[k] = three_way(
                result[k], last.get(k) if isinstance(last.get(k), dict) else None, v
            )
        elif isinstance(v, list) and isinstance(result.get(k), list) and k in MERGE_KEYS:
            result[k] = _merge_list(result[k], last.get(k), v, k)
        else:
            result[k] = copy.deepcopy(v)
    for k in last:
        if k not in new:
            result.pop(k, None)
    return result


def _strip_defaults_view(obj: KObject) -> dict[str, Any]:
    return {
        "labels": dict(obj.labels),
        "annotations": dict(obj.annotations),
        "spec": copy.deepcopy(obj.spec),
    }


def _check_kind(doc: Document, filename: str) -> tuple[str, str]:
    data = doc.data
    api_version, kind = data.get("apiVersion"), data.get("kind")
    missing = [f"{k} not set" for k, v in (("apiVersion", api_version), ("kind", kind)) if not v]
    if missing:
        raise _located(
            doc,
            f'error: error validating "{filename}": error validating data: [{", ".join(missing)}]; '
            "if you choose to ignore these errors, turn validation off with --validate=false",
            ("apiVersion",) if not api_version else ("kind",),
            400,
        )
    if not isinstance(api_version, str) or not isinstance(kind, str):
        raise _located(
            doc,
            f'error: error validating "{filename}": error validating data: apiVersion and kind must be strings',
            ("kind",),
            400,
        )
    name = (
        (data.get("metadata") or {}).get("name", "")
        if isinstance(data.get("metadata"), dict)
        else ""
    )
    known = kinds.find(kind)
    if known is not None and known.api_version == api_version:
        if known.applicable:
            return api_version, kind
        if known.refusal:
            raise _located(doc, known.refusal, ("kind",), 400)
    if (known is not None and known.api_version == api_version) or kinds.NOT_SIMULATED.get(
        kind
    ) == api_version:
        supported = ", ".join(k.kind for k in kinds.applicable())
        raise _located(
            doc,
            f"error: KubeLab does not simulate {kind} ({api_version}) yet; it simulates {supported}",
            ("kind",),
            400,
        )
    ns = (
        (data.get("metadata") or {}).get("namespace", "")
        if isinstance(data.get("metadata"), dict)
        else ""
    )
    raise _located(
        doc,
        f'error: resource mapping not found for name: "{name}" namespace: "{ns}" from "{filename}": '
        f'no matches for kind "{kind}" in version "{api_version}"\nensure CRDs are installed first',
        ("kind",),
        400,
    )


def _default(kind: str, data: dict[str, Any]) -> None:
    """The API server's defaulting of the kind (SetDefaults_*), on a whole object dict."""
    default = kinds.get(kind).default
    if default is not None:
        default(data.setdefault("spec", {}))


def _drop_nulls(value: Any) -> Any:
    """A copy without ``field: null`` entries: the API server decodes null as an unset field."""
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def plan(
    state: ClusterState,
    docs: list[Document],
    *,
    filename: str = "STDIN",
    namespace: str = "default",
    max_replicas: int = MAX_REPLICAS,
) -> list[Change]:
    """Validate every document and work out what applying it would do; raises ApiError."""
    changes: list[Change] = []
    new_namespaces: set[str] = set()
    seen: set[tuple[str, str, str]] = set()
    for doc in docs:
        api_version, kind = _check_kind(doc, filename)
        data = _drop_nulls(doc.data)
        meta = data.get("metadata")
        if not isinstance(meta, dict) or not meta.get("name"):
            raise _located(
                doc,
                f'error: error when retrieving current configuration of:\nResource: "{kinds.get(kind).resource}", GroupVersionKind: "{api_version}, Kind={kind}"\nfrom server for: "{filename}": resource name may not be empty',
                ("metadata",),
                400,
            )
        name = str(meta["name"])
        probe_ns = meta.get("namespace") if isinstance(meta.get("namespace"), str) else None
        exists = state.get(kind, probe_ns or namespace, name) is not None
        verb = "error when applying patch" if exists else "error when creating"
        for problem in schema_problems(data):
            raise _located(
                doc,
                f'Error from server (BadRequest): {verb} "{filename}": {problem.message}',
                problem.path,
                400,
            )
        qpath = quantity_fields_ok(data)
        if qpath is not None:
            raise _located(
                doc,
                f'Error from server (BadRequest): {verb} "{filename}": {kind} in version "{api_version.rsplit("/", 1)[-1]}" cannot be handled as a {kind}: {QUANTITY_ERROR}',
                qpath,
                400,
            )
        entry = kinds.get(kind)
        ns = str(meta.get("namespace") or namespace) if entry.namespaced else ""
        errors = semantic_errors(data, entry, max_replicas=max_replicas)
        if errors:
            raise _located(doc, invalid_error(kind, name, errors), errors[0].path, 422)
        if entry.namespaced and ns not in state.namespaces and ns not in new_namespaces:
            raise _located(
                doc,
                f'Error from server (NotFound): {verb} "{filename}": namespaces "{ns}" not found',
                ("metadata", "namespace") if meta.get("namespace") else ("metadata",),
                404,
            )
        if (kind, ns, name) in seen:
            raise _located(
                doc,
                f"error: {filename} names {kinds.get(kind).kubectl_name}/{name} twice",
                ("metadata", "name"),
                400,
            )
        seen.add((kind, ns, name))
        if kind == "Namespace":
            new_namespaces.add(name)
        existing = state.get(kind, ns, name)
        manifest = {
            "labels": meta.get("labels") or {},
            "annotations": meta.get("annotations") or {},
            "spec": data.get("spec") or {},
        }
        last_applied = json.dumps(doc.data, separators=(",", ":"), sort_keys=True) + "\n"
        if existing is None:
            errors = entry.validate_create(manifest) if entry.validate_create else []
            if errors:
                raise _located(doc, invalid_error(kind, name, errors), "metadata.annotations", 422)
            merged = copy.deepcopy(manifest)
            merged["annotations"][LAST_APPLIED] = last_applied
            full = {"kind": kind, "metadata": {"name": name}, "spec": merged["spec"]}
            _default(kind, full)
            merged["spec"] = full.get("spec", {})
            changes.append(Change(kind, ns, name, "created", merged, None, doc))
            continue
        want_rv = meta.get("resourceVersion")
        if want_rv not in (None, "") and str(want_rv) != str(existing.resource_version):
            raise _located(
                doc,
                f'Error from server (Conflict): Operation cannot be fulfilled on {kinds.get(kind).resource} "{name}": the object has '
                "been modified; please apply your changes to the latest version and try again",
                ("metadata", "resourceVersion"),
                409,
            )
        try:
            last = json.loads(existing.annotations.get(LAST_APPLIED, "null"))
        except ValueError:
            last = None
        last_view = None
        if isinstance(last, dict):
            lm = last.get("metadata") or {}
            last_view = {
                "labels": lm.get("labels") or {},
                "annotations": lm.get("annotations") or {},
                "spec": last.get("spec") or {},
            }
        merged = three_way(_strip_defaults_view(existing), last_view, manifest)
        merged["annotations"][LAST_APPLIED] = last_applied
        full = {"kind": kind, "metadata": {"name": name}, "spec": merged["spec"]}
        if entry.prepare_update is not None:
            entry.prepare_update(merged["spec"])
        _default(kind, full)
        merged["spec"] = full.get("spec", {})
        check = {
            "apiVersion": api_version,
            "kind": kind,
            "metadata": {"name": name, "labels": merged["labels"]},
            "spec": merged["spec"],
        }
        errors = semantic_errors(check, entry, max_replicas=max_replicas)
        if entry.validate_update is not None:
            errors += entry.validate_update(existing, merged["spec"])
        if errors:
            raise _located(doc, invalid_error(kind, name, errors), errors[0].path, 422)
        same = (
            merged["spec"] == existing.spec
            and merged["labels"] == existing.labels
            and merged["annotations"] == existing.annotations
        )
        changes.append(
            Change(kind, ns, name, "unchanged" if same else "configured", merged, existing, doc)
        )
    return changes


def commit(state: ClusterState, changes: list[Change], filename: str = "STDIN") -> list[str]:
    """Write planned changes into the state; returns kubectl's lines."""
    for ch in changes:
        allocate = kinds.get(ch.kind).allocate
        if allocate is not None:
            try:
                allocate(state, ch.namespace, ch.name, ch.data["spec"], ch.existing)
            except ApiError as e:
                raise _located(ch.doc, e.message, e.field, e.code) from None
    for ch in changes:
        if ch.action != "unchanged":
            try:
                authorize(
                    state,
                    "create" if ch.existing is None else "patch",
                    ch.kind,
                    ch.namespace,
                    ch.name,
                )
            except ApiError as e:
                verb = "error when creating" if ch.existing is None else "error when applying patch"
                raise _located(
                    ch.doc,
                    e.message.replace(
                        "Error from server (Forbidden): ",
                        f'Error from server (Forbidden): {verb} "{filename}": ',
                        1,
                    ),
                    ("metadata", "namespace")
                    if ch.doc.data.get("metadata", {}).get("namespace")
                    else ("metadata", "name"),
                    403,
                ) from None
    lines = []
    for ch in changes:
        lines.append(ch.line)
        if ch.action == "unchanged":
            continue
        if ch.existing is None:
            _create(state, ch, filename)
        else:
            _update(state, ch)
    return lines


def _create(state: ClusterState, ch: Change, filename: str = "STDIN") -> None:
    klass = kinds.get(ch.kind).cls
    assert klass is not None
    spec = ch.data["spec"]
    if ch.kind == "Pod":
        quota.apply_limit_range(state, ch.namespace, spec)
    try:
        quota.admit(state, ch.kind, ch.namespace, ch.name, spec)
    except ApiError as e:
        raise _located(
            ch.doc,
            f'Error from server (Forbidden): error when creating "{filename}": {e.message}',
            ("metadata", "name"),
            403,
        ) from None
    obj = klass(
        name=ch.name,
        namespace=ch.namespace,
        labels=ch.data["labels"],
        annotations=ch.data["annotations"],
        spec=spec,
    )
    prepare = kinds.get(ch.kind).prepare_create
    if prepare is not None:
        prepare(state, obj)
    state.add(obj)


def _update(state: ClusterState, ch: Change) -> None:
    obj = ch.existing
    assert obj is not None
    spec_changed = obj.spec != ch.data["spec"]
    obj.labels = ch.data["labels"]
    obj.annotations = ch.data["annotations"]
    if spec_changed:
        obj.spec = ch.data["spec"]
        if obj.has_generation:
            obj.generation += 1
        obj.after_load()
    state.touch(obj)


def apply_text(
    state: ClusterState,
    text: str | bytes,
    *,
    filename: str = "STDIN",
    namespace: str = "default",
    dry_run: bool = False,
    max_replicas: int = MAX_REPLICAS,
) -> list[str]:
    """Parse, validate and apply manifests; returns kubectl's output lines or raises ApiError."""
    docs = load_documents(text, filename)
    if not docs:
        raise ApiError("error: no objects passed to apply", code=400)
    changes = plan(state, docs, filename=filename, namespace=namespace, max_replicas=max_replicas)
    if dry_run:
        return [f"{c.line} (dry run)" for c in changes]
    return commit(state, changes, filename)
