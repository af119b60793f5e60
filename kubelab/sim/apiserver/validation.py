"""Validation in the API server's words.

Two layers, as on a real cluster: (1) decoding against the v1.34 OpenAPI schema shipped by
``kubernetes-validate`` (unknown fields with strict field validation, wrong types), which
kubectl reports as ``Error from server (BadRequest)``; (2) the semantic rules of
``pkg/apis/*/validation`` with field errors rendered like apimachinery's ``field.Error``
(v1.34: bad values as JSON), reported as ``The Deployment "web" is invalid: …``.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from kubelab.sim.quantity import QUANTITY_ERROR, QuantityError, int_value, milli_value

SCHEMA_VERSION = "v1.34.0"

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
PERCENT = re.compile(r"^[0-9]+%$")

MSG_SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
MSG_WILDCARD = (
    "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which "
    "must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric "
    "character (e.g. '*.example.com', regex used for validation is "
    "'\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
MSG_LABEL = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
    "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
MSG_DNS1035 = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
    "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
    "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
MSG_LABEL_VALUE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and "
    "must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex "
    "used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
MSG_QUALIFIED = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
MSG_PERCENT = (
    "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex "
    "used for validation is '[0-9]+%')"
)

_NO_VALUE = object()


@dataclass
class FieldError:
    path: str
    type: str  # "Required value", "Invalid value", "Unsupported value", "Forbidden", "Duplicate value"
    value: Any = _NO_VALUE
    detail: str = ""

    def render(self) -> str:
        out = f"{self.path}: {self.type}"
        if (
            self.type not in ("Required value", "Forbidden", "Too long", "Internal error")
            and self.value is not _NO_VALUE
        ):
            out += f": {render_value(self.value)}"
        if self.detail:
            out += f": {self.detail}"
        return out


def render_value(v: Any) -> str:
    """v1.34 renders bad values as JSON (strings quoted, maps compact with sorted keys)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return str(v)
    return json.dumps(v, separators=(",", ":"), sort_keys=True)


def invalid_error(kind: str, name: str, errors: list[FieldError]) -> str:
    """kubectl's rendering of a 422 Invalid (``checkErr`` in kubectl's helpers.go)."""
    if len(errors) == 1:
        return f'The {kind} "{name}" is invalid: {errors[0].render()}'
    return f'The {kind} "{name}" is invalid: \n' + "\n".join(f"* {e.render()}" for e in errors)


# ----------------------------------------------------------------------------------------------
# Schema (decoding) layer
# ----------------------------------------------------------------------------------------------
def _schema_dir() -> Any:
    return resources.files("kubernetes_validate").joinpath(
        "kubernetes-json-schema", f"{SCHEMA_VERSION}-local-strict"
    )


@functools.cache
def _definitions() -> dict[str, Any]:
    data = json.loads(_schema_dir().joinpath("_definitions.json").read_text())
    return data.get("$defs") or data.get("definitions") or {}


@functools.cache
def _validator(kind: str, api_version: str) -> Any:
    import jsonschema
    from referencing import Registry, Resource

    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema = json.loads(_schema_dir().joinpath(f"{kind.lower()}-{group}.json").read_text())
    defs = json.loads(_schema_dir().joinpath("_definitions.json").read_text())
    registry = Resource.from_contents(defs) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def _go_type(schema: dict[str, Any]) -> str:
    ref = schema.get("$ref", "")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        if name.endswith("IntOrString"):
            return "intstr.IntOrString"
        if name.endswith("Quantity"):
            return "resource.Quantity"
        parts = name.split(".")
        return f"{parts[-2]}.{parts[-1]}" if len(parts) > 2 else name
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "string")
    if t == "integer":
        return schema.get("format", "int64")
    if t == "boolean":
        return "bool"
    if t == "number":
        return "float64"
    if t == "array":
        return "[]" + _go_type(schema.get("items") or {})
    if t == "object":
        add = schema.get("additionalProperties")
        if isinstance(add, dict):
            return "map[string]" + _go_type(add)
        return "map[string]interface {}"
    return "string"


def _walk_schema(
    kind_schema: dict[str, Any], path: list[str | int], kind: str = "Object"
) -> tuple[str, dict[str, Any]]:
    """The Go struct that holds the last field of ``path``, and that field's schema."""
    defs = _definitions()
    struct = kind
    node = kind_schema
    for elem in path:
        while "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            struct = name.rsplit(".", 1)[-1]
            node = defs.get(name, {})
        if isinstance(elem, int):
            node = node.get("items") or {}
        else:
            node = (node.get("properties") or {}).get(elem) or {}
    while "$ref" in node and path:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name.endswith(("IntOrString", "Quantity")):
            break
        struct = name.rsplit(".", 1)[-1]
        node = defs.get(name, {})
    return struct, node


def _json_type(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, str):
        return "string"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return "null"


def dotted(path: list[str | int] | tuple[str | int, ...]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


@dataclass
class SchemaProblem:
    message: str
    path: tuple[str | int, ...]


def schema_problems(data: dict[str, Any]) -> list[SchemaProblem]:
    """Decode errors against the v1.34 schema: unknown fields (strict) and wrong types."""
    try:
        validator = _validator(data["kind"], data["apiVersion"])
    except FileNotFoundError:
        return []
    kind = data["kind"]
    version = data["apiVersion"].rsplit("/", 1)[-1]
    prefix = f'{kind} in version "{version}" cannot be handled as a {kind}: '
    unknown: list[SchemaProblem] = []
    typed: list[SchemaProblem] = []
    root = validator.schema
    for err in validator.iter_errors(data):
        path = list(err.absolute_path)
        if err.validator == "additionalProperties":
            allowed = set((err.schema.get("properties") or {}).keys())
            extra = [k for k in (err.instance or {}) if k not in allowed]
            for k in extra:
                unknown.append(SchemaProblem(f'unknown field "{dotted([*path, k])}"', (*path, k)))
        elif err.validator in ("type", "oneOf", "anyOf", "format"):
            struct, _ = _walk_schema(root, path[:-1], kind) if path else (kind, {})
            _, parent = _walk_schema(root, path[:-1], kind) if path else (kind, root)
            leaf = (
                (parent.get("properties") or {}).get(path[-1], {})
                if path and not isinstance(path[-1], int)
                else (parent.get("items") or {})
            )
            go = _go_type(leaf)
            if go == "resource.Quantity":
                typed.append(SchemaProblem(QUANTITY_ERROR, tuple(path)))
                continue
            if go == "intstr.IntOrString":
                typed.append(
                    SchemaProblem(
                        f"json: cannot unmarshal {_json_type(err.instance)} into Go value of type intstr.IntOrString",
                        tuple(path),
                    )
                )
                continue
            field_path = ".".join(str(p) for p in path if not isinstance(p, int))
            typed.append(
                SchemaProblem(
                    f"json: cannot unmarshal {_json_type(err.instance)} into Go struct field {struct}.{field_path} of type {go}",
                    tuple(path),
                )
            )
    if typed:
        return [SchemaProblem(prefix + typed[0].message, typed[0].path)]
    if unknown:
        msg = "strict decoding error: " + ", ".join(u.message for u in unknown)
        return [SchemaProblem(prefix + msg, unknown[0].path)]
    return []


# ----------------------------------------------------------------------------------------------
# Semantic layer
# ----------------------------------------------------------------------------------------------
class Errors(list[FieldError]):
    def add(self, path: str, type_: str, value: Any = _NO_VALUE, detail: str = "") -> None:
        self.append(FieldError(path, type_, value, detail))


def validate_name(errs: Errors, name: Any, rule: str, path: str = "metadata.name") -> None:
    """metadata.name by the kind's rule: ``subdomain`` (most kinds), ``label`` (Namespace),
    ``dns1035`` (Service)."""
    if not name:
        errs.add(path, "Required value", detail="name or generateName is required")
        return
    if not isinstance(name, str):
        errs.add(path, "Invalid value", name, "must be a string")
        return
    if rule == "dns1035":
        if len(name) > 63:
            errs.add(path, "Invalid value", name, "must be no more than 63 characters")
        if not DNS1035_LABEL.match(name):
            errs.add(path, "Invalid value", name, MSG_DNS1035)
    elif rule == "label":
        if len(name) > 63:
            errs.add(path, "Invalid value", name, "must be no more than 63 characters")
        if not DNS1123_LABEL.match(name):
            errs.add(path, "Invalid value", name, MSG_LABEL)
    else:
        if len(name) > 253:
            errs.add(path, "Invalid value", name, "must be no more than 253 characters")
        if not DNS1123_SUBDOMAIN.match(name):
            errs.add(path, "Invalid value", name, MSG_SUBDOMAIN)


def validate_labels(errs: Errors, labels: Any, path: str) -> None:
    if not labels:
        return
    for k, v in labels.items():
        key = str(k)
        name = key.rsplit("/", 1)[-1]
        prefix = key.rsplit("/", 1)[0] if "/" in key else ""
        if not name or len(name) > 63 or not QUALIFIED_NAME.match(name):
            errs.add(
                path,
                "Invalid value",
                key,
                MSG_QUALIFIED
                if name and len(name) <= 63
                else "name part must be no more than 63 characters",
            )
        elif prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix)):
            errs.add(path, "Invalid value", key, "prefix part " + MSG_SUBDOMAIN)
        if v is None:
            continue
        value = str(v)
        if len(value) > 63:
            errs.add(path, "Invalid value", value, "must be no more than 63 characters")
        elif not LABEL_VALUE.match(value):
            errs.add(path, "Invalid value", value, MSG_LABEL_VALUE)


def _quantity(errs: Errors, v: Any, path: str) -> int | None:
    try:
        return milli_value(v)
    except QuantityError:
        errs.add(path, "Invalid value", v, QUANTITY_ERROR)
        return None


def validate_container(
    errs: Errors, c: dict[str, Any], path: str, names: set[str], init: bool
) -> None:
    name = c.get("name")
    if not name:
        errs.add(f"{path}.name", "Required value")
    elif not DNS1123_LABEL.match(str(name)) or len(str(name)) > 63:
        errs.add(f"{path}.name", "Invalid value", name, MSG_LABEL)
    elif name in names:
        errs.add(f"{path}.name", "Duplicate value", name)
    else:
        names.add(str(name))
    image = c.get("image")
    if not image or not str(image).strip():
        errs.add(f"{path}.image", "Required value")
    elif str(image) != str(image).strip():
        errs.add(
            f"{path}.image", "Invalid value", image, "must not have leading or trailing whitespace"
        )
    policy = c.get("imagePullPolicy")
    if policy is not None and policy not in ("Always", "IfNotPresent", "Never"):
        errs.add(
            f"{path}.imagePullPolicy",
            "Unsupported value",
            policy,
            'supported values: "Always", "IfNotPresent", "Never"',
        )
    seen_ports: set[tuple[int, str]] = set()
    for i, p in enumerate(c.get("ports") or []):
        pp = f"{path}.ports[{i}]"
        cp = p.get("containerPort")
        if cp is None:
            errs.add(f"{pp}.containerPort", "Required value")
        elif not 1 <= int(cp) <= 65535:
            errs.add(
                f"{pp}.containerPort", "Invalid value", cp, "must be between 1 and 65535, inclusive"
            )
        hp = p.get("hostPort")
        if hp is not None and hp != 0 and not 1 <= int(hp) <= 65535:
            errs.add(
                f"{pp}.hostPort", "Invalid value", hp, "must be between 1 and 65535, inclusive"
            )
        proto = p.get("protocol", "TCP")
        if proto not in ("TCP", "UDP", "SCTP"):
            errs.add(
                f"{pp}.protocol",
                "Unsupported value",
                proto,
                'supported values: "SCTP", "TCP", "UDP"',
            )
        if p.get("name") is not None:
            pn = str(p["name"])
            if (
                len(pn) > 15
                or not re.match(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", pn)
                or not re.search(r"[a-z]", pn)
            ):
                errs.add(
                    f"{pp}.name",
                    "Invalid value",
                    pn,
                    "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"
                    if len(pn) <= 15
                    else "must be no more than 15 characters",
                )
        if cp is not None:
            key = (int(cp), str(proto))
            if key in seen_ports and hp:
                errs.add(f"{pp}", "Duplicate value", {"containerPort": cp, "protocol": proto})
            seen_ports.add(key)
    res = c.get("resources") or {}
    req, lim = res.get("requests") or {}, res.get("limits") or {}
    for rname, group in (("requests", req), ("limits", lim)):
        for r, v in group.items():
            rp = f"{path}.resources.{rname}[{r}]"
            if (
                r in ("cpu", "memory", "ephemeral-storage")
                or "/" in r
                or r.startswith("hugepages-")
            ):
                m = _quantity(errs, v, rp)
                if m is not None and m < 0:
                    errs.add(rp, "Invalid value", v, "must be greater than or equal to 0")
            else:
                errs.add(
                    rp, "Invalid value", r, "must be a standard resource type or fully qualified"
                )
    for r in ("cpu", "memory"):
        if r in req and r in lim:
            try:
                rq, lm = (milli_value(req[r]), milli_value(lim[r]))
            except QuantityError:
                continue
            if rq > lm:
                errs.add(
                    f"{path}.resources.requests",
                    "Invalid value",
                    str(req[r]),
                    f"must be less than or equal to {r} limit of {lim[r]}",
                )
    for probe_name in ("readinessProbe", "livenessProbe", "startupProbe"):
        probe = c.get(probe_name)
        if probe is None:
            continue
        pp = f"{path}.{probe_name}"
        if init and probe_name != "startupProbe":
            errs.add(
                pp,
                "Forbidden",
                detail="may not be set for init containers without restartPolicy=Always",
            )
        handlers = [h for h in ("exec", "httpGet", "tcpSocket", "grpc") if h in probe]
        if not handlers:
            errs.add(pp, "Required value", detail="must specify a handler type")
        elif len(handlers) > 1:
            errs.add(
                f"{pp}.{handlers[1]}",
                "Forbidden",
                detail="may not specify more than 1 handler type",
            )
        for fld in (
            "initialDelaySeconds",
            "timeoutSeconds",
            "periodSeconds",
            "successThreshold",
            "failureThreshold",
        ):
            v = probe.get(fld)
            if v is not None and v < 0:
                errs.add(f"{pp}.{fld}", "Invalid value", v, "must be greater than or equal to 0")
        if probe_name != "readinessProbe" and probe.get("successThreshold", 1) != 1:
            errs.add(
                f"{pp}.successThreshold",
                "Invalid value",
                probe.get("successThreshold"),
                "must be 1",
            )


def validate_pod_spec(errs: Errors, spec: dict[str, Any], path: str, *, for_template: bool) -> None:
    containers = spec.get("containers")
    names: set[str] = set()
    if not containers:
        errs.add(f"{path}.containers", "Required value")
    for i, c in enumerate(spec.get("initContainers") or []):
        validate_container(errs, c, f"{path}.initContainers[{i}]", names, init=True)
    for i, c in enumerate(containers or []):
        validate_container(errs, c, f"{path}.containers[{i}]", names, init=False)
    rp = spec.get("restartPolicy")
    if for_template:
        if rp is not None and rp != "Always":
            errs.add(f"{path}.restartPolicy", "Unsupported value", rp, 'supported values: "Always"')
        if spec.get("activeDeadlineSeconds") is not None:
            errs.add(
                f"{path}.activeDeadlineSeconds",
                "Forbidden",
                detail="activeDeadlineSeconds in ReplicaSet is not Supported",
            )
    elif rp is not None and rp not in ("Always", "OnFailure", "Never"):
        errs.add(
            f"{path}.restartPolicy",
            "Unsupported value",
            rp,
            'supported values: "Always", "Never", "OnFailure"',
        )
    tgps = spec.get("terminationGracePeriodSeconds")
    if tgps is not None and tgps < 0:
        errs.add(
            f"{path}.terminationGracePeriodSeconds",
            "Invalid value",
            tgps,
            "must be greater than or equal to 0",
        )
    for i, t in enumerate(spec.get("tolerations") or []):
        tp = f"{path}.tolerations[{i}]"
        op = t.get("operator", "Equal")
        if op not in ("Equal", "Exists"):
            errs.add(
                f"{tp}.operator", "Unsupported value", op, 'supported values: "Equal", "Exists"'
            )
        if op == "Exists" and t.get("value"):
            errs.add(
                f"{tp}.operator",
                "Invalid value",
                op,
                "value must be empty when `operator` is 'Exists'",
            )
        if not t.get("key") and op != "Exists":
            errs.add(
                f"{tp}.operator",
                "Invalid value",
                op,
                'operator must be Exists when `key` is empty, which means "match all values and all keys"',
            )
        eff = t.get("effect")
        if eff and eff not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            errs.add(
                f"{tp}.effect",
                "Unsupported value",
                eff,
                'supported values: "NoExecute", "NoSchedule", "PreferNoSchedule"',
            )
        if t.get("tolerationSeconds") is not None and eff != "NoExecute":
            errs.add(
                f"{tp}.effect",
                "Invalid value",
                eff or "",
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            )
    if spec.get("nodeSelector"):
        validate_labels(errs, spec["nodeSelector"], f"{path}.nodeSelector")


def validate_selector(
    errs: Errors, selector: Any, template_labels: dict[str, Any], kind_word: str
) -> None:
    if selector is None:
        errs.add("spec.selector", "Required value")
        return
    ml = selector.get("matchLabels") or {}
    me = selector.get("matchExpressions") or []
    if not ml and not me:
        errs.add(
            "spec.selector", "Invalid value", selector, f"empty selector is invalid for {kind_word}"
        )
        return
    validate_labels(errs, ml, "spec.selector.matchLabels")
    for i, e in enumerate(me):
        if e.get("operator") not in ("In", "NotIn", "Exists", "DoesNotExist"):
            errs.add(
                f"spec.selector.matchExpressions[{i}].operator",
                "Invalid value",
                e.get("operator"),
                "not a valid selector operator",
            )
    from kubelab.sim.objects import selector_matches

    if not selector_matches(selector, {str(k): str(v) for k, v in (template_labels or {}).items()}):
        errs.add(
            "spec.template.metadata.labels",
            "Invalid value",
            template_labels or {},
            "`selector` does not match template `labels`",
        )


def _int_or_percent(errs: Errors, v: Any, path: str) -> None:
    if isinstance(v, int):
        if v < 0:
            errs.add(path, "Invalid value", v, "must be greater than or equal to 0")
    elif isinstance(v, str) and not PERCENT.match(v):
        errs.add(path, "Invalid value", v, MSG_PERCENT)


def _is_zero(v: Any) -> bool:
    return v == 0 or v == "0%"


def replica_errors(
    replicas: Any, max_replicas: int, path: str = "spec.replicas"
) -> list[FieldError]:
    """``replicas`` must be ≥ 0 (Kubernetes) and ≤ KubeLab's per-workload limit."""
    if replicas is None:
        return []
    if replicas < 0:
        return [FieldError(path, "Invalid value", replicas, "must be greater than or equal to 0")]
    if replicas > max_replicas:
        return [
            FieldError(
                path,
                "Invalid value",
                replicas,
                f"must be less than or equal to {max_replicas} (KubeLab's limit, max-replicas={max_replicas})",
            )
        ]
    return []


def validate_workload(errs: Errors, data: dict[str, Any], kind: str, max_replicas: int) -> None:
    spec = data.get("spec") or {}
    template = spec.get("template") or {}
    tlabels = (template.get("metadata") or {}).get("labels") or {}
    errs.extend(replica_errors(spec.get("replicas"), max_replicas))
    validate_selector(errs, spec.get("selector"), tlabels, "deployment")
    if spec.get("template") is None:
        errs.add("spec.template", "Required value")
    validate_labels(errs, tlabels, "spec.template.metadata.labels")
    validate_pod_spec(errs, template.get("spec") or {}, "spec.template.spec", for_template=True)
    mrs = spec.get("minReadySeconds")
    if mrs is not None and mrs < 0:
        errs.add("spec.minReadySeconds", "Invalid value", mrs, "must be greater than or equal to 0")
    if kind != "Deployment":
        return
    strategy = spec.get("strategy") or {}
    stype = strategy.get("type", "RollingUpdate")
    ru = strategy.get("rollingUpdate")
    if stype not in ("Recreate", "RollingUpdate"):
        errs.add(
            "spec.strategy.type",
            "Unsupported value",
            stype,
            'supported values: "Recreate", "RollingUpdate"',
        )
    elif stype == "Recreate" and ru is not None:
        errs.add(
            "spec.strategy.rollingUpdate",
            "Forbidden",
            detail="may not be specified when strategy `type` is 'Recreate'",
        )
    elif stype == "RollingUpdate" and ru is not None:
        ms, mu = ru.get("maxSurge"), ru.get("maxUnavailable")
        if ms is not None:
            _int_or_percent(errs, ms, "spec.strategy.rollingUpdate.maxSurge")
        if mu is not None:
            _int_or_percent(errs, mu, "spec.strategy.rollingUpdate.maxUnavailable")
            if isinstance(mu, str) and PERCENT.match(mu) and int(mu[:-1]) > 100:
                errs.add(
                    "spec.strategy.rollingUpdate.maxUnavailable",
                    "Invalid value",
                    mu,
                    "must not be greater than 100%",
                )
        if ms is not None and mu is not None and _is_zero(ms) and _is_zero(mu):
            errs.add(
                "spec.strategy.rollingUpdate.maxUnavailable",
                "Invalid value",
                mu,
                "may not be 0 when `maxSurge` is 0",
            )
    rhl = spec.get("revisionHistoryLimit")
    if rhl is not None and rhl < 0:
        errs.add(
            "spec.revisionHistoryLimit", "Invalid value", rhl, "must be greater than or equal to 0"
        )
    pds = spec.get("progressDeadlineSeconds")
    if pds is not None:
        if pds < 0:
            errs.add(
                "spec.progressDeadlineSeconds",
                "Invalid value",
                pds,
                "must be greater than or equal to 0",
            )
        elif pds <= int(mrs or 0):
            errs.add(
                "spec.progressDeadlineSeconds",
                "Invalid value",
                pds,
                "must be greater than minReadySeconds",
            )


def validate_service(errs: Errors, data: dict[str, Any]) -> None:
    spec = data.get("spec") or {}
    stype = spec.get("type", "ClusterIP")
    if stype not in ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"):
        errs.add(
            "spec.type",
            "Unsupported value",
            stype,
            'supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
        )
    ports = spec.get("ports") or []
    if not ports and stype != "ExternalName" and spec.get("clusterIP") != "None":
        errs.add("spec.ports", "Required value")
    names: set[str] = set()
    for i, p in enumerate(ports):
        pp = f"spec.ports[{i}]"
        if len(ports) > 1 and not p.get("name"):
            errs.add(f"{pp}.name", "Required value")
        elif p.get("name"):
            if p["name"] in names:
                errs.add(f"{pp}.name", "Duplicate value", p["name"])
            names.add(p["name"])
        port = p.get("port")
        if port is None:
            errs.add(f"{pp}.port", "Required value")
        elif not 1 <= int(port) <= 65535:
            errs.add(f"{pp}.port", "Invalid value", port, "must be between 1 and 65535, inclusive")
        proto = p.get("protocol", "TCP")
        if proto not in ("TCP", "UDP", "SCTP"):
            errs.add(
                f"{pp}.protocol",
                "Unsupported value",
                proto,
                'supported values: "SCTP", "TCP", "UDP"',
            )
        tp = p.get("targetPort")
        if isinstance(tp, int) and not 1 <= tp <= 65535:
            errs.add(
                f"{pp}.targetPort", "Invalid value", tp, "must be between 1 and 65535, inclusive"
            )
        np_ = p.get("nodePort")
        if np_ is not None:
            if stype == "ClusterIP":
                errs.add(
                    f"{pp}.nodePort",
                    "Forbidden",
                    detail="may not be used when `type` is 'ClusterIP'",
                )
            elif not 30000 <= int(np_) <= 32767:
                errs.add(
                    f"{pp}.nodePort",
                    "Invalid value",
                    np_,
                    "provided port is not in the valid range. The range of valid ports is 30000-32767",
                )
    if spec.get("selector"):
        validate_labels(errs, spec["selector"], "spec.selector")
    if stype == "ExternalName" and not spec.get("externalName"):
        errs.add("spec.externalName", "Required value")


def semantic_errors(data: dict[str, Any], kind: Any, *, max_replicas: int) -> list[FieldError]:
    """The API server's validation of an object of ``kind`` (its ``kinds.Kind`` entry): the
    metadata every kind has, then the kind's own ``validate`` hook."""
    errs = Errors()
    meta = data.get("metadata") or {}
    validate_name(errs, meta.get("name"), kind.name_rule)
    ns = meta.get("namespace")
    if (
        ns is not None
        and kind.namespaced
        and (not isinstance(ns, str) or not DNS1123_LABEL.match(ns))
    ):
        errs.add("metadata.namespace", "Invalid value", ns, MSG_LABEL)
    validate_labels(errs, meta.get("labels"), "metadata.labels")
    if kind.validate is not None:
        kind.validate(errs, data, max_replicas)
    return list(errs)


def validate_ingress(errs: Errors, spec: dict[str, Any]) -> None:
    """The parts of ``ValidateIngressSpec`` students meet: pathType, paths, a backend."""
    rules = spec.get("rules") or []
    if not rules and not spec.get("defaultBackend"):
        errs.add(
            "spec", "Invalid value", detail="either `defaultBackend` or `rules` must be specified"
        )
    for i, rule in enumerate(rules):
        host = (rule or {}).get("host")
        if host:
            # validateIngressRules: a DNS name, optionally with one leading wildcard label.
            where = f"spec.rules[{i}].host"
            if isinstance(host, str) and IPV4.match(host):
                errs.add(where, "Invalid value", host, "must be a DNS name, not an IP address")
            elif isinstance(host, str) and "*" in host:
                if (
                    not host.startswith("*.")
                    or not DNS1123_SUBDOMAIN.match(host[2:])
                    or len(host) > 253
                ):
                    errs.add(where, "Invalid value", host, MSG_WILDCARD)
            elif not isinstance(host, str) or not DNS1123_SUBDOMAIN.match(host) or len(host) > 253:
                errs.add(where, "Invalid value", host, MSG_SUBDOMAIN)
        for j, path in enumerate(((rule or {}).get("http") or {}).get("paths") or []):
            where = f"spec.rules[{i}].http.paths[{j}]"
            ptype = path.get("pathType")
            if ptype is None:
                errs.add(f"{where}.pathType", "Required value", detail="pathType must be specified")
            elif ptype not in ("Exact", "Prefix", "ImplementationSpecific"):
                errs.add(
                    f"{where}.pathType",
                    "Unsupported value",
                    ptype,
                    'supported values: "Exact", "ImplementationSpecific", "Prefix"',
                )
            p = path.get("path")
            if ptype in ("Exact", "Prefix") and (not isinstance(p, str) or not p.startswith("/")):
                errs.add(f"{where}.path", "Invalid value", p, "must be an absolute path")
            svc = ((path.get("backend") or {}).get("service")) or {}
            if not svc.get("name"):
                errs.add(
                    f"{where}.backend",
                    "Invalid value",
                    detail="resource or service backend is required",
                )


def validate_hpa(errs: Errors, spec: dict[str, Any]) -> None:
    """``ValidateHorizontalPodAutoscalerSpec`` (pkg/apis/autoscaling/validation)."""
    ref = spec.get("scaleTargetRef") or {}
    if not ref.get("kind"):
        errs.add("spec.scaleTargetRef.kind", "Required value")
    if not ref.get("name"):
        errs.add("spec.scaleTargetRef.name", "Required value")
    lo, hi = spec.get("minReplicas"), spec.get("maxReplicas")
    if isinstance(lo, int) and lo < 1:
        errs.add("spec.minReplicas", "Invalid value", lo, "must be greater than or equal to 1")
    if isinstance(hi, int):
        if hi < 1:
            errs.add("spec.maxReplicas", "Invalid value", hi, "must be greater than 0")
        elif isinstance(lo, int) and hi < lo:
            errs.add(
                "spec.maxReplicas",
                "Invalid value",
                hi,
                "must be greater than or equal to `minReplicas`",
            )
    for i, m in enumerate(spec.get("metrics") or []):
        target = ((m or {}).get("resource") or {}).get("target") or {}
        util = target.get("averageUtilization")
        if target.get("type") == "Utilization" and isinstance(util, int) and util < 1:
            errs.add(
                f"spec.metrics[{i}].resource.target.averageUtilization",
                "Invalid value",
                util,
                "must be greater than 0",
            )


def quantity_fields_ok(data: dict[str, Any]) -> tuple[str | int, ...] | None:
    """The path of the first resource quantity that does not parse (a decode error), or None."""
    spec = data.get("spec") or {}
    pod_spec, base = (
        (spec, ("spec",))
        if data.get("kind") == "Pod"
        else ((spec.get("template") or {}).get("spec") or {}, ("spec", "template", "spec"))
    )
    for group in ("initContainers", "containers"):
        for i, c in enumerate(pod_spec.get(group) or []):
            res = (c or {}).get("resources") or {}
            for rname in ("requests", "limits"):
                for r, v in (res.get(rname) or {}).items():
                    try:
                        int_value(v)
                    except QuantityError:
                        return (*base, group, i, "resources", rname, r)
    return None
