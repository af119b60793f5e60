"""Scenario files: a cluster's nodes and timed steps, for lessons and headless runs.

A scenario is one YAML mapping (README, "Scenario files"); lessons, scripts and tests rely on
its shape, so keep it stable:

* ``name``, ``description`` (optional text) and ``seed`` (default 0: the same seed replays the
  same run);
* ``nodes``: ``{name, cpu, memory, pods, labels, taints, role}`` each (4 CPU, 8Gi, 110 pods unless
  given; ``role: control-plane``); without it, ``DEFAULT_NODES``: a tainted ``control-plane`` and
  ``worker-1`` to ``worker-3``;
* ``steps``: each an ``at`` (a duration: ``90``, ``90s``, ``5m``, ``1m30s``) and exactly one of
  ``STEP_KINDS`` — ``apply`` (YAML text, as ``kubectl apply -f``), ``node`` ({name, action} with
  an action of ``NODE_ACTIONS``; ``add`` takes a node's size, ``drain`` takes ``force``),
  ``scale`` ({deployment, replicas}), ``set-image`` ({deployment, container, image}), ``delete``
  ({kind, name}), ``rollout-undo`` ({deployment, to-revision}), ``load`` ({service or ingress,
  rps, profile, peak, duration; host and path for an ingress}); all but ``apply`` and ``node``
  take a ``namespace`` (default ``default``);
* ``until``: where a headless run stops (default: 300 s after the last step).

``load_scenario`` checks the whole file first and names the step and field of any mistake;
``run_scenario`` plays it on a fresh ClusterState and ``summary`` is the final state that
``manage.py simulate --format json`` prints: ``name``, ``time`` and lists of ``nodes``,
``pods``, ``deployments``, ``replicasets``, ``services`` and ``events`` with the fields the
README lists, statuses in kubectl v1.34's words. In a live cluster the service layer runs the
0 s steps at creation and ``lesson`` schedules the rest on the simulated clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import actions, kinds, traffic
from .apiserver import ApiError
from .apiserver.apply import apply_text
from .apiserver.manifests import load_documents
from .clock import parse_duration
from .control_loop import advance, settle
from .printers import node_roles, node_status, pod_columns
from .state import ClusterState

DEFAULT_NODES: list[dict[str, Any]] = [
    {
        "name": "control-plane",
        "cpu": "4",
        "memory": "8Gi",
        "pods": 110,
        "role": "control-plane",
        "taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}],
    },
    {"name": "worker-1", "cpu": "4", "memory": "8Gi", "pods": 110},
    {"name": "worker-2", "cpu": "4", "memory": "8Gi", "pods": 110},
    {"name": "worker-3", "cpu": "4", "memory": "8Gi", "pods": 110},
]
NODE_ACTIONS = ("fail", "recover", "cordon", "uncordon", "drain", "add", "remove")
STEP_KINDS = ("apply", "node", "scale", "set-image", "delete", "rollout-undo", "load")
MAX_UNTIL = 7 * 24 * 3600.0
MAX_STEPS = 1000


class ScenarioError(ValueError):
    pass


@dataclass
class Step:
    at: float
    kind: str
    args: Any
    index: int


@dataclass
class Scenario:
    name: str = ""
    seed: int = 0
    nodes: list[dict[str, Any]] = field(default_factory=lambda: [dict(n) for n in DEFAULT_NODES])
    steps: list[Step] = field(default_factory=list)
    until: float | None = None


def load_scenario(text: str | bytes, filename: str = "scenario") -> Scenario:
    try:
        docs = load_documents(text, filename)
    except ApiError as e:
        raise ScenarioError(e.with_location()) from None
    if len(docs) != 1:
        raise ScenarioError(
            f"error: {filename}: a scenario is one YAML mapping (found {len(docs)} documents)"
        )
    data = docs[0].data
    known = {"name", "seed", "nodes", "steps", "until", "description"}
    for k in data:
        if k not in known:
            raise ScenarioError(
                f'error: {filename}: unknown field "{k}" (known: {", ".join(sorted(known))})'
            )
    sc = Scenario(name=str(data.get("name") or ""))
    seed = data.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ScenarioError(f"error: {filename}: seed must be a non-negative integer, not {seed!r}")
    sc.seed = seed
    if "nodes" in data:
        nodes = data["nodes"]
        if not isinstance(nodes, list) or not all(
            isinstance(n, dict) and n.get("name") for n in nodes
        ):
            raise ScenarioError(
                f"error: {filename}: nodes must be a list of mappings, each with a name"
            )
        if len(nodes) > actions.MAX_NODES:
            raise ScenarioError(
                f"error: {filename}: at most {actions.MAX_NODES} nodes (KubeLab's limit, max-nodes)"
            )
        sc.nodes = nodes
    if data.get("until") is not None:
        sc.until = _duration(data["until"], f"{filename}: until")
    steps = data.get("steps") or []
    if not isinstance(steps, list):
        raise ScenarioError(f"error: {filename}: steps must be a list")
    if len(steps) > MAX_STEPS:
        raise ScenarioError(f"error: {filename}: at most {MAX_STEPS} steps")
    for i, raw in enumerate(steps):
        where = f"{filename}: steps[{i}]"
        if not isinstance(raw, dict) or "at" not in raw:
            raise ScenarioError(
                f"error: {where}: each step is a mapping with `at` and one action ({', '.join(STEP_KINDS)})"
            )
        at = _duration(raw["at"], f"{where}.at")
        kinds = [k for k in raw if k != "at"]
        if len(kinds) != 1 or kinds[0] not in STEP_KINDS:
            raise ScenarioError(
                f"error: {where}: expected exactly one of {', '.join(STEP_KINDS)}, got {', '.join(kinds) or 'nothing'}"
            )
        kind = kinds[0]
        args = raw[kind]
        _check_step(kind, args, where)
        sc.steps.append(Step(at, kind, args, i))
    sc.steps.sort(key=lambda s: (s.at, s.index))
    return sc


def _duration(v: Any, where: str) -> float:
    try:
        d = parse_duration(v)
    except ValueError as e:
        raise ScenarioError(f"error: {where}: {e}") from None
    if d > MAX_UNTIL:
        raise ScenarioError(f"error: {where}: at most 7 days of simulated time")
    return d


def _check_step(kind: str, args: Any, where: str) -> None:
    if kind == "apply":
        if not isinstance(args, str):
            raise ScenarioError(f"error: {where}.apply: must be YAML text (use `apply: |`)")
        return
    if not isinstance(args, dict):
        raise ScenarioError(f"error: {where}.{kind}: must be a mapping")
    if kind == "node":
        if args.get("action") not in NODE_ACTIONS or not args.get("name"):
            raise ScenarioError(
                f"error: {where}.node: needs a name and an action: one of {', '.join(NODE_ACTIONS)}"
            )
    elif kind == "scale":
        r = args.get("replicas")
        if not args.get("deployment") or not isinstance(r, int) or isinstance(r, bool):
            raise ScenarioError(f"error: {where}.scale: needs deployment and an integer replicas")
    elif kind == "set-image":
        if not args.get("deployment") or not args.get("container") or not args.get("image"):
            raise ScenarioError(f"error: {where}.set-image: needs deployment, container and image")
    elif kind == "delete":
        if not args.get("kind") or not args.get("name"):
            raise ScenarioError(f"error: {where}.delete: needs kind and name")
        if kinds.resolve(args["kind"]) is None:
            raise ScenarioError(
                f'error: {where}.delete: the server doesn\'t have a resource type "{args["kind"]}"'
            )
    elif kind == "rollout-undo" and not args.get("deployment"):
        raise ScenarioError(f"error: {where}.rollout-undo: needs deployment")
    elif kind == "load":
        rps = args.get("rps")
        if (
            not (args.get("service") or args.get("ingress"))
            or not isinstance(rps, int | float)
            or isinstance(rps, bool)
            or not 0 <= rps <= traffic.MAX_RPS
        ):
            raise ScenarioError(
                f"error: {where}.load: needs service and rps (0 to {traffic.MAX_RPS} requests per second)"
            )
        if args.get("profile", "steady") not in traffic.PROFILES:
            raise ScenarioError(
                f"error: {where}.load: profile must be one of {', '.join(traffic.PROFILES)}"
            )


def build_cluster(sc: Scenario, name: str = "demo") -> ClusterState:
    state = ClusterState(seed=sc.seed, name=name)
    actions.ensure_namespaces(state)
    for n in sc.nodes:
        try:
            actions.add_node(
                state,
                str(n["name"]),
                cpu=n.get("cpu", "4"),
                memory=str(n.get("memory", "8Gi")),
                pods=n.get("pods", 110),
                labels=n.get("labels"),
                taints=n.get("taints"),
                role=n.get("role"),
            )
        except ApiError as e:
            raise ScenarioError(f"error: node {n.get('name')}: {e.message}") from None
    settle(state)
    state.reset_changes()
    return state


def run_step(state: ClusterState, step: Step) -> list[str]:
    a = step.args
    ns = a.get("namespace", "default") if isinstance(a, dict) else "default"
    if step.kind == "apply":
        return apply_text(state, a, filename=f"steps[{step.index}].apply")
    if step.kind == "node":
        act, name = a["action"], str(a["name"])
        if act == "fail":
            return actions.fail_node(state, name)
        if act == "recover":
            return actions.recover_node(state, name)
        if act in ("cordon", "uncordon"):
            return actions.cordon(state, name, act == "cordon")
        if act == "drain":
            return actions.drain(state, name, force=bool(a.get("force")))
        if act == "add":
            return actions.add_node(
                state,
                name,
                cpu=a.get("cpu", "4"),
                memory=str(a.get("memory", "8Gi")),
                pods=a.get("pods", 110),
                labels=a.get("labels"),
                taints=a.get("taints"),
            )
        return actions.remove_node(state, name)
    if step.kind == "scale":
        return actions.scale(state, ns, a["deployment"], int(a["replicas"]))
    if step.kind == "set-image":
        return actions.set_image(state, ns, a["deployment"], {a["container"]: a["image"]})
    if step.kind == "delete":
        target = kinds.resolve(a["kind"])
        assert target is not None  # load_scenario checked it
        return actions.delete(state, target.kind, ns, a["name"])
    if step.kind == "load" and a.get("ingress"):
        return traffic.set_ingress_load(
            state,
            ns,
            str(a["ingress"]),
            float(a["rps"]),
            host=str(a.get("host", "")),
            path=str(a.get("path", "/")),
            profile=a.get("profile", "steady"),
            peak=float(a["peak"]) if a.get("peak") is not None else None,
            duration=_duration(a.get("duration", 60), f"steps[{step.index}].load.duration"),
        )
    if step.kind == "load":
        return traffic.set_load(
            state,
            ns,
            str(a["service"]),
            float(a["rps"]),
            profile=a.get("profile", "steady"),
            peak=float(a["peak"]) if a.get("peak") is not None else None,
            duration=_duration(a.get("duration", 60), f"steps[{step.index}].load.duration"),
        )
    return actions.rollout_undo(state, ns, a["deployment"], int(a.get("to-revision", 0)))


def run_scenario(
    sc: Scenario, until: float | None = None, log: list[str] | None = None
) -> ClusterState:
    """Play a scenario headless. Step errors are reported like kubectl's and stop the run."""
    state = build_cluster(sc)
    end = until if until is not None else sc.until
    if end is None:
        end = max((s.at for s in sc.steps), default=0.0) + 300.0
    for step in sc.steps:
        if step.at > end:
            break
        advance(state, step.at)
        try:
            lines = run_step(state, step)
        except ApiError as e:
            raise ScenarioError(f"step {step.index} at {step.at:g}s: {e.with_location()}") from None
        if log is not None:
            log.extend(f"[{step.at:>7.1f}s] {line}" for line in lines)
        settle(state)
        state.reset_changes()
    advance(state, end)
    state.reset_changes()
    return state


def summary(state: ClusterState) -> dict[str, Any]:
    """The final state as ``simulate --format json`` prints it."""
    now = state.now
    nodes = []
    for n in sorted(state.nodes.values(), key=lambda n: n.name):
        nodes.append(
            {
                "name": n.name,
                "status": node_status(n),
                "roles": node_roles(n),
                "taints": [
                    {"key": t["key"], "value": t.get("value", ""), "effect": t["effect"]}
                    for t in n.taints
                ],
                "pods": sorted(p.name for p in state.pods_on(n.name)),
            }
        )
    pods = []
    for p in sorted(state.pods.values(), key=lambda p: (p.namespace, p.name)):
        ready, status, restarts = pod_columns(p, now)
        pods.append(
            {
                "namespace": p.namespace,
                "name": p.name,
                "node": p.node_name,
                "phase": p.phase,
                "status": status,
                "ready": ready,
                "restarts": int(restarts.split(" ")[0]),
                "owner": f"{p.owner.kind.lower()}/{p.owner.name}" if p.owner else "",
            }
        )
    deployments = []
    for d in sorted(state.deployments.values(), key=lambda d: (d.namespace, d.name)):
        st = d.status
        deployments.append(
            {
                "namespace": d.namespace,
                "name": d.name,
                "replicas": d.replicas,
                "ready": st.get("readyReplicas", 0),
                "updated": st.get("updatedReplicas", 0),
                "available": st.get("availableReplicas", 0),
                "revision": d.revision,
                "conditions": [
                    {
                        "type": c["type"],
                        "status": c["status"],
                        "reason": c.get("reason", ""),
                        "message": c.get("message", ""),
                    }
                    for c in st.get("conditions") or []
                ],
            }
        )
    rss = []
    for rs in sorted(state.replicasets.values(), key=lambda r: (r.namespace, r.name)):
        rss.append(
            {
                "namespace": rs.namespace,
                "name": rs.name,
                "desired": rs.replicas,
                "current": rs.status.get("replicas", 0),
                "ready": rs.status.get("readyReplicas", 0),
                "revision": rs.revision,
                "images": [
                    c.get("image")
                    for c in ((rs.spec.get("template") or {}).get("spec") or {}).get("containers")
                    or []
                ],
            }
        )
    services = []
    for s in sorted(state.services.values(), key=lambda s: (s.namespace, s.name)):
        services.append(
            {
                "namespace": s.namespace,
                "name": s.name,
                "type": s.spec.get("type", "ClusterIP"),
                "cluster_ip": s.spec.get("clusterIP", ""),
                "ports": [dict(p.items()) for p in s.spec.get("ports") or []],
                "endpoints": list(s.endpoints),
            }
        )
    events = [
        {
            "time": e.last,
            "type": e.type,
            "reason": e.reason,
            "object": e.object,
            "message": e.message,
            "count": e.count,
            "first": e.first,
            "source": e.source,
            "namespace": e.namespace,
        }
        for e in sorted(state.events.values(), key=lambda e: e.seq)
    ]
    return {
        "name": state.name,
        "time": now,
        "nodes": nodes,
        "pods": pods,
        "deployments": deployments,
        "replicasets": rss,
        "services": services,
        "events": events,
    }
