"""What people do to a cluster besides apply: kubectl's imperative commands and the
instructor's node actions. Each returns kubectl's output lines or raises ApiError.

Node actions model the machines: ``fail`` stops the kubelet (power or network lost), ``recover``
starts it again, ``add`` registers a new node, ``remove`` deletes the Node object.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from . import KUBERNETES_VERSION, kinds
from .apiserver import ApiError
from .apiserver.authz import authorize
from .apiserver.validation import (
    DNS1123_SUBDOMAIN,
    MSG_SUBDOMAIN,
    FieldError,
    invalid_error,
    replica_errors,
)
from .controllers.deployment import REVISION, equal_ignore_hash
from .controllers.node_lifecycle import healthy_conditions
from .kinds import Deployment, Namespace, Node, Pod
from .objects import KObject
from .quantity import QuantityError, int_value, milli_value
from .state import ClusterState

MAX_NODES = 500
SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")


def not_found(kind: str, name: str) -> ApiError:
    return ApiError(
        f'Error from server (NotFound): {kinds.get(kind).resource} "{name}" not found',
        code=404,
    )


def ensure_namespaces(state: ClusterState) -> None:
    for ns in SYSTEM_NAMESPACES:
        if ns not in state.namespaces:
            state.add(
                Namespace(
                    name=ns, labels={"kubernetes.io/metadata.name": ns}, status={"phase": "Active"}
                )
            )


# ----- nodes -------------------------------------------------------------------------------------
def add_node(
    state: ClusterState,
    name: str,
    *,
    cpu: str | int = "4",
    memory: str = "8Gi",
    pods: int | str = 110,
    labels: dict[str, str] | None = None,
    taints: list[dict[str, Any]] | None = None,
    role: str | None = None,
) -> list[str]:
    if name in state.nodes:
        raise ApiError(
            f'Error from server (AlreadyExists): nodes "{name}" already exists', code=409
        )
    if not isinstance(name, str) or len(name) > 253 or not DNS1123_SUBDOMAIN.match(name):
        raise ApiError(
            invalid_error(
                "Node",
                str(name),
                [FieldError("metadata.name", "Invalid value", name, MSG_SUBDOMAIN)],
            )
        )
    if len(state.nodes) >= MAX_NODES:
        raise ApiError(
            f"error: KubeLab limit: a cluster has at most {MAX_NODES} nodes (max-nodes)", code=403
        )
    try:
        cpu_m, mem_b, pod_n = milli_value(cpu), int_value(memory), int_value(pods)
    except QuantityError as e:
        raise ApiError(f"error: invalid node size: {e}", code=400) from None
    if cpu_m <= 0 or mem_b <= 0 or pod_n <= 0:
        raise ApiError(
            "error: invalid node size: cpu, memory and pods must be greater than 0", code=400
        )
    index = state.node_index
    state.node_index += 1
    node_labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
    }
    if role == "control-plane":
        node_labels["node-role.kubernetes.io/control-plane"] = ""
        node_labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
    for k, v in (labels or {}).items():
        node_labels[str(k)] = str(v)
    node_taints = [
        {
            "key": str(t["key"]),
            **({"value": str(t["value"])} if t.get("value") not in (None, "") else {}),
            "effect": str(t.get("effect", "NoSchedule")),
        }
        for t in taints or []
    ]
    for t in node_taints:
        if t["effect"] not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            raise ApiError(
                f"error: invalid taint effect: {t['effect']}, unsupported taint effect", code=400
            )
    capacity = {
        "cpu": str(cpu),
        "memory": str(memory),
        "pods": str(pods),
        "ephemeral-storage": "100Gi",
    }
    spec: dict[str, Any] = {"podCIDR": f"10.244.{index}.0/24", "podCIDRs": [f"10.244.{index}.0/24"]}
    if node_taints:
        spec["taints"] = node_taints
    node = Node(
        name=name,
        labels=node_labels,
        annotations={
            "node.alpha.kubernetes.io/ttl": "0",
            "volumes.kubernetes.io/controller-managed-attach-detach": "true",
        },
        spec=spec,
        status={
            "capacity": capacity,
            "allocatable": dict(capacity),
            "conditions": healthy_conditions(state.now),
            "addresses": [
                {"type": "InternalIP", "address": f"172.18.0.{index + 2}"},
                {"type": "Hostname", "address": name},
            ],
            "nodeInfo": {
                "kubeletVersion": KUBERNETES_VERSION,
                "kubeProxyVersion": "",
                "containerRuntimeVersion": "containerd://2.1.4",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "kernelVersion": "6.12.48-kubelab",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        },
        sim={
            "heartbeatPhase": round(state.now % 10, 3),
            "images": {"registry.k8s.io/pause:3.10": 320000},
        },
    )
    state.add(node)
    state.record(
        node,
        "Normal",
        "RegisteredNode",
        f"Node {name} event: Registered Node {name} in Controller",
        "node-controller",
    )
    return [f"node/{name} added"]


def _node(state: ClusterState, name: str) -> Node:
    node = state.nodes.get(name)
    if node is None:
        raise not_found("Node", name)
    return node


def fail_node(state: ClusterState, name: str) -> list[str]:
    authorize(state, "patch", "Node", "", name, "status")
    node = _node(state, name)
    if not node.kubelet_running:
        return [f"node/{name} already failed"]
    node.sim["kubeletStopped"] = state.now
    state.touch(node)
    return [f"node/{name} failed (kubelet stopped)"]


def recover_node(state: ClusterState, name: str) -> list[str]:
    authorize(state, "patch", "Node", "", name, "status")
    node = _node(state, name)
    if node.kubelet_running:
        return [f"node/{name} already running"]
    node.sim.pop("kubeletStopped", None)
    node.sim["heartbeatPhase"] = round(state.now % 10, 3)
    state.touch(node)
    return [f"node/{name} recovered (kubelet started)"]


def cordon(state: ClusterState, name: str, on: bool = True) -> list[str]:
    authorize(state, "patch", "Node", "", name)
    node = _node(state, name)
    if bool(node.unschedulable) == on:
        return [f"node/{name} already {'cordoned' if on else 'uncordoned'}"]
    if on:
        node.spec["unschedulable"] = True
    else:
        node.spec.pop("unschedulable", None)
    state.touch(node)
    return [f"node/{name} {'cordoned' if on else 'uncordoned'}"]


def drain(
    state: ClusterState,
    name: str,
    *,
    force: bool = False,
    ignore_daemonsets: bool = True,
    delete_emptydir_data: bool = False,
) -> list[str]:
    """``kubectl drain``: cordon, refuse what drain refuses, then evict every other pod."""
    authorize(state, "patch", "Node", "", name)
    node = _node(state, name)
    lines = cordon(state, name, True)
    pods = [p for p in state.pods_on(name) if p.deleted is None and not p.terminal]
    unmanaged = [p for p in pods if p.owner is None]
    local = [p for p in pods if any("emptyDir" in v for v in p.spec.get("volumes") or [])]
    problems = []
    if unmanaged and not force:
        problems.append(
            "cannot delete Pods that declare no controller (use --force to override): "
            + ", ".join(f"{p.namespace}/{p.name}" for p in unmanaged)
        )
    if local and not delete_emptydir_data:
        problems.append(
            "cannot delete Pods with local storage (use --delete-emptydir-data to override): "
            + ", ".join(f"{p.namespace}/{p.name}" for p in local)
        )
    if problems:
        raise ApiError(
            "\n".join(
                [
                    *lines,
                    f'error: unable to drain node "{node.name}" due to error: {", ".join(problems)}, continuing command...',
                    "There are pending nodes to be drained:",
                    f" {node.name}",
                ]
            ),
            code=400,
        )
    if unmanaged:
        lines.append(
            "Warning: deleting Pods that declare no controller: "
            + ", ".join(f"{p.namespace}/{p.name}" for p in unmanaged)
        )
    for p in pods:
        lines.append(f"evicting pod {p.namespace}/{p.name}")
    for p in pods:
        state.delete_pod(p)
        lines.append(f"pod/{p.name} evicted")
    lines.append(f"node/{name} drained")
    return lines


def remove_node(state: ClusterState, name: str) -> list[str]:
    authorize(state, "delete", "Node", "", name)
    node = _node(state, name)
    state.remove(node)
    state.clear_timers_for("node", name)
    return [f'node "{name}" deleted']


# ----- workloads -------------------------------------------------------------------------------
def _deployment(state: ClusterState, namespace: str, name: str) -> Deployment:
    d = state.deployments.get((namespace, name))
    if d is None:
        raise not_found("Deployment", name)
    return d


def scale(
    state: ClusterState,
    namespace: str,
    name: str,
    replicas: int,
    kind: str = "Deployment",
    max_replicas: int = 1000,
) -> list[str]:
    authorize(state, "patch", kind, namespace, name, "scale")
    obj = state.get(kind, namespace, name)
    if obj is None:
        raise not_found(kind, name)
    errors = replica_errors(replicas, max_replicas)
    if errors:
        raise ApiError(invalid_error(kind, name, errors))
    if obj.spec.get("replicas") != replicas:
        obj.spec["replicas"] = replicas
        obj.generation += 1
        state.touch(obj)
    return [f"{kinds.get(kind).kubectl_name}/{name} scaled"]


def set_image(state: ClusterState, namespace: str, name: str, images: dict[str, str]) -> list[str]:
    authorize(state, "patch", "Deployment", namespace, name)
    d = _deployment(state, namespace, name)
    containers = (d.spec.get("template") or {}).get("spec", {}).get("containers") or []
    by_name = {c["name"]: c for c in containers}
    for cname in images:
        if cname != "*" and cname not in by_name:
            raise ApiError(f'error: unable to find container named "{cname}"', code=404)
    changed = False
    for c in containers:
        new = images.get(c["name"], images.get("*"))
        if new is not None and c.get("image") != new:
            c["image"] = new
            last = new.rsplit("/", 1)[-1]
            c["imagePullPolicy"] = (
                c.get("imagePullPolicy")
                if "@" in new or (":" in last and not last.endswith(":latest"))
                else "Always"
            )
            if c["imagePullPolicy"] is None:
                c["imagePullPolicy"] = "IfNotPresent"
            changed = True
    if changed:
        d.generation += 1
        state.touch(d)
    return [f"deployment.apps/{name} image updated"] if changed else []


def rollout_pause(state: ClusterState, namespace: str, name: str, pause: bool = True) -> list[str]:
    authorize(state, "patch", "Deployment", namespace, name)
    d = _deployment(state, namespace, name)
    if bool(d.spec.get("paused")) == pause:
        return [f"deployment.apps/{name} already {'paused' if pause else 'resumed'}"]
    if pause:
        d.spec["paused"] = True
    else:
        d.spec.pop("paused", None)
    d.generation += 1
    state.touch(d)
    return [f"deployment.apps/{name} {'paused' if pause else 'resumed'}"]


def rollout_restart(state: ClusterState, namespace: str, name: str) -> list[str]:
    authorize(state, "patch", "Deployment", namespace, name)
    d = _deployment(state, namespace, name)
    if d.spec.get("paused"):
        raise ApiError(
            f"error: deployments/{name} can't restart paused deployment (run rollout resume first)",
            code=400,
        )
    from .objects import iso_time

    meta = d.spec.setdefault("template", {}).setdefault("metadata", {})
    meta.setdefault("annotations", {})["kubectl.kubernetes.io/restartedAt"] = iso_time(state.now)
    d.generation += 1
    state.touch(d)
    return [f"deployment.apps/{name} restarted"]


def rollout_undo(state: ClusterState, namespace: str, name: str, to_revision: int = 0) -> list[str]:
    """Client-side rollback (``polymorphichelpers/rollback.go``)."""
    authorize(state, "patch", "Deployment", namespace, name)
    d = _deployment(state, namespace, name)
    if d.spec.get("paused"):
        raise ApiError(
            "error: you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again",
            code=400,
        )
    rss = {rs.revision: rs for rs in state.replicasets_of(d.uid)}
    if to_revision == 0:
        revisions = sorted(rss)
        if len(revisions) < 2:
            raise ApiError("error: no last revision to roll back to", code=400)
        target = rss[revisions[-2]]
    else:
        if to_revision not in rss:
            raise ApiError(
                f"error: unable to find specified revision {to_revision} in history", code=404
            )
        target = rss[to_revision]
    template = copy.deepcopy(target.spec.get("template") or {})
    labels = (template.get("metadata") or {}).get("labels") or {}
    labels.pop("pod-template-hash", None)
    if equal_ignore_hash(template, d.spec.get("template") or {}):
        return [
            f"deployment.apps/{name} skipped rollback (current template already matches revision {target.revision})"
        ]
    d.spec["template"] = template
    d.generation += 1
    state.touch(d)
    return [f"deployment.apps/{name} rolled back"]


def rollout_status(state: ClusterState, namespace: str, name: str) -> tuple[bool, str]:
    """(done, message) as ``kubectl rollout status`` prints it now (not watching)."""
    d = _deployment(state, namespace, name)
    st = d.status
    if d.generation > int(st.get("observedGeneration", 0)):
        return False, "Waiting for deployment spec update to be observed..."
    cond = next((c for c in st.get("conditions") or [] if c["type"] == "Progressing"), None)
    if cond is not None and cond.get("reason") == "ProgressDeadlineExceeded":
        raise ApiError(f'error: deployment "{name}" exceeded its progress deadline', code=1)
    want = d.replicas
    updated = int(st.get("updatedReplicas", 0))
    replicas = int(st.get("replicas", 0))
    available = int(st.get("availableReplicas", 0))
    if updated < want:
        return (
            False,
            f'Waiting for deployment "{name}" rollout to finish: {updated} out of {want} new replicas have been updated...',
        )
    if replicas > updated:
        return (
            False,
            f'Waiting for deployment "{name}" rollout to finish: {replicas - updated} old replicas are pending termination...',
        )
    if available < updated:
        return (
            False,
            f'Waiting for deployment "{name}" rollout to finish: {available} of {updated} updated replicas are available...',
        )
    return True, f'deployment "{name}" successfully rolled out'


def rollout_history(state: ClusterState, namespace: str, name: str, revision: int = 0) -> list[str]:
    d = _deployment(state, namespace, name)
    rss = sorted(state.replicasets_of(d.uid), key=lambda r: r.revision)
    if revision:
        match = [rs for rs in rss if rs.revision == revision]
        if not match:
            raise ApiError("error: unable to find the specified revision", code=404)
        rs = match[0]
        tpl = rs.spec.get("template") or {}
        lines = [f"deployment.apps/{name} with revision #{revision}", "Pod Template:"]
        lines.append(
            "  Labels:\t"
            + ",".join(
                f"{k}={v}"
                for k, v in sorted(((tpl.get("metadata") or {}).get("labels") or {}).items())
            )
        )
        for c in (tpl.get("spec") or {}).get("containers") or []:
            lines += ["  Containers:", f"   {c['name']}:", f"    Image:\t{c.get('image')}"]
        return lines
    lines = [f"deployment.apps/{name} ", "REVISION  CHANGE-CAUSE"]
    for rs in rss:
        lines.append(
            f"{str(rs.revision):<10}{rs.annotations.get('kubernetes.io/change-cause', '<none>')}"
        )
    lines.append("")
    return lines


def delete(state: ClusterState, kind: str, namespace: str, name: str) -> list[str]:
    """``kubectl delete``: background cascading deletion."""
    k = kinds.get(kind)
    authorize(state, "delete", kind, kinds.namespace_of(kind, namespace), name)
    if k.built_in_by and state.get(kind, namespace, name) is not None:
        raise ApiError(
            f'error: KubeLab\'s {kind} "{name}" comes with {k.built_in_by} and cannot be deleted here',
            code=422,
        )
    if kind == "Node":
        remove_node(state, name)
        return [f'node "{name}" deleted']
    obj: KObject | None = state.get(kind, namespace, name)
    if obj is None:
        raise not_found(kind, name)
    if kind == "Pod":
        state.delete_pod(obj)  # type: ignore[arg-type]
    elif kind == "Namespace":
        if name in SYSTEM_NAMESPACES:
            raise ApiError(
                f'Error from server (Forbidden): namespaces "{name}" is forbidden: this namespace may not be deleted',
                code=403,
            )
        # The namespace controller deletes everything in it; pods terminate gracefully.
        for other in kinds.stored():
            if not other.namespaced:
                continue
            for o in [o for o in state.store(other.kind).values() if o.namespace == name]:
                if isinstance(o, Pod):
                    state.delete_pod(o)
                else:
                    state.remove(o)
        state.remove(obj)
    else:
        state.remove(obj)
    return [f'{k.kubectl_name} "{name}" deleted']


def revision_of(d: Deployment) -> int:
    try:
        return int(d.annotations.get(REVISION, "0"))
    except ValueError:
        return 0


def dumps(obj: Any) -> str:
    return json.dumps(obj, indent=4, sort_keys=False)
