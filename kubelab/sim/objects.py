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

from .quantity import int_value, milli_value

# apimachinery/pkg/util/rand: the alphabet of generated name suffixes (no vowels, no 0/1/3).
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

# Scoring uses non-zero defaults for containers without requests (fidelity §1.5).
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

    kind: ClassVar[str] = ""
    api_version: ClassVar[str] = "v1"
    namespaced: ClassVar[bool] = True
    resource: ClassVar[str] = ""  # kubectl's name for it: "deployment.apps", "pod"

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

    def to_json(self) -> dict[str, Any]:
        """The object as the browser and the database keep it."""
        data: dict[str, Any] = {
            "kind": self.kind,
            "name": self.name,
            "namespace": self.namespace,
            "uid": self.uid,
            "resourceVersion": self.resource_version,
            "generation": self.generation,
            "created": self.created,
            "labels": self.labels,
            "annotations": self.annotations,
            "spec": self.spec,
            "status": self.status,
            "sim": self.sim,
        }
        if self.deleted is not None:
            data["deleted"] = self.deleted
            data["grace"] = self.grace
        if self.owner is not None:
            data["owner"] = self.owner.to_json()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KObject:
        klass = KINDS[data["kind"]]
        obj = klass(
            name=data["name"],
            namespace=data.get("namespace", ""),
            uid=data.get("uid", ""),
            resource_version=int(data.get("resourceVersion", 0)),
            generation=int(data.get("generation", 1)),
            created=float(data.get("created", 0.0)),
            deleted=data.get("deleted"),
            grace=data.get("grace"),
            labels=dict(data.get("labels") or {}),
            annotations=dict(data.get("annotations") or {}),
            owner=OwnerRef.from_json(data.get("owner")),
            spec=data.get("spec") or {},
            status=data.get("status") or {},
            sim=data.get("sim") or {},
        )
        return obj

    def __post_init__(self) -> None:
        self.after_load()

    def after_load(self) -> None:
        """Recompute caches (parsed requests, allocatable) from spec and status."""

    def manifest(self, now: float) -> dict[str, Any]:
        """The object as ``kubectl get -o json`` shows it (timestamps relative to the epoch)."""
        meta: dict[str, Any] = {
            "name": self.name,
            "uid": self.uid,
            "resourceVersion": str(self.resource_version),
            "creationTimestamp": iso_time(self.created),
        }
        if self.namespaced:
            meta["namespace"] = self.namespace
        if self.generation and self.kind in ("Deployment", "ReplicaSet"):
            meta["generation"] = self.generation
        if self.labels:
            meta["labels"] = self.labels
        if self.annotations:
            meta["annotations"] = self.annotations
        if self.owner is not None:
            meta["ownerReferences"] = [self.owner.to_json()]
        if self.deleted is not None:
            meta["deletionTimestamp"] = iso_time(self.deleted)
            meta["deletionGracePeriodSeconds"] = self.grace
        data: dict[str, Any] = {"apiVersion": self.api_version, "kind": self.kind, "metadata": meta}
        if self.spec:
            data["spec"] = self.spec
        if self.status:
            data["status"] = self.status
        return data


# The simulated cluster's epoch (sim time 0) in wall-clock terms, for -o json timestamps.
EPOCH = 1_767_225_600  # 2026-01-01T00:00:00Z


def iso_time(t: float) -> str:
    import datetime as _dt

    return _dt.datetime.fromtimestamp(EPOCH + int(t), tz=_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Namespace(KObject):
    kind = "Namespace"
    namespaced = False
    resource = "namespace"


class Node(KObject):
    kind = "Node"
    namespaced = False
    resource = "node"

    def after_load(self) -> None:
        alloc = self.status.get("allocatable") or {}
        self.alloc_cpu = milli_value(alloc.get("cpu", "0"))
        self.alloc_mem = int_value(alloc.get("memory", "0"))
        self.alloc_pods = int_value(alloc.get("pods", "110"))
        # Sums over the pods bound here (kept by ClusterState).
        self.req_cpu = 0
        self.req_mem = 0
        self.nz_cpu = 0  # non-zero requests, for scoring
        self.nz_mem = 0
        self.pod_count = 0
        self.used_ports: set[tuple[str, int, str]] = set()

    @property
    def unschedulable(self) -> bool:
        return bool(self.spec.get("unschedulable"))

    @property
    def taints(self) -> list[dict[str, Any]]:
        return self.spec.get("taints") or []

    def condition(self, ctype: str) -> dict[str, Any] | None:
        for c in self.status.get("conditions") or []:
            if c["type"] == ctype:
                return c
        return None

    @property
    def ready_status(self) -> str | None:
        c = self.condition("Ready")
        return c["status"] if c else None

    @property
    def kubelet_running(self) -> bool:
        return not self.sim.get("kubeletStopped")

    @property
    def internal_ip(self) -> str:
        for a in self.status.get("addresses") or []:
            if a["type"] == "InternalIP":
                return a["address"]
        return ""


class Pod(KObject):
    kind = "Pod"
    resource = "pod"

    def after_load(self) -> None:
        cpu = mem = 0
        nz_cpu = nz_mem = 0
        spec = self.spec
        for c in spec.get("containers") or []:
            req = (c.get("resources") or {}).get("requests") or {}
            c_cpu = milli_value(req["cpu"]) if "cpu" in req else 0
            c_mem = int_value(req["memory"]) if "memory" in req else 0
            cpu += c_cpu
            mem += c_mem
            nz_cpu += c_cpu if "cpu" in req else DEFAULT_MILLI_CPU_REQUEST
            nz_mem += c_mem if "memory" in req else DEFAULT_MEMORY_REQUEST
        for c in spec.get("initContainers") or []:
            req = (c.get("resources") or {}).get("requests") or {}
            if "cpu" in req:
                cpu = max(cpu, milli_value(req["cpu"]))
            if "memory" in req:
                mem = max(mem, int_value(req["memory"]))
        self.req_cpu = cpu
        self.req_mem = mem
        self.nz_cpu = nz_cpu
        self.nz_mem = nz_mem
        self.host_ports = [
            (p.get("hostIP") or "0.0.0.0", int(p["hostPort"]), p.get("protocol") or "TCP")
            for c in spec.get("containers") or []
            for p in c.get("ports") or []
            if p.get("hostPort")
        ]

    @property
    def node_name(self) -> str:
        return self.spec.get("nodeName") or ""

    @property
    def phase(self) -> str:
        return self.status.get("phase") or "Pending"

    @property
    def terminal(self) -> bool:
        return self.phase in ("Succeeded", "Failed")

    @property
    def active(self) -> bool:
        """``controller.IsPodActive``: not terminal and not being deleted."""
        return self.deleted is None and not self.terminal

    def condition(self, ctype: str) -> dict[str, Any] | None:
        for c in self.status.get("conditions") or []:
            if c["type"] == ctype:
                return c
        return None

    @property
    def ready(self) -> bool:
        c = self.condition("Ready")
        return bool(c and c["status"] == "True")

    def ready_since(self) -> float | None:
        c = self.condition("Ready")
        if c and c["status"] == "True":
            return c.get("lastTransitionTime")
        return None

    def available(self, min_ready_seconds: int, now: float) -> bool:
        since = self.ready_since()
        if since is None:
            return False
        return min_ready_seconds == 0 or since + min_ready_seconds <= now

    @property
    def restarts(self) -> int:
        return sum(cs.get("restartCount", 0) for cs in self.status.get("containerStatuses") or [])

    @property
    def ip(self) -> str:
        return self.status.get("podIP") or ""


class ReplicaSet(KObject):
    kind = "ReplicaSet"
    api_version = "apps/v1"
    resource = "replicaset.apps"

    @property
    def replicas(self) -> int:
        return int(self.spec.get("replicas", 1))

    @property
    def revision(self) -> int:
        try:
            return int(self.annotations.get("deployment.kubernetes.io/revision", "0"))
        except ValueError:
            return 0


class Deployment(KObject):
    kind = "Deployment"
    api_version = "apps/v1"
    resource = "deployment.apps"

    @property
    def replicas(self) -> int:
        return int(self.spec.get("replicas", 1))

    @property
    def revision(self) -> int:
        try:
            return int(self.annotations.get("deployment.kubernetes.io/revision", "0"))
        except ValueError:
            return 0

    def condition(self, ctype: str) -> dict[str, Any] | None:
        for c in self.status.get("conditions") or []:
            if c["type"] == ctype:
                return c
        return None


class Service(KObject):
    kind = "Service"
    resource = "service"

    @property
    def endpoints(self) -> list[str]:
        return self.sim.get("endpoints") or []


class HorizontalPodAutoscaler(KObject):
    kind = "HorizontalPodAutoscaler"
    api_version = "autoscaling/v2"
    resource = "horizontalpodautoscaler.autoscaling"

    @property
    def target(self) -> tuple[str, str]:
        ref = self.spec.get("scaleTargetRef") or {}
        return str(ref.get("kind", "")), str(ref.get("name", ""))


class Ingress(KObject):
    kind = "Ingress"
    api_version = "networking.k8s.io/v1"
    resource = "ingress.networking.k8s.io"


class IngressClass(KObject):
    """The cluster's one IngressClass, ``nginx``: installed with its ingress controller
    (ingress-nginx), not created through the API here (``ClusterState.ingress_classes``)."""

    kind = "IngressClass"
    api_version = "networking.k8s.io/v1"
    namespaced = False
    resource = "ingressclass.networking.k8s.io"


# Kinds without a namespace: addressed by name alone.
CLUSTER_SCOPED = ("Node", "Namespace", "IngressClass")

KINDS: dict[str, type[KObject]] = {
    k.kind: k
    for k in (
        Namespace,
        Node,
        Pod,
        ReplicaSet,
        Deployment,
        Service,
        HorizontalPodAutoscaler,
        Ingress,
    )
}


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
