"""The ReplicaSet controller (``pkg/controller/replicaset``): keep ``spec.replicas`` active pods.

Terminating pods are not active (``FilterActivePods``), so a replacement is created at once; scale-down
victims are chosen by the 8 rules of ``ActivePodsWithRanks.Less`` (both ``pkg/controller/controller_utils.go``).
"""

from __future__ import annotations

import copy
import json
import math
from functools import cmp_to_key
from typing import Any

from kubelab.sim.apiserver import ApiError, quota
from kubelab.sim.kinds import Pod, ReplicaSet
from kubelab.sim.objects import OwnerRef, random_suffix
from kubelab.sim.state import MAX_PODS_PER_CLUSTER, ClusterState

from . import get_condition

SOURCE = "replicaset-controller"
BURST_REPLICAS = 500
PHASE_ORDER = {"Pending": 0, "Unknown": 1, "Running": 2}


def deletion_cost(pod: Pod) -> int:
    try:
        return int(pod.annotations.get("controller.kubernetes.io/pod-deletion-cost", "0"))
    except ValueError:
        return 0


def _log_rank(t: float, now: float) -> int:
    d = (now - t) * 1e9  # nanoseconds, as Go's time.Duration
    return int(math.log2(d)) if d > 0 else -1


def _max_restarts(pod: Pod) -> int:
    return max(
        (cs.get("restartCount", 0) for cs in pod.status.get("containerStatuses") or []), default=0
    )


def rank_for_deletion(pods: list[Pod], related: list[Pod], now: float) -> list[Pod]:
    """Sort pods so that the first ones are deleted first (``ActivePodsWithRanks.Less``)."""
    on_node: dict[str, int] = {}
    for p in related:
        if p.node_name and p.active:
            on_node[p.node_name] = on_node.get(p.node_name, 0) + 1
    rank = {p.uid: on_node.get(p.node_name, 0) for p in pods}

    def less(a: Pod, b: Pod) -> bool:
        # 1. Unassigned < assigned
        if a.node_name != b.node_name and (not a.node_name or not b.node_name):
            return not a.node_name
        # 2. Pending < Unknown < Running
        pa, pb = PHASE_ORDER.get(a.phase, 0), PHASE_ORDER.get(b.phase, 0)
        if pa != pb:
            return pa < pb
        # 3. Not ready < ready
        if a.ready != b.ready:
            return not a.ready
        # 4. Lower pod-deletion-cost first
        ca, cb = deletion_cost(a), deletion_cost(b)
        if ca != cb:
            return ca < cb
        # 5. Doubled up (more pods of the same controller on the node) first
        if rank[a.uid] != rank[b.uid]:
            return rank[a.uid] > rank[b.uid]
        # 6. Ready for less time first (LogarithmicScaleDown buckets, then UID)
        if a.ready and b.ready:
            ra, rb = a.ready_since(), b.ready_since()
            if ra != rb and ra is not None and rb is not None:
                diff = _log_rank(ra, now) - _log_rank(rb, now)
                if diff == 0:
                    return a.uid < b.uid
                return diff < 0
        # 7. Higher restart count first
        ma, mb = _max_restarts(a), _max_restarts(b)
        if ma != mb:
            return ma > mb
        # 8. Newer first (same bucketing)
        if a.created != b.created:
            diff = _log_rank(a.created, now) - _log_rank(b.created, now)
            if diff == 0:
                return a.uid < b.uid
            return diff < 0
        return False

    def cmp(a: Pod, b: Pod) -> int:
        if less(a, b):
            return -1
        if less(b, a):
            return 1
        return 0

    return sorted(pods, key=cmp_to_key(cmp))


def pods_to_delete(pods: list[Pod], related: list[Pod], diff: int, now: float) -> list[Pod]:
    if diff < len(pods):
        pods = rank_for_deletion(pods, related, now)
    return pods[:diff]


def _retry_later(state: ClusterState, rs: ReplicaSet) -> None:
    """The controller's rate-limited requeue after a failed create: 5 ms doubling to 1,000 s
    (client-go's DefaultControllerRateLimiter); a success resets it."""
    failures = int(rs.sim.get("createFailures", 0))
    rs.sim["createFailures"] = failures + 1
    state.set_timer(
        "replicaset", rs.key, state.now + min(0.005 * 2**failures, 1000.0), slot="/retry"
    )


def new_pod(state: ClusterState, rs: ReplicaSet) -> Pod:
    template = rs.spec.get("template") or {}
    meta = template.get("metadata") or {}
    name = f"{rs.name}-{random_suffix(state.rng)}"
    while (rs.namespace, name) in state.pods:
        name = f"{rs.name}-{random_suffix(state.rng)}"
    cached = state.template_cache.get(rs.uid)
    if cached is None or cached[0] != rs.generation:
        from kubelab.sim.apiserver.admission import admit_pod

        spec = copy.deepcopy(template.get("spec") or {})
        quota.apply_limit_range(state, rs.namespace, spec)
        admit_pod(spec)
        cached = (rs.generation, json.dumps(spec), qos_class(spec))
        state.template_cache[rs.uid] = cached
    spec = json.loads(cached[1])  # a private copy, faster than deepcopy
    return Pod(
        name=name,
        namespace=rs.namespace,
        labels=dict(meta.get("labels") or {}),
        annotations=dict(meta.get("annotations") or {}),
        owner=OwnerRef("ReplicaSet", rs.name, rs.uid),
        spec=spec,
        status={"phase": "Pending", "qosClass": cached[2]},
    )


def qos_class(spec: dict[str, Any]) -> str:
    containers = spec.get("containers") or []
    any_set = False
    guaranteed = True
    for c in containers:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        if req or lim:
            any_set = True
        for r in ("cpu", "memory"):
            if r not in lim or (r in req and str(req[r]) != str(lim[r])):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def sync(state: ClusterState, rs: ReplicaSet) -> None:
    owned = state.pods_of(rs.uid)
    active = [p for p in owned if p.active]
    err = ""
    if rs.deleted is None:
        diff = len(active) - rs.replicas
        if diff < 0:
            want = min(-diff, BURST_REPLICAS)
            replaceable = sorted(
                (p for p in owned if p.deleted is not None and "replacedBy" not in p.sim),
                key=lambda p: (p.deleted or 0, p.name),
            )
            created = 0
            # slowStartBatch(1, 2, 4, …): a failed batch skips the remaining ones.
            batch = 1
            while created < want:
                size = min(batch, want - created)
                ok = True
                for _ in range(size):
                    if len(state.pods) >= MAX_PODS_PER_CLUSTER:
                        err = (
                            f'pods "{rs.name}-" is forbidden: KubeLab limit: a cluster holds at most '
                            f"{MAX_PODS_PER_CLUSTER} pods (max-pods-per-cluster)"
                        )
                        state.record(
                            rs, "Warning", "FailedCreate", f"Error creating: {err}", SOURCE
                        )
                        ok = False
                        break
                    fresh = new_pod(state, rs)
                    try:
                        quota.admit(state, "Pod", rs.namespace, fresh.name, fresh.spec)
                    except ApiError as e:
                        err = e.message
                        state.record(
                            rs, "Warning", "FailedCreate", f"Error creating: {err}", SOURCE
                        )
                        _retry_later(state, rs)
                        ok = False
                        break
                    rs.sim.pop("createFailures", None)
                    if replaceable:
                        # Teaching aid: remember which terminating pod this one stands in for.
                        old = replaceable.pop(0)
                        fresh.sim["replaces"] = old.name
                        old.sim["replacedBy"] = fresh.name
                        state.touch_quiet(old)
                    pod = state.add(fresh)
                    active.append(pod)
                    state.record(
                        rs, "Normal", "SuccessfulCreate", f"Created pod: {pod.name}", SOURCE
                    )
                    created += 1
                if not ok:
                    break
                batch *= 2
            if created:
                state.activity.add("controller-manager")
            if -diff > BURST_REPLICAS:
                state.enqueue("replicaset", rs.key)
        elif diff > 0:
            diff = min(diff, BURST_REPLICAS)
            related: list[Pod] = []
            if rs.owner is not None:
                for sibling in state.replicasets_of(rs.owner.uid):
                    related.extend(state.pods_of(sibling.uid))
            else:
                related = owned
            for pod in pods_to_delete(active, related, diff, state.now):
                state.delete_pod(pod)
                state.record(rs, "Normal", "SuccessfulDelete", f"Deleted pod: {pod.name}", SOURCE)
                active.remove(pod)
            state.activity.add("controller-manager")
    update_status(state, rs, active, owned, err)


def update_status(
    state: ClusterState, rs: ReplicaSet, active: list[Pod], owned: list[Pod], err: str
) -> None:
    min_ready = int(rs.spec.get("minReadySeconds", 0))
    template_labels = ((rs.spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    wanted = template_labels.items()
    now = state.now
    ready = available = labeled = 0
    next_available: float | None = None
    for p in active:  # one pass over each pod's conditions: this runs for every pod of the RS
        if p.labels.items() >= wanted:
            labeled += 1
        for c in p.status.get("conditions") or ():
            if c["type"] == "Ready":
                if c["status"] == "True":
                    ready += 1
                    since = c.get("lastTransitionTime")
                    if since is not None and (min_ready == 0 or since + min_ready <= now):
                        available += 1
                    else:
                        at = (now if since is None else since) + min_ready
                        next_available = at if next_available is None else min(next_available, at)
                break
    status: dict[str, Any] = {
        "replicas": len(active),
        "fullyLabeledReplicas": labeled,
        "readyReplicas": ready,
        "availableReplicas": available,
        "terminatingReplicas": sum(1 for p in owned if p.deleted is not None),
        "observedGeneration": rs.generation,
    }
    conditions = [dict(c) for c in rs.status.get("conditions") or []]
    failure = get_condition(conditions, "ReplicaFailure")
    if err and failure is None:
        reason = "FailedCreate" if len(active) < rs.replicas else "FailedDelete"
        conditions.append(
            {
                "type": "ReplicaFailure",
                "status": "True",
                "reason": reason,
                "message": err,
                "lastTransitionTime": state.now,
            }
        )
    elif not err and failure is not None:
        conditions = [c for c in conditions if c["type"] != "ReplicaFailure"]
    if conditions:
        status["conditions"] = conditions
    if status != rs.status:
        rs.status = status
        state.touch(rs)
    if next_available is not None:
        state.set_timer("replicaset", rs.key, next_available)


def run(state: ClusterState) -> None:
    for key in state.take("replicaset"):
        rs = state.replicasets.get(key)
        if rs is not None:
            sync(state, rs)
