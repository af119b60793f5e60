"""What browsers receive: compact views of objects, snapshots and deltas (DESIGN.md §5.3).

kubectl's columns (STATUS, READY, RESTARTS) are computed here, once per change, so every
browser shows exactly what kubectl would print without reimplementing ``printPod``.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from kubelab.sim.controllers import service_lb
from kubelab.sim.controllers.deployment import max_surge, max_unavailable
from kubelab.sim.objects import Deployment, KObject, Namespace, Node, Pod, ReplicaSet, Service
from kubelab.sim.printers import hpa_targets, node_roles, node_status, pod_columns
from kubelab.sim.state import ClusterState


def object_key(kind: str, namespace: str, name: str) -> str:
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


def view(obj: KObject, now: float) -> dict[str, Any]:
    v: dict[str, Any] = {
        "key": object_key(obj.kind, obj.namespace, obj.name),
        "kind": obj.kind,
        "name": obj.name,
        "namespace": obj.namespace,
        "uid": obj.uid,
        "rv": obj.resource_version,
        "created": obj.created,
        "labels": obj.labels,
    }
    if obj.deleted is not None:
        v["deleted"] = obj.deleted
        v["grace"] = obj.grace
    if obj.owner is not None:
        v["owner"] = {"kind": obj.owner.kind, "name": obj.owner.name, "uid": obj.owner.uid}
    if isinstance(obj, Pod):
        ready, status, _restarts = pod_columns(obj, now)
        restarts = sum(
            int(cs.get("restartCount", 0)) for cs in obj.status.get("containerStatuses") or []
        )
        last_restart = max(
            (
                ((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt") or 0
                for cs in obj.status.get("containerStatuses") or []
            ),
            default=0,
        )
        res_cpu = res_mem = 0
        containers = []
        statuses = {cs["name"]: cs for cs in obj.status.get("containerStatuses") or []}
        for c in obj.spec.get("containers") or []:
            cs = statuses.get(c["name"], {})
            state = cs.get("state") or {}
            st = next(iter(state), "waiting")
            reason = (state.get(st) or {}).get("reason", "")
            containers.append(
                {
                    "name": c["name"],
                    "image": c.get("image", ""),
                    "state": st,
                    "reason": reason,
                    "ready": bool(cs.get("ready")),
                    "restarts": int(cs.get("restartCount", 0)),
                }
            )
        res_cpu, res_mem = obj.req_cpu, obj.req_mem
        v.update(
            node=obj.node_name,
            phase=obj.phase,
            ip=obj.ip,
            status=status,
            ready=ready,
            restarts=restarts,
            lastRestart=last_restart or None,
            podReady=obj.ready,
            containers=containers,
            cpu=res_cpu,
            memory=res_mem,
            evictAt=obj.sim.get("evictAt"),
            replaces=obj.sim.get("replaces"),
        )
        cond = obj.condition("PodScheduled")
        if cond and cond.get("status") == "False":
            v["pending"] = cond.get("message", "")
    elif isinstance(obj, Node):
        v.update(
            status=node_status(obj),
            roles=node_roles(obj),
            taints=obj.taints,
            unschedulable=obj.unschedulable,
            cpu=obj.alloc_cpu,
            memory=obj.alloc_mem,
            pods=obj.alloc_pods,
            ip=obj.internal_ip,
            cidr=obj.spec.get("podCIDR", ""),
            kubelet=obj.kubelet_running,
            kubeletStopped=obj.sim.get("kubeletStopped"),
            version=(obj.status.get("nodeInfo") or {}).get("kubeletVersion", ""),
        )
    elif isinstance(obj, Deployment):
        st = obj.status
        strategy = obj.spec.get("strategy") or {}
        v.update(
            replicas=obj.replicas,
            ready=st.get("readyReplicas", 0),
            updated=st.get("updatedReplicas", 0),
            available=st.get("availableReplicas", 0),
            total=st.get("replicas", 0),
            revision=obj.revision,
            conditions=[
                {k: c.get(k) for k in ("type", "status", "reason", "message")}
                for c in st.get("conditions") or []
            ],
            strategy=strategy.get("type", "RollingUpdate"),
            maxSurge=max_surge(obj),
            maxUnavailable=max_unavailable(obj),
            paused=bool(obj.spec.get("paused")),
            selector=(obj.spec.get("selector") or {}).get("matchLabels") or {},
            images=[
                c.get("image")
                for c in ((obj.spec.get("template") or {}).get("spec") or {}).get("containers")
                or []
            ],
        )
    elif isinstance(obj, ReplicaSet):
        st = obj.status
        v.update(
            desired=obj.replicas,
            current=st.get("replicas", 0),
            readyCount=st.get("readyReplicas", 0),
            available=st.get("availableReplicas", 0),
            revision=obj.revision,
            hash=obj.labels.get("pod-template-hash", ""),
            images=[
                c.get("image")
                for c in ((obj.spec.get("template") or {}).get("spec") or {}).get("containers")
                or []
            ],
        )
    elif isinstance(obj, Service):
        v.update(
            type=obj.spec.get("type", "ClusterIP"),
            clusterIP=obj.spec.get("clusterIP", ""),
            ports=obj.spec.get("ports") or [],
            selector=obj.spec.get("selector") or {},
            endpoints=obj.endpoints,
            notReady=obj.sim.get("notReady") or [],
        )
    elif isinstance(obj, Namespace):
        v.update(phase=obj.status.get("phase", "Active"))
    elif obj.kind == "HorizontalPodAutoscaler":
        ref = obj.spec.get("scaleTargetRef") or {}
        v.update(
            target=f"{ref.get('kind', '')}/{ref.get('name', '')}",
            targets=hpa_targets(obj),
            minReplicas=obj.spec.get("minReplicas"),
            maxReplicas=obj.spec.get("maxReplicas"),
            currentReplicas=int(obj.status.get("currentReplicas", 0)),
            desiredReplicas=int(obj.status.get("desiredReplicas", 0)),
            conditions=[
                {k: c.get(k) for k in ("type", "status", "reason", "message")}
                for c in obj.status.get("conditions") or []
            ],
        )
    elif obj.kind == "Ingress":
        v.update(
            className=obj.spec.get("ingressClassName") or "",
            claimed=service_lb.claims(obj),
            address=",".join(
                i.get("ip", "") for i in (obj.status.get("loadBalancer") or {}).get("ingress") or []
            ),
            routes=[
                {
                    "host": r.get("host") or "*",
                    "path": p.get("path") or "/",
                    "service": ((p.get("backend") or {}).get("service") or {}).get("name", ""),
                }
                for r in obj.spec.get("rules") or []
                for p in (r.get("http") or {}).get("paths") or []
            ],
        )
    if obj.kind in ("Service", "Ingress") and obj.sim.get("load"):
        v["load"] = obj.sim["load"]
    return v


def event_view(e: Any) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "type": e.type,
        "reason": e.reason,
        "object": e.object,
        "namespace": e.namespace,
        "message": e.message,
        "count": e.count,
        "first": e.first,
        "last": e.last,
        "source": e.source,
    }


def timers_view(state: ClusterState) -> list[dict[str, Any]]:
    return sorted(
        ({"obj": t.obj, "label": t.label, "at": t.at} for t in state.timers.values() if t.label),
        key=lambda t: (t["at"], t["obj"]),
    )


def clock_view(cluster: Any, state: ClusterState) -> dict[str, Any]:
    return {
        "time": cluster.sim_anchor,
        "speed": cluster.speed,
        "paused": cluster.paused,
        "wall": cluster.wall_anchor.timestamp(),
    }


def delta(state: ClusterState, seq: int, clock: dict[str, Any]) -> dict[str, Any]:
    now = state.now
    deletes = [object_key(k, obj.namespace, obj.name) for (k, _), obj in state.removed.items()]
    return {
        "type": "delta",
        "seq": seq,
        "time": now,
        "serverWall": time.time(),
        "clock": clock,
        "upserts": [view(obj, now) for obj in state.changed.values()],
        "deletes": deletes,
        "events": [event_view(e) for e in sorted(state.new_events.values(), key=lambda e: e.seq)],
        "activity": sorted(state.activity),
        "binds": [{"pod": p, "node": n} for p, n in state.binds],
        "timers": timers_view(state),
        **({"traffic": state.traffic} if state.traffic_changed else {}),
    }


def snapshot(state: ClusterState, seq: int, clock: dict[str, Any], slug: str) -> dict[str, Any]:
    now = state.now
    events = sorted(state.events.values(), key=lambda e: e.seq)[-300:]
    return {
        "type": "snapshot",
        "seq": seq,
        "cluster": slug,
        "time": now,
        "serverWall": time.time(),
        "clock": clock,
        "objects": [view(obj, now) for obj in state.all_objects()],
        "events": [event_view(e) for e in events],
        "timers": timers_view(state),
        "traffic": state.traffic,
        "series": state.metrics.get("services", {}),
    }


def dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


def apply_delta(snap: dict[str, Any], d: dict[str, Any]) -> dict[str, Any]:
    """Apply a delta to a snapshot the way the browser does (used by tests: snapshot + deltas == fresh snapshot)."""
    objs = {o["key"]: o for o in snap["objects"]}
    for key in d["deletes"]:
        objs.pop(key, None)
    for o in d["upserts"]:
        objs[o["key"]] = o
    events = {e["seq"]: e for e in snap["events"]}
    for e in d["events"]:
        events = {
            s: x
            for s, x in events.items()
            if not (
                x["object"] == e["object"]
                and x["reason"] == e["reason"]
                and x["message"] == e["message"]
                and x["source"] == e["source"]
            )
        }
        events[e["seq"]] = e
    return {
        **snap,
        "seq": d["seq"],
        "time": d["time"],
        "clock": d["clock"],
        "objects": list(objs.values()),
        "events": [events[s] for s in sorted(events)][-300:],
        "timers": d["timers"],
    }


def anonymise(message: dict[str, Any], pseudonyms: dict[str, str]) -> dict[str, Any]:
    """The message as students of an anonymised classroom see it: every student namespace replaced
    by its pseudonym (``ana`` → ``student-3``) in namespaces, keys, names of Namespace objects,
    event messages (``Successfully assigned ana/web-…``) and timer labels."""
    if not pseudonyms:
        return message
    pattern = re.compile(
        r"(?<![A-Za-z0-9.-])("
        + "|".join(re.escape(n) for n in sorted(pseudonyms, key=len, reverse=True))
        + r")(?=/)"
    )

    def text(s: str) -> str:
        return pattern.sub(lambda m: pseudonyms[m.group(1)], s) if "/" in s else s

    def walk(v: Any, key: str = "") -> Any:
        if isinstance(v, dict):
            out = {k: walk(x, k) for k, x in v.items()}
            if out.get("kind") == "Namespace" and out.get("name") in pseudonyms:
                out["name"] = pseudonyms[out["name"]]
                out["key"] = f"Namespace/{out['name']}"
                out["labels"] = {}
            return out
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, str):
            if key == "namespace" and v in pseudonyms:
                return pseudonyms[v]
            if key == "labels":
                return v
            return text(v)
        return v

    result: dict[str, Any] = walk(message)
    # Deletes of Namespace objects are keys without a slash after the name.
    if "deletes" in result:
        result["deletes"] = [
            f"Namespace/{pseudonyms.get(k[10:], k[10:])}" if k.startswith("Namespace/") else k
            for k in result["deletes"]
        ]
    return result
