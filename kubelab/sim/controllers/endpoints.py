"""The endpoints controller: a Service's endpoints are the ready, non-terminating pods it selects."""

from __future__ import annotations

from typing import Any

from kubelab.sim.kinds import Pod, Service
from kubelab.sim.objects import map_matches
from kubelab.sim.state import ClusterState


def target_port(svc_port: dict[str, Any], pod: Pod) -> int | None:
    tp = svc_port.get("targetPort", svc_port.get("port"))
    if isinstance(tp, int):
        return tp
    if isinstance(tp, str) and tp.isdigit():
        return int(tp)
    for c in pod.spec.get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == tp:
                return int(p["containerPort"])
    return None


def compute(state: ClusterState, svc: Service) -> tuple[list[str], list[str]]:
    selector = svc.spec.get("selector")
    if not selector:
        return svc.sim.get("endpoints") or [], svc.sim.get("notReady") or []
    ready: list[str] = []
    not_ready: list[str] = []
    for pod in state.pods.values():
        if pod.namespace != svc.namespace or not pod.ip or pod.deleted is not None or pod.terminal:
            continue
        if not map_matches(selector, pod.labels):
            continue
        for sp in svc.spec.get("ports") or []:
            port = target_port(sp, pod)
            if port is None:
                continue
            (ready if pod.ready else not_ready).append(f"{pod.ip}:{port}")
    key = lambda a: tuple(int(x) for x in a.replace(":", ".").split("."))  # noqa: E731
    return sorted(set(ready), key=key), sorted(set(not_ready), key=key)


def run(state: ClusterState) -> None:
    namespaces = state.take("endpoints")
    if not namespaces:
        return
    wanted = set(namespaces)
    for svc in state.services.values():
        if svc.namespace not in wanted:
            continue
        ready, not_ready = compute(state, svc)
        if ready != svc.sim.get("endpoints") or not_ready != svc.sim.get("notReady"):
            svc.sim["endpoints"] = ready
            svc.sim["notReady"] = not_ready
            state.touch(svc)
