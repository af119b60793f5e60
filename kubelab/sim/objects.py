"""The API objects of a simulated cluster.

Every object keeps Kubernetes' own JSON shape for ``spec`` and ``status`` (camelCase
keys, as ``kubectl get -o json`` shows them), plus ``sim``: the simulation's private
bookkeeping (a kubelet's pull in progress, when a node's kubelet stopped) that a real
cluster keeps in component memory. All three are plain JSON so that a cluster can be
stored and sent to browsers as is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

# apimachinery/pkg/util/rand: the alphabet of generated name suffixes (no vowels, no 0/1/3).
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

# Scoring uses non-zero defaults for containers without requests (kube-scheduler
# pkg/scheduler/util/pod_resources.go: DefaultMilliCPURequest, DefaultMemoryRequest, GetNonzeroRequests).
DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024


def random_suffix(rng: Any, n: int = 5) -> str:
    return "".join(NAME_ALPHABET[rng.randrange(len(NAME_ALPHABET))] for _ in range(n))


def safe_encode(text: str) -> str:
    """``rand.SafeEncodeString``: each character c becomes alphanums[c % 27]."""
    return "".join(NAME_ALPHABET[ord(c) % len(NAME_ALPHABET)] for c in text)


def fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def pod_template_hash(template: dict[str, Any], collision_count: int = 0) -> str:
    """``controller.ComputeHash``: FNV-32a of the template (and collision count), safe-encoded."""
    labels = dict((template.get("metadata") or {}).get("labels") or {})
    labels.pop("pod-template-hash", None)
    canonical = dict(template)
    canonical["metadata"] = dict(template.get("metadata") or {}, labels=labels)
    data = json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        data += str(collision_count).encode()
    return safe_encode(str(fnv32a(data)))


@dataclass(eq=False)
class OwnerRef:
    kind: str
    name: str
    uid: str
    api_version: str = "apps/v1"

    def to_json(self) -> dict[str, Any]:
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "name": self.name,
            "uid": self.uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> OwnerRef | None:
        if not data:
            return None
        return cls(data["kind"], data["name"], data["uid"], data.get("apiVersion", "apps/v1"))


@dataclass(eq=False)
class KObject:
    """Common metadata of every API object; subclasses add helpers over spec/status."""

    # Set from the kind's registry entry (kubelab.sim.kinds.register): its one declaration.
    kind: ClassVar[str]
    api_version: ClassVar[str]
    namespaced: ClassVar[bool]
    has_generation: ClassVar[bool] = False  # metadata.generation is kept (spec changes bump it)

    name: str
    namespace: str = ""
    uid: str = ""
    resource_version: int = 0
    generation: int = 1
    created: float = 0.0
    deleted: float | None = None  # deletionTimestamp, in simulated seconds
    grace: int | None = None  # deletionGracePeriodSeconds
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    owner: OwnerRef | None = None
    spec: dict[str, Any] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)
    sim: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)

    @property
    def ref(self) -> str:
        """kubectl's ``kind/name`` (the OBJECT column of ``get events``)."""
        return f"{self.kind.lower()}/{self.name}"

    def condition(self, ctype: str) -> dict[str, Any] | None:
        """The status condition of a type (``Ready``, ``Available`` …), if there is one."""
        for c in self.status.get("conditions") or []:
            if c["type"] == ctype:
                return c
        return None

    def __post_init__(self) -> None:
        self.after_load()

    def after_load(self) -> None:
        """Recompute caches (parsed requests, allocatable) from spec and status."""

    def manifest(self, now: float, epoch: float | None = None) -> dict[str, Any]:
        """The object as ``kubectl get -o json`` shows it (timestamps relative to ``epoch``, the
        wall time of simulated second 0: ``EPOCH`` unless the API serves it live)."""
        meta: dict[str, Any] = {
            "name": self.name,
            "uid": self.uid,
            "resourceVersion": str(self.resource_version),
            "creationTimestamp": iso_time(self.created, epoch),
        }
        if self.namespaced:
            meta["namespace"] = self.namespace
        if self.generation and self.has_generation:
            meta["generation"] = self.generation
        if self.labels:
            meta["labels"] = self.labels
        if self.annotations:
            meta["annotations"] = self.annotations
        if self.owner is not None:
            meta["ownerReferences"] = [self.owner.to_json()]
        if self.deleted is not None:
            meta["deletionTimestamp"] = iso_time(self.deleted, epoch)
            meta["deletionGracePeriodSeconds"] = self.grace
        data: dict[str, Any] = {"apiVersion": self.api_version, "kind": self.kind, "metadata": meta}
        if self.spec:
            data["spec"] = self.spec
        if self.status:
            data["status"] = self.status
        return data


# The simulated cluster's epoch (sim time 0) in wall-clock terms, for -o json timestamps.
EPOCH = 1_767_225_600  # 2026-01-01T00:00:00Z


def iso_time(t: float, epoch: float | None = None) -> str:
    import datetime as _dt

    base = EPOCH if epoch is None else epoch
    return _dt.datetime.fromtimestamp(int(base + t), tz=_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


COMBINED = "(combined from similar events): "


@dataclass(eq=False)
class Event:
    """A core/v1 Event. ``count`` grows when the same event repeats (the event correlator)."""

    namespace: str
    name: str
    kind: str  # involved object's kind
    obj_name: str
    obj_uid: str
    type: str
    reason: str
    message: str
    source: str
    first: float
    last: float
    count: int = 1
    field_path: str = ""
    seq: int = 0  # order of the latest occurrence

    @property
    def object(self) -> str:
        return f"{self.kind.lower()}/{self.obj_name}"

    @property
    def dedupe_key(self) -> tuple[str, ...]:
        message = self.message
        if message.startswith(COMBINED):
            message = COMBINED  # one aggregated event per object and reason (EventAggregator)
        return (
            self.namespace,
            self.kind,
            self.obj_name,
            self.obj_uid,
            self.type,
            self.reason,
            message,
            self.source,
            self.field_path,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "name": self.name,
            "kind": self.kind,
            "objName": self.obj_name,
            "objUid": self.obj_uid,
            "type": self.type,
            "reason": self.reason,
            "message": self.message,
            "source": self.source,
            "first": self.first,
            "last": self.last,
            "count": self.count,
            "fieldPath": self.field_path,
            "seq": self.seq,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Event:
        return cls(
            namespace=d["namespace"],
            name=d["name"],
            kind=d["kind"],
            obj_name=d["objName"],
            obj_uid=d.get("objUid", ""),
            type=d["type"],
            reason=d["reason"],
            message=d["message"],
            source=d["source"],
            first=d["first"],
            last=d["last"],
            count=d.get("count", 1),
            field_path=d.get("fieldPath", ""),
            seq=d.get("seq", 0),
        )


def selector_matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels + matchExpressions) against a label set."""
    if not selector:
        return False
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    return all(match_expression(expr, labels) for expr in selector.get("matchExpressions") or [])


def match_expression(expr: dict[str, Any], labels: dict[str, str]) -> bool:
    key, op, values = expr["key"], expr["operator"], expr.get("values") or []
    if op == "In":
        return key in labels and labels[key] in values
    if op == "NotIn":
        return key not in labels or labels[key] not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    if op in ("Gt", "Lt"):
        try:
            have, want = int(labels[key]), int(values[0])
        except (KeyError, ValueError, IndexError):
            return False
        return have > want if op == "Gt" else have < want
    return False


def map_matches(selector: dict[str, str] | None, labels: dict[str, str]) -> bool:
    """A plain map selector (Service .spec.selector, nodeSelector)."""
    if not selector:
        return False
    return all(labels.get(k) == v for k, v in selector.items())
