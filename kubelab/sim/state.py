"""ClusterState: every object of one cluster, its clock, and what changed this tick.

Components never assign into the dicts directly: they go through ``add``, ``touch`` and
``remove``, which keep the indexes (pods by node, pods by owner), bump the
resource version, record the change for the delta and enqueue the keys of the
controllers that must look again (level-triggered, like informers feeding work queues).
"""

from __future__ import annotations

import heapq
import random
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import kinds
from .clock import Clock
from .kinds import (
    Deployment,
    HorizontalPodAutoscaler,
    Ingress,
    Namespace,
    Node,
    Pod,
    ReplicaSet,
    Service,
)
from .objects import COMBINED, Event, KObject

MAX_EVENTS = 1000  # like an event TTL: the newest 1,000 events are kept
MAX_DECISIONS = 2000  # scheduler decision records kept in memory (all are stored in the database)
MAX_PODS_PER_CLUSTER = 20000

QUEUES = (
    "node",
    "taint",
    "deployment",
    "replicaset",
    "scheduler",
    "kubelet",
    "endpoints",
    "podgc",
    "gc",
    "hpa",
    "traffic",
    "lb",
    "lesson",
)


def _jsonable(key: Any) -> Any:
    return list(key) if isinstance(key, tuple) else key


def _tupled(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key


@dataclass
class Timer:
    """Something due at a simulated time: wakes ``queue`` for ``key``; labelled ones are shown."""

    at: float
    queue: str
    key: Any
    label: str = ""
    obj: str = ""  # "node/worker-2" or "pod/default/web-x": what the countdown is drawn on

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "queue": self.queue,
            "key": list(self.key) if isinstance(self.key, tuple) else self.key,
            "label": self.label,
            "obj": self.obj,
        }


AGGREGATE_MAX = 10
AGGREGATE_INTERVAL = 600.0


class ClusterState:
    # One store per kind that the registry keeps here (``Kind.store`` names the attribute).
    namespaces: dict[str, Namespace]
    nodes: dict[str, Node]
    pods: dict[tuple[str, str], Pod]
    replicasets: dict[tuple[str, str], ReplicaSet]
    deployments: dict[tuple[str, str], Deployment]
    services: dict[tuple[str, str], Service]
    hpas: dict[tuple[str, str], HorizontalPodAutoscaler]
    ingresses: dict[tuple[str, str], Ingress]

    def __init__(self, *, seed: int = 0, name: str = "demo") -> None:
        self.name = name
        self.seed = seed
        self.rng = random.Random(seed)
        self.clock = Clock()
        self.rv = 0
        self._stores: dict[str, dict[Any, Any]] = {}
        for k in kinds.stored():
            self._stores[k.kind] = {}
            setattr(self, k.store, self._stores[k.kind])  # type: ignore[arg-type]
        # Traffic (kubelab/sim/traffic.py): per-pod CPU samples and per-Service series, kept in
        # the engine state (not on the objects: they change every simulated second).
        self.metrics: dict[str, Any] = {"pods": {}, "services": {}}
        self.traffic_changed = False
        self.lesson_steps: dict[str, dict[str, Any]] = {}  # step index -> step still to run
        self.traffic: dict[str, Any] = {}  # the last second's per-Service summary (for browsers)
        self.events: OrderedDict[tuple[str, ...], Event] = OrderedDict()
        self.event_seq = 0
        self.pods_by_node: dict[str, dict[tuple[str, str], Pod]] = {}
        self.pods_by_owner: dict[str, dict[tuple[str, str], Pod]] = {}
        self.rs_by_owner: dict[str, dict[tuple[str, str], ReplicaSet]] = {}
        self.timers: dict[tuple[str, Any], Timer] = {}
        self._heap: list[tuple[float, str, Any]] = []
        self.queues: dict[str, dict[Any, None]] = {q: {} for q in QUEUES}
        self.decisions: OrderedDict[str, dict[str, Any]] = OrderedDict()
        # Change tracking for one tick (see control_loop): kind -> key -> object.
        self.changed: dict[tuple[str, Any], KObject] = {}
        self.added: set[tuple[str, Any]] = set()  # created since the last commit (watch ADDED)
        self.removed: dict[tuple[str, Any], KObject] = {}
        self.new_events: dict[tuple[str, ...], Event] = {}
        self.new_decisions: set[str] = set()
        # Set per request by the web app (apiserver/authz.py); None allows everything.
        self.authorizer: Callable[[str, str, str, str, str], None] | None = None
        self._aggregates: dict[tuple[str, ...], tuple[set[str], float]] = {}
        self.activity: set[str] = set()  # control-plane components that acted
        self.binds: list[tuple[str, str]] = []  # (pod key "ns/name", node) bound this tick
        self.sched_gen = 0  # bumped when something could make a pending pod schedulable
        self.sched_gen_seen = 0
        self.unschedulable: dict[tuple[str, str], None] = {}
        self.sim_start_index = 0  # the scheduler's nextStartNodeIndex
        self.image_nodes: dict[str, int] = {}  # image -> number of nodes that have it
        self.template_cache: dict[str, tuple[int, str, str]] = {}  # RS uid -> admitted pod spec
        self.persisted: set[str] = set()  # uids stored in the database (kept by the store)
        self.node_index = 0  # next node number for pod CIDRs
        self.service_ips: set[str] = set()
        self.node_ports: set[int] = set()

    # ----- time --------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.clock.time

    # ----- identity ----------------------------------------------------------------------
    def new_uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def next_rv(self) -> int:
        self.rv += 1
        return self.rv

    # ----- lookups -----------------------------------------------------------------------
    def store(self, kind: str) -> dict[Any, Any]:
        """The objects of a kind by key; kinds kept elsewhere (the built-in IngressClass) are
        gathered on request. KeyError for a kind the registry does not have."""
        st = self._stores.get(kind)
        if st is not None:
            return st
        k = kinds.get(kind)
        return {k.key(o.namespace, o.name): o for o in k.objects(self)}

    @property
    def ingress_classes(self) -> dict[str, KObject]:
        """The IngressClass the ingress controller was installed with (read-only; see
        ``controllers.service_lb``). It is as old as the cluster's oldest node."""
        from .controllers.service_lb import ingress_class

        return {c.name: c for c in [ingress_class(self)]}

    def get(self, kind: str, namespace: str, name: str) -> KObject | None:
        return self.store(kind).get(kinds.get(kind).key(namespace, name))

    @staticmethod
    def store_key(obj: KObject) -> Any:
        return obj.name if not obj.namespaced else (obj.namespace, obj.name)

    def pods_of(self, owner_uid: str) -> list[Pod]:
        return list(self.pods_by_owner.get(owner_uid, {}).values())

    def replicasets_of(self, owner_uid: str) -> list[ReplicaSet]:
        return list(self.rs_by_owner.get(owner_uid, {}).values())

    def pods_on(self, node: str) -> list[Pod]:
        return list(self.pods_by_node.get(node, {}).values())

    # ----- writes ------------------------------------------------------------------------
    def add(self, obj: KObject) -> KObject:
        """Create an object (the API server's create): uid, resourceVersion, timestamps, indexes."""
        if not obj.uid:
            obj.uid = self.new_uid()
        if not obj.created:
            obj.created = self.now
        obj.resource_version = self.next_rv()
        key = self.store_key(obj)
        self.store(obj.kind)[key] = obj
        self._index(obj)
        self.changed[(obj.kind, key)] = obj
        self.added.add((obj.kind, key))
        self.removed.pop((obj.kind, key), None)
        self._enqueue_for(obj)
        self.activity.add("apiserver")
        return obj

    def touch(self, obj: KObject) -> None:
        """Record that an object was updated in place (ignored once the object is gone)."""
        if self.store(obj.kind).get(self.store_key(obj)) is not obj:
            return
        obj.resource_version = self.next_rv()
        self.changed[(obj.kind, self.store_key(obj))] = obj
        self._enqueue_for(obj)
        self.activity.add("apiserver")

    def touch_quiet(self, obj: KObject) -> None:
        """Record a change that no controller needs to react to (a node's image cache)."""
        obj.resource_version = self.next_rv()
        self.changed[(obj.kind, self.store_key(obj))] = obj

    def remove(self, obj: KObject) -> None:
        """Delete an object from the store for good (after finalisation)."""
        key = self.store_key(obj)
        if self.store(obj.kind).pop(key, None) is None:
            return
        self._unindex(obj)
        self.changed.pop((obj.kind, key), None)
        self.removed[(obj.kind, key)] = obj
        self._enqueue_for(obj)
        self.activity.add("apiserver")
        on_remove = kinds.get(obj.kind).on_remove
        if on_remove is not None:
            on_remove(self, obj)

    def delete_pod(self, pod: Pod, grace: int | None = None) -> None:
        """The API server's graceful delete: set deletionTimestamp, or remove an unbound pod at once."""
        if pod.deleted is not None:
            if grace is not None and pod.grace is not None and grace < pod.grace:
                pod.grace = grace
                self.touch(pod)
            return
        if not pod.node_name or pod.node_name not in self.nodes or (grace == 0 and pod.terminal):
            self.remove(pod)
            return
        if grace is None:
            grace = int(pod.spec.get("terminationGracePeriodSeconds", 30))
        pod.deleted = self.now
        pod.grace = grace
        self.touch(pod)
        self.sched_gen += 1

    def bind(self, pod: Pod, node: Node) -> None:
        pod.spec["nodeName"] = node.name
        self.pods_by_node.setdefault(node.name, {})[pod.key] = pod
        self.account(node, pod, +1)
        self.binds.append((f"{pod.namespace}/{pod.name}", node.name))
        self.touch(pod)

    def account(self, node: Node, pod: Pod, sign: int) -> None:
        """Add (or take away) a pod's requests and host ports from its node's sums."""
        node.req_cpu += sign * pod.req_cpu
        node.req_mem += sign * pod.req_mem
        node.nz_cpu += sign * pod.nz_cpu
        node.nz_mem += sign * pod.nz_mem
        node.pod_count += sign
        for hp in pod.host_ports:
            if sign > 0:
                node.used_ports.add(hp)
            else:
                node.used_ports.discard(hp)

    def _index(self, obj: KObject) -> None:
        index = kinds.get(obj.kind).index
        if index is not None:
            index(self, obj)

    def _unindex(self, obj: KObject) -> None:
        unindex = kinds.get(obj.kind).unindex
        if unindex is not None:
            unindex(self, obj)

    def _enqueue_for(self, obj: KObject) -> None:
        """Wake the controllers that watch this kind (the informers' event handlers)."""
        enqueue = kinds.get(obj.kind).enqueue
        if enqueue is not None:
            enqueue(self, obj)

    def enqueue(self, queue: str, key: Any) -> None:
        self.queues[queue][key] = None

    def take(self, queue: str) -> list[Any]:
        items = list(self.queues[queue])
        self.queues[queue].clear()
        return items

    def pending_work(self) -> bool:
        return any(self.queues.values())

    def enqueue_all(self) -> None:
        """Level-triggered full resync (after loading a stored cluster)."""
        for k in kinds.stored():
            if k.enqueue is not None:
                for obj in self._stores[k.kind].values():
                    k.enqueue(self, obj)

    # ----- timers ------------------------------------------------------------------------
    def set_timer(
        self, queue: str, key: Any, at: float, label: str = "", obj: str = "", slot: str = ""
    ) -> None:
        tkey = (queue + slot, key)
        old = self.timers.get(tkey)
        if old is not None and old.at == at and old.label == label:
            return
        self.timers[tkey] = Timer(at, queue, key, label, obj)
        heapq.heappush(self._heap, (at, queue + slot, key))

    def clear_timer(self, queue: str, key: Any, slot: str = "") -> None:
        self.timers.pop((queue + slot, key), None)

    def clear_timers_for(self, queue: str, key: Any) -> None:
        for tkey in [t for t in self.timers if t[1] == key and t[0].startswith(queue)]:
            del self.timers[tkey]

    def next_timer_at(self, skip_queues: tuple[str, ...] = ()) -> float | None:
        heap = self._heap
        while heap:
            at, qslot, key = heap[0]
            t = self.timers.get((qslot, key))
            if t is None or t.at != at:
                heapq.heappop(heap)
                continue
            if skip_queues and t.queue in skip_queues:
                others = [x.at for x in self.timers.values() if x.queue not in skip_queues]
                return min(others) if others else None
            return at
        return None

    def fire_due_timers(self) -> int:
        """Enqueue the work of every timer that is due now; returns how many fired."""
        fired = 0
        heap = self._heap
        now = self.now
        while heap and heap[0][0] <= now + 1e-9:
            at, qslot, key = heapq.heappop(heap)
            t = self.timers.get((qslot, key))
            if t is None or t.at != at:
                continue
            del self.timers[(qslot, key)]
            self.queues[t.queue][key] = None
            fired += 1
        return fired

    def rebuild_timer_heap(self) -> None:
        self._heap = [(t.at, qslot, key) for (qslot, key), t in self.timers.items()]
        heapq.heapify(self._heap)

    # ----- events ------------------------------------------------------------------------
    def record(
        self, obj: KObject, type_: str, reason: str, message: str, source: str, field_path: str = ""
    ) -> Event:
        """Record an Event; a repeat of the same event only bumps count and last seen."""
        ns = obj.namespace if obj.namespaced else "default"
        probe = Event(
            ns,
            "",
            obj.kind,
            obj.name,
            obj.uid,
            type_,
            reason,
            message,
            source,
            self.now,
            self.now,
            field_path=field_path,
        )
        key = probe.dedupe_key
        # client-go's EventAggregator: past 10 distinct messages for one (object, type, reason,
        # source) within 10 minutes, further ones fold into one "(combined from similar events)".
        agg_key = key[:6] + key[7:]
        seen = self._aggregates.get(agg_key)
        if seen is None or self.now - seen[1] > AGGREGATE_INTERVAL:
            seen = self._aggregates[agg_key] = (set(), self.now)
            if len(self._aggregates) > 4 * MAX_EVENTS:
                self._aggregates.pop(next(iter(self._aggregates)))
        seen[0].add(message)
        if len(seen[0]) > AGGREGATE_MAX and key not in self.events:
            probe.message = COMBINED + message
            key = probe.dedupe_key
        self.event_seq += 1
        ev = self.events.get(key)
        if ev is not None:
            ev.count += 1
            ev.last = self.now
            ev.message = probe.message
            ev.seq = self.event_seq
            self.events.move_to_end(key)
        else:
            probe.name = f"{obj.name}.{self.rng.getrandbits(64):016x}"
            probe.seq = self.event_seq
            ev = probe
            self.events[key] = ev
            while len(self.events) > MAX_EVENTS:
                self.events.popitem(last=False)
        self.new_events[key] = ev
        return ev

    def event_list(self) -> list[Event]:
        return list(self.events.values())

    def events_for(self, obj: KObject) -> list[Event]:
        return [e for e in self.events.values() if e.obj_uid == obj.uid and e.kind == obj.kind]

    # ----- scheduler decision records -----------------------------------------------------
    def keep_decision(self, pod: Pod, record: dict[str, Any]) -> None:
        self.decisions[pod.uid] = record
        self.new_decisions.add(pod.uid)
        self.decisions.move_to_end(pod.uid)
        while len(self.decisions) > MAX_DECISIONS:
            self.decisions.popitem(last=False)

    # ----- persistence ----------------------------------------------------------------------
    def load_object(self, obj: KObject) -> None:
        """Put a stored object back (no change recorded, nothing enqueued)."""
        self.store(obj.kind)[self.store_key(obj)] = obj
        self._index(obj)
        self.persisted.add(obj.uid)

    def load_event(self, ev: Event) -> None:
        self.events[ev.dedupe_key] = ev

    def engine_json(self) -> dict[str, Any]:
        """Everything besides the objects that a tick needs to carry on exactly where it stopped."""
        return {
            "rng": list(self.rng.getstate()[1]),
            "rv": self.rv,
            "clock": self.clock.to_json(),
            "timers": [
                {"q": q, "k": _jsonable(k), **t.to_json()} for (q, k), t in self.timers.items()
            ],
            "queues": {
                name: [_jsonable(k) for k in keys] for name, keys in self.queues.items() if keys
            },
            "eventSeq": self.event_seq,
            "nodeIndex": self.node_index,
            "schedGen": self.sched_gen,
            "schedGenSeen": self.sched_gen_seen,
            "unschedulable": [list(k) for k in self.unschedulable],
            "startIndex": self.sim_start_index,
            "imageNodes": self.image_nodes,
            "metrics": self.metrics,
            "lessonSteps": self.lesson_steps,
        }

    def load_engine(self, d: dict[str, Any]) -> None:
        if d.get("rng"):
            self.rng.setstate((3, tuple(d["rng"]), None))
        self.rv = int(d.get("rv", self.rv))
        if "clock" in d:
            self.clock = Clock.from_json(d["clock"])
        self.timers = {}
        for t in d.get("timers") or []:
            key = _tupled(t["k"])
            self.timers[(t["q"], key)] = Timer(
                float(t["at"]), t["queue"], key, t.get("label", ""), t.get("obj", "")
            )
        self.rebuild_timer_heap()
        self.queues = {q: {} for q in QUEUES}
        for name, keys in (d.get("queues") or {}).items():
            if name in self.queues:
                for k in keys:
                    self.queues[name][_tupled(k)] = None
        self.event_seq = int(d.get("eventSeq", 0))
        self.node_index = int(d.get("nodeIndex", 0))
        self.sched_gen = int(d.get("schedGen", 0))
        self.sched_gen_seen = int(d.get("schedGenSeen", 0))
        self.unschedulable = {tuple(k): None for k in d.get("unschedulable") or []}  # type: ignore[misc]
        self.sim_start_index = int(d.get("startIndex", 0))
        self.image_nodes = dict(d.get("imageNodes") or {})
        self.metrics = d.get("metrics") or {"pods": {}, "services": {}}
        self.lesson_steps = d.get("lessonSteps") or {}

    # ----- tick bookkeeping ----------------------------------------------------------------
    def reset_changes(self) -> None:
        self.traffic_changed = False
        self.new_decisions = set()
        self.changed = {}
        self.added = set()
        self.removed = {}
        self.new_events = {}
        self.activity = set()
        self.binds = []

    def all_objects(self) -> list[KObject]:
        out: list[KObject] = []
        for st in self._stores.values():
            out.extend(st.values())
        return out
