"""kube-scheduler: filter → score → bind, one pending pod at a time, in queue order.

Filter plugins run in the default profile's order and the first one to reject a node
decides that node's reason (``RunFilterPlugins``, ``pkg/scheduler/framework/runtime/framework.go``).
The FailedScheduling message is assembled like ``FitError.Error()``
(``pkg/scheduler/framework/types.go``), with the v1.34 DRA and preemption text. Every attempt
leaves a decision record: per node the rejecting plugin and reason, or its scores.
"""

from __future__ import annotations

import math
from typing import Any

from .kinds import Node, Pod
from .objects import match_expression
from .registry import normalized
from .state import ClusterState

SOURCE = "default-scheduler"

# Unresolvable filter failures: preemption cannot help (UnschedulableAndUnresolvable).
UNRESOLVABLE = {"NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity"}
WEIGHTS = {
    "TaintToleration": 3,
    "NodeAffinity": 2,
    "NodeResourcesFit": 1,
    "PodTopologySpread": 2,
    "NodeResourcesBalancedAllocation": 1,
    "ImageLocality": 1,
}
MIN_FEASIBLE_NODES = 100  # minFeasibleNodesToFind
MIN_FEASIBLE_PERCENT = 5
RETRY_UNSCHEDULABLE_AFTER = 300.0  # podMaxInUnschedulablePodsDuration
MAX_BINDS_PER_PASS = 1000

MB = 1024 * 1024
IMAGE_MIN_THRESHOLD = 23 * MB
IMAGE_MAX_CONTAINER_THRESHOLD = 1000 * MB


def tolerates(tolerations: list[dict[str, Any]], taint: dict[str, Any]) -> dict[str, Any] | None:
    """The toleration that tolerates ``taint``, or None (``Toleration.ToleratesTaint``)."""
    for t in tolerations:
        effect = t.get("effect") or ""
        if effect and effect != taint.get("effect"):
            continue
        key = t.get("key") or ""
        op = t.get("operator") or "Equal"
        if key and key != taint.get("key"):
            continue
        if op == "Exists":
            if key or not t.get("key"):
                return t
        elif (t.get("value") or "") == (taint.get("value") or "") and key:
            return t
    return None


def node_affinity_required(pod: Pod) -> list[dict[str, Any]] | None:
    aff = ((pod.spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    )
    if not aff:
        return None
    return aff.get("nodeSelectorTerms") or []


def term_matches(term: dict[str, Any], node: Node) -> bool:
    exprs = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not exprs and not fields:
        return False
    for e in exprs:
        if not match_expression(e, node.labels):
            return False
    for f in fields:
        if f.get("key") == "metadata.name" and not match_expression(
            dict(f, key="n"), {"n": node.name}
        ):
            return False
    return True


_UNSET: Any = object()


def filter_node(pod: Pod, node: Node, terms: Any = _UNSET) -> tuple[str, list[str]] | None:
    """Run the filter plugins in order; the first rejection: (plugin, reasons)."""
    spec = pod.spec
    tolerations = spec.get("tolerations") or []
    # NodeUnschedulable
    if node.unschedulable and not tolerates(
        tolerations, {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
    ):
        return ("NodeUnschedulable", ["node(s) were unschedulable"])
    # NodeName
    want = spec.get("nodeName")
    if want and want != node.name:
        return ("NodeName", ["node(s) didn't match the requested node name"])
    # TaintToleration: only NoSchedule and NoExecute taints filter.
    for taint in node.taints:
        if (
            taint.get("effect") in ("NoSchedule", "NoExecute")
            and tolerates(tolerations, taint) is None
        ):
            return ("TaintToleration", ["node(s) had untolerated taint(s)"])
    # NodeAffinity (nodeSelector and required node affinity)
    selector = spec.get("nodeSelector")
    if selector and not all(node.labels.get(k) == v for k, v in selector.items()):
        return ("NodeAffinity", ["node(s) didn't match Pod's node affinity/selector"])
    if terms is _UNSET:
        terms = node_affinity_required(pod)
    if terms is not None and not any(term_matches(t, node) for t in terms):
        return ("NodeAffinity", ["node(s) didn't match Pod's node affinity/selector"])
    # NodePorts
    for ip, port, proto in pod.host_ports:
        for uip, uport, uproto in node.used_ports:
            if uport == port and uproto == proto and (ip == uip or "0.0.0.0" in (ip, uip)):
                return ("NodePorts", ["node(s) didn't have free ports for the requested pod ports"])
    # NodeResourcesFit
    reasons = []
    if node.pod_count + 1 > node.alloc_pods:
        reasons.append("Too many pods")
    if pod.req_cpu and node.req_cpu + pod.req_cpu > node.alloc_cpu:
        reasons.append("Insufficient cpu")
    if pod.req_mem and node.req_mem + pod.req_mem > node.alloc_mem:
        reasons.append("Insufficient memory")
    if reasons:
        return ("NodeResourcesFit", reasons)
    return None


def _least_allocated(alloc: int, requested: int) -> int:
    if alloc == 0 or requested > alloc:
        return 0
    return (alloc - requested) * 100 // alloc


def score_resources(pod: Pod, node: Node) -> tuple[int, int]:
    """(LeastAllocated, BalancedAllocation) for cpu and memory, requests incl. the pod."""
    cpu = node.nz_cpu + pod.nz_cpu
    mem = node.nz_mem + pod.nz_mem
    least = (_least_allocated(node.alloc_cpu, cpu) + _least_allocated(node.alloc_mem, mem)) // 2
    fc = min(cpu / node.alloc_cpu, 1.0) if node.alloc_cpu else 1.0
    fm = min(mem / node.alloc_mem, 1.0) if node.alloc_mem else 1.0
    std = abs(fc - fm) / 2
    balanced = int((1 - std) * 100)
    return least, balanced


def failed_scheduling_message(total: int, rejected: dict[str, tuple[str, list[str]]]) -> str:
    """``FitError.Error()`` plus the DynamicResources and DefaultPreemption PostFilter text."""
    if total == 0:
        return "no nodes available to schedule pods"
    counts: dict[str, int] = {}
    pre: dict[str, int] = {}
    for plugin, reasons in rejected.values():
        for r in reasons:
            counts[r] = counts.get(r, 0) + 1
        why = (
            "Preemption is not helpful for scheduling"
            if plugin in UNRESOLVABLE
            else "No preemption victims found for incoming pod"
        )
        pre[why] = pre.get(why, 0) + 1
    hist = sorted(f"{n} {r}" for r, n in counts.items())
    phist = sorted(f"{n} {r}" for r, n in pre.items())
    msg = f"0/{total} nodes are available: " + ", ".join(hist) + "."
    msg += (
        " no new claims to deallocate, preemption: "
        + f"0/{total} nodes are available: "
        + ", ".join(phist)
        + "."
    )
    return msg


def _num_feasible_to_find(n: int) -> int:
    """``numFeasibleNodesToFind`` with the adaptive percentageOfNodesToScore."""
    if n < MIN_FEASIBLE_NODES:
        return n
    pct = max(50 - n // 125, MIN_FEASIBLE_PERCENT)
    return max(n * pct // 100, MIN_FEASIBLE_NODES)


def _preferred_affinity(pod: Pod) -> list[dict[str, Any]]:
    aff = (pod.spec.get("affinity") or {}).get("nodeAffinity") or {}
    return aff.get("preferredDuringSchedulingIgnoredDuringExecution") or []


def schedule_one(
    state: ClusterState,
    pod: Pod,
    nodes: list[Node],
    spread_cache: dict[str, dict[str, int]] | None = None,
) -> Node | None:
    """Try to place one pod: returns the chosen node (and binds) or None (and records why)."""
    total = len(nodes)
    rejected: dict[str, tuple[str, list[str]]] = {}
    feasible: list[Node] = []
    want = _num_feasible_to_find(total)
    start = state.sim_start_index % total if total else 0
    processed = 0
    terms = node_affinity_required(pod)
    for i in range(total):
        node = nodes[(start + i) % total]
        processed += 1
        res = filter_node(pod, node, terms)
        if res is None:
            feasible.append(node)
            if len(feasible) >= want:
                break
        else:
            rejected[node.name] = res
    if total:
        state.sim_start_index = (start + processed) % total
    record: dict[str, Any] = {
        "pod": f"{pod.namespace}/{pod.name}",
        "at": state.now,
        "nodes": [],
        "winner": None,
    }
    for name, (plugin, reasons) in rejected.items():
        record["nodes"].append({"node": name, "filter": plugin, "reasons": reasons})
    if not feasible:
        message = failed_scheduling_message(total, rejected)
        record["message"] = message
        state.keep_decision(pod, record)
        _mark_unschedulable(state, pod, message)
        return None
    counts = None
    if pod.owner is not None and spread_cache is not None:
        counts = spread_cache.get(pod.owner.uid)
        if counts is None:
            counts = spread_cache[pod.owner.uid] = _owner_counts(state, pod.owner.uid)
    best = _score_and_pick(state, pod, feasible, record, counts)
    state.keep_decision(pod, record)
    _bind(state, pod, best)
    if counts is not None:
        counts[best.name] = counts.get(best.name, 0) + 1
    return best


def _score_and_pick(
    state: ClusterState,
    pod: Pod,
    feasible: list[Node],
    record: dict[str, Any],
    spread_counts: dict[str, int] | None = None,
) -> Node:
    if len(feasible) == 1:
        record["nodes"].append({"node": feasible[0].name, "scores": {}, "total": 0})
        record["winner"] = feasible[0].name
        return feasible[0]
    tolerations = pod.spec.get("tolerations") or []
    preferred = _preferred_affinity(pod)
    spreading = pod.owner is not None
    if spreading and spread_counts is None:
        spread_counts = _owner_counts(state, pod.owner.uid)  # type: ignore[union-attr]
    counts = spread_counts or {}
    images = [normalized(str(c.get("image"))) for c in pod.spec.get("containers") or []]
    n_nodes = len(state.nodes) or 1
    log3 = math.log(3)
    raw: list[tuple[int, int, int, int, float, float]] = []
    for node in feasible:
        least, balanced = score_resources(pod, node)
        taint = 0
        for t in node.taints:
            if t.get("effect") == "PreferNoSchedule" and tolerates(tolerations, t) is None:
                taint += 1
        aff = 0
        for pref in preferred:
            if term_matches(pref.get("preference") or {}, node):
                aff += int(pref.get("weight", 0))
        spread = counts.get(node.name, 0) * log3 + 2 if spreading else 0.0
        raw.append(
            (least, balanced, taint, aff, spread, _image_score(state, node, images, n_nodes))
        )
    max_taint = max(r[2] for r in raw)
    max_aff = max(r[3] for r in raw)
    max_spread = max(r[4] for r in raw)
    min_spread = min(r[4] for r in raw)
    best_node = feasible[0]
    best_total = -1
    ties = 0
    entries = record["nodes"]
    for node, (least, balanced, taint, aff, spread, image) in zip(feasible, raw, strict=True):
        scores = {
            "NodeResourcesFit": least,
            "NodeResourcesBalancedAllocation": balanced,
            "TaintToleration": 100 - taint * 100 // max_taint if max_taint else 100,
            "NodeAffinity": aff * 100 // max_aff if max_aff else 0,
            "PodTopologySpread": (
                int(100 * (max_spread + min_spread - spread) / max_spread) if max_spread else 100
            )
            if spreading
            else 0,
            "ImageLocality": int(image),
        }
        total = (
            least
            + balanced
            + 3 * scores["TaintToleration"]
            + 2 * scores["NodeAffinity"]
            + 2 * scores["PodTopologySpread"]
            + scores["ImageLocality"]
        )
        entries.append({"node": node.name, "scores": scores, "total": total})
        if total > best_total:
            best_total, best_node, ties = total, node, 1
        elif total == best_total:
            # selectHost: reservoir sampling among equal top scores.
            ties += 1
            if state.rng.randrange(ties) == 0:
                best_node = node
    record["winner"] = best_node.name
    return best_node


def _owner_counts(state: ClusterState, owner_uid: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for p in state.pods_by_owner.get(owner_uid, {}).values():
        n = p.spec.get("nodeName")
        if n and p.deleted is None:
            counts[n] = counts.get(n, 0) + 1
    return counts


def _image_score(state: ClusterState, node: Node, images: list[Any], n_nodes: int) -> float:
    have = node.sim.get("images") or {}
    if not have:
        return 0
    total = 0.0
    for name in images:
        size = have.get(name)
        if size:
            spread = state.image_nodes.get(name, 1) / n_nodes
            total += size * spread
    max_t = IMAGE_MAX_CONTAINER_THRESHOLD * max(len(images), 1)
    total = min(max(total, IMAGE_MIN_THRESHOLD), max_t)
    return (total - IMAGE_MIN_THRESHOLD) * 100 / (max_t - IMAGE_MIN_THRESHOLD)


def _set_condition(pod: Pod, cond: dict[str, Any]) -> bool:
    conds = pod.status.setdefault("conditions", [])
    for i, c in enumerate(conds):
        if c["type"] == cond["type"]:
            if all(c.get(k) == v for k, v in cond.items() if k != "lastTransitionTime"):
                return False
            if c["status"] == cond["status"]:
                cond["lastTransitionTime"] = c.get("lastTransitionTime")
            conds[i] = cond
            return True
    conds.append(cond)
    return True


def _mark_unschedulable(state: ClusterState, pod: Pod, message: str) -> None:
    pod.sim["schedGen"] = state.sched_gen
    pod.sim["schedAt"] = state.now
    state.unschedulable[pod.key] = None
    cond = {
        "type": "PodScheduled",
        "status": "False",
        "reason": "Unschedulable",
        "message": message,
        "lastTransitionTime": state.now,
    }
    if _set_condition(pod, cond):
        state.touch(pod)
    state.record(pod, "Warning", "FailedScheduling", message, SOURCE)
    state.set_timer("scheduler", pod.key, state.now + RETRY_UNSCHEDULABLE_AFTER)


def _bind(state: ClusterState, pod: Pod, node: Node) -> None:
    pod.sim.pop("schedGen", None)
    pod.sim.pop("schedAt", None)
    state.unschedulable.pop(pod.key, None)
    _set_condition(pod, {"type": "PodScheduled", "status": "True", "lastTransitionTime": state.now})
    state.bind(pod, node)
    state.clear_timer("scheduler", pod.key)
    state.record(
        pod,
        "Normal",
        "Scheduled",
        f"Successfully assigned {pod.namespace}/{pod.name} to {node.name}",
        SOURCE,
    )
    state.activity.add("scheduler")


def run(state: ClusterState) -> None:
    """Schedule the queued pods: priority order, then FIFO (PrioritySort)."""
    keys = state.take("scheduler")
    if state.sched_gen != state.sched_gen_seen:
        # Something changed (a node, a pod gone): unschedulable pods get another try.
        state.sched_gen_seen = state.sched_gen
        keys.extend(k for k in state.unschedulable if k not in keys)
    if not keys:
        return
    pods = []
    for key in keys:
        pod = state.pods.get(key)
        if pod is None or pod.node_name or pod.deleted is not None or pod.terminal:
            continue
        if pod.spec.get("schedulingGates"):
            continue
        # An unschedulable pod is retried when the cluster changed, or after 5 minutes.
        gen = pod.sim.get("schedGen")
        if (
            gen is not None
            and gen == state.sched_gen
            and state.now - pod.sim.get("schedAt", 0) < RETRY_UNSCHEDULABLE_AFTER
        ):
            continue
        pods.append(pod)
    if not pods:
        return
    pods.sort(key=lambda p: (-int(p.spec.get("priority") or 0), p.created, p.name))
    nodes = list(state.nodes.values())
    spread_cache: dict[str, dict[str, int]] = {}
    for n, pod in enumerate(pods):
        if n >= MAX_BINDS_PER_PASS:
            state.enqueue("scheduler", pod.key)
            continue
        schedule_one(state, pod, nodes, spread_cache)
