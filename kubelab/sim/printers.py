"""kubectl's words: the STATUS and READY columns, AGE, ``get`` tables and ``describe``.

Follows ``pkg/printers/internalversion/printers.go`` (printPod, printNode, …) and
apimachinery's ``duration.HumanDuration``; tables are laid out like kubectl's tabwriter
(columns padded with three spaces).
"""

from __future__ import annotations

import datetime as _dt
import json
from typing import TYPE_CHECKING, Any

from .objects import EPOCH, KObject, iso_time, map_matches
from .quantity import format_cpu, format_memory, int_value, milli_value

if TYPE_CHECKING:
    from .kinds import Deployment, Node, Pod, ReplicaSet, Service
    from .state import ClusterState


def human_duration(seconds: float) -> str:
    """``duration.HumanDuration``."""
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    s = int(seconds)
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        sec = s % 60
        return f"{minutes}m" if sec == 0 else f"{minutes}m{sec}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    years = hours // 24 // 365
    if years < 8:
        d = hours // 24 - years * 365
        return f"{years}y" if d == 0 else f"{years}y{d}d"
    return f"{years}y"


def table(headers: list[str], rows: list[list[str]], pad: int = 3) -> str:
    """kubectl's tabwriter layout: left-aligned; ``get`` pads columns with 3 spaces, ``describe`` with 2."""
    widths = [len(h) for h in headers]
    for r in rows:
        for i, cell in enumerate(r):
            widths[i] = max(widths[i], len(cell))
    out = []
    for r in [headers, *rows]:
        cells = [cell.ljust(widths[i]) if i < len(r) - 1 else cell for i, cell in enumerate(r)]
        out.append((" " * pad).join(cells).rstrip())
    return "\n".join(out)


# ----- pods ---------------------------------------------------------------------------------------
def pod_columns(pod: Pod, now: float) -> tuple[str, str, str]:
    """(READY, STATUS, RESTARTS) exactly as ``printPod`` computes them."""
    st = pod.status
    spec = pod.spec
    restarts = 0
    total = len(spec.get("containers") or [])
    ready = 0
    last_restart: float | None = None
    reason = st.get("reason") or st.get("phase") or "Pending"
    for c in st.get("conditions") or []:
        if c["type"] == "PodScheduled" and c.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    initializing = False
    inits = spec.get("initContainers") or []
    init_statuses = st.get("initContainerStatuses") or []
    for i, cs in enumerate(init_statuses):
        restarts += int(cs.get("restartCount", 0))
        last = (cs.get("lastState") or {}).get("terminated")
        if last and last.get("finishedAt") is not None:
            last_restart = max(last_restart or 0, last["finishedAt"])
        state = cs.get("state") or {}
        term = state.get("terminated")
        if term and term.get("exitCode") == 0:
            continue
        if term:
            if term.get("reason"):
                reason = "Init:" + term["reason"]
            elif term.get("signal"):
                reason = f"Init:Signal:{term['signal']}"
            else:
                reason = f"Init:ExitCode:{term.get('exitCode')}"
        elif (
            state.get("waiting")
            and state["waiting"].get("reason")
            and state["waiting"]["reason"] != "PodInitializing"
        ):
            reason = "Init:" + state["waiting"]["reason"]
        else:
            reason = f"Init:{i}/{len(inits)}"
        initializing = True
        break
    init_done = any(
        c["type"] == "Initialized" and c["status"] == "True" for c in st.get("conditions") or []
    )
    if not initializing or init_done:
        restarts = 0
        has_running = False
        for cs in reversed(st.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount", 0))
            last = (cs.get("lastState") or {}).get("terminated")
            if last and last.get("finishedAt") is not None:
                last_restart = max(last_restart or 0, last["finishedAt"])
            state = cs.get("state") or {}
            if state.get("waiting") and state["waiting"].get("reason"):
                reason = state["waiting"]["reason"]
            elif state.get("terminated") and state["terminated"].get("reason"):
                reason = state["terminated"]["reason"]
            elif state.get("terminated"):
                term = state["terminated"]
                reason = (
                    f"Signal:{term['signal']}"
                    if term.get("signal")
                    else f"ExitCode:{term.get('exitCode')}"
                )
            elif cs.get("ready") and "running" in state:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            pod_ready = any(
                c["type"] == "Ready" and c["status"] == "True" for c in st.get("conditions") or []
            )
            reason = "Running" if pod_ready else "NotReady"
    if pod.deleted is not None:
        if st.get("reason") == "NodeLost":
            reason = "Unknown"
        elif st.get("phase") not in ("Failed", "Succeeded"):
            reason = "Terminating"
    restarts_str = str(restarts)
    if restarts and last_restart is not None:
        restarts_str = f"{restarts} ({human_duration(now - last_restart)} ago)"
    return f"{ready}/{total}", reason, restarts_str


def pod_status(pod: Pod) -> str:
    return pod_columns(pod, 0)[1]


def node_status(node: Node) -> str:
    """``printNode``: Ready / NotReady (False or Unknown) / Unknown, plus SchedulingDisabled."""
    ready = node.ready_status
    if ready is None:
        status = "Unknown"
    else:
        status = "Ready" if ready == "True" else "NotReady"
    if node.unschedulable:
        status += ",SchedulingDisabled"
    return status


def node_roles(node: Node) -> str:
    roles = sorted(
        {
            k.split("/", 1)[1]
            for k in node.labels
            if k.startswith("node-role.kubernetes.io/") and "/" in k
        }
        | ({node.labels["kubernetes.io/role"]} if node.labels.get("kubernetes.io/role") else set())
    )
    return ",".join(r for r in roles if r) or "<none>"


def age(obj: KObject, now: float) -> str:
    return human_duration(now - obj.created)


def selector_text(sel: dict[str, Any] | None) -> str:
    if not sel:
        return "<none>"
    parts = [f"{k}={v}" for k, v in sorted((sel.get("matchLabels") or {}).items())]
    for e in sel.get("matchExpressions") or []:
        op = e.get("operator")
        if op in ("In", "NotIn"):
            parts.append(f"{e['key']} {op.lower()} ({','.join(e.get('values') or [])})")
        elif op == "Exists":
            parts.append(e["key"])
        else:
            parts.append(f"!{e['key']}")
    return ",".join(parts)


def containers_images(template: dict[str, Any]) -> tuple[str, str]:
    cs = (template.get("spec") or {}).get("containers") or []
    return ",".join(c.get("name", "") for c in cs), ",".join(c.get("image", "") for c in cs)


def service_ports(svc: Service) -> str:
    out = []
    for p in svc.spec.get("ports") or []:
        s = str(p.get("port"))
        if p.get("nodePort"):
            s += f":{p['nodePort']}"
        out.append(f"{s}/{p.get('protocol', 'TCP')}")
    return ",".join(out) or "<none>"


def service_external_ip(svc: Service) -> str:
    t = svc.spec.get("type", "ClusterIP")
    if t == "ExternalName":
        return svc.spec.get("externalName", "<none>")
    if t == "LoadBalancer":
        ing = (svc.status.get("loadBalancer") or {}).get("ingress") or []
        return ",".join(i.get("ip") or i.get("hostname", "") for i in ing) or "<pending>"
    ext = svc.spec.get("externalIPs") or []
    return ",".join(ext) or "<none>"


def hpa_targets(h: KObject) -> str:
    """TARGETS of ``kubectl get hpa``: ``cpu: 45%/50%``, ``cpu: <unknown>/50%`` before metrics."""
    current = {
        (m.get("resource") or {}).get("name"): (m.get("resource") or {}).get("current") or {}
        for m in h.status.get("currentMetrics") or []
        if m.get("type") == "Resource"
    }
    parts = []
    for m in h.spec.get("metrics") or []:
        res = m.get("resource") or {}
        name = res.get("name", "")
        target = res.get("target") or {}
        cur = current.get(name, {})
        if target.get("type") == "Utilization":
            now_v = f"{cur['averageUtilization']}%" if "averageUtilization" in cur else "<unknown>"
            parts.append(f"{name}: {now_v}/{target.get('averageUtilization')}%")
        else:
            now_v = cur.get("averageValue", "<unknown>")
            parts.append(f"{name}: {now_v}/{target.get('averageValue')}")
    if len(parts) > 2:
        parts = parts[:2] + [f"+ {len(parts) - 2} more..."]
    return ", ".join(parts) or "<none>"


def top_pods(state: ClusterState, namespace: str | None) -> str:
    """``kubectl top pods``: NAME CPU(cores) MEMORY(bytes), from the metrics window."""
    from . import traffic

    rows = []
    for p in sorted(state.pods.values(), key=lambda p: (p.namespace, p.name)):
        if namespace is not None and p.namespace != namespace:
            continue
        cpu = traffic.pod_cpu(state, p, idle_default=True)
        if cpu is None:
            continue
        row = [p.name, f"{round(cpu)}m", f"{traffic.pod_memory(p) // 2**20}Mi"]
        rows.append(([p.namespace] if namespace is None else []) + row)
    if not rows:
        raise KeyError("metrics not available yet")
    headers = (["NAMESPACE"] if namespace is None else []) + ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    return table(headers, rows)


def top_nodes(state: ClusterState) -> str:
    """``kubectl top nodes``: usage of the pods on each Ready node against its allocatable."""
    from . import traffic

    rows = []
    for n in sorted(state.nodes.values(), key=lambda n: n.name):
        if node_status(n).startswith("NotReady") or not n.kubelet_running:
            rows.append([n.name, "<unknown>", "<unknown>", "<unknown>", "<unknown>"])
            continue
        cpu = mem = 0.0
        for p in state.pods_on(n.name):
            c = traffic.pod_cpu(state, p, idle_default=True)
            if c is not None:
                cpu += c
                mem += traffic.pod_memory(p)
        cpu_pct = int(cpu * 100 / n.alloc_cpu) if n.alloc_cpu else 0
        mem_pct = int(mem * 100 / n.alloc_mem) if n.alloc_mem else 0
        rows.append(
            [n.name, f"{round(cpu)}m", f"{cpu_pct}%", f"{int(mem) // 2**20}Mi", f"{mem_pct}%"]
        )
    return table(["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"], rows)


# ----- -o json ------------------------------------------------------------------------------------
_TIME_KEYS = ("Time", "startedAt", "finishedAt", "startTime", "timeAdded", "Timestamp")


def _timestamps(value: Any, epoch: float | None = None) -> Any:
    if isinstance(value, dict):
        return {
            k: (
                iso_time(v, epoch)
                if isinstance(v, int | float)
                and not isinstance(v, bool)
                and any(k.endswith(s) or k == s for s in _TIME_KEYS)
                else _timestamps(v, epoch)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_timestamps(v, epoch) for v in value]
    return value


def to_manifest(obj: KObject, now: float, epoch: float | None = None) -> dict[str, Any]:
    """The object as the API serves it: status times as RFC 3339 (``epoch``: see iso_time)."""
    return _timestamps(obj.manifest(now, epoch), epoch)


def get_json(state: ClusterState, kind: str, namespace: str | None, name: str | None = None) -> str:
    if name is not None:
        obj = state.get(kind, namespace or "default", name)
        if obj is None:
            raise KeyError(name)
        return json.dumps(to_manifest(obj, state.now), indent=4)
    st = state.store(kind)
    items = [
        to_manifest(o, state.now)
        for o in sorted(st.values(), key=lambda o: (o.namespace, o.name))
        if namespace is None or o.namespace == namespace or not o.namespaced
    ]
    return json.dumps(
        {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}},
        indent=4,
    )


# ----- describe -------------------------------------------------------------------------------------
def rfc1123(t: float) -> str:
    return _dt.datetime.fromtimestamp(EPOCH + int(t), tz=_dt.UTC).strftime(
        "%a, %d %b %Y %H:%M:%S +0000"
    )


def _map_lines(label: str, m: dict[str, Any] | None, width: int) -> list[str]:
    """Labels as ``key=value``, annotations as ``key: value`` (kubectl since 1.12), one per line."""
    if not m:
        return [f"{label:<{width}}<none>"]
    sep = ": " if label == "Annotations:" else "="
    items = sorted(m.items())
    out = [f"{label:<{width}}{items[0][0]}{sep}{items[0][1]}"]
    out += [f"{'':<{width}}{k}{sep}{v}" for k, v in items[1:]]
    return out


def _tolerations(spec: dict[str, Any]) -> list[str]:
    out = []
    for t in spec.get("tolerations") or []:
        s = t.get("key", "")
        if t.get("operator") == "Equal" or t.get("value"):
            s += f"={t.get('value', '')}"
        if t.get("effect"):
            s += f":{t['effect']}"
        if t.get("operator") == "Exists":
            s += " op=Exists"
        if t.get("tolerationSeconds") is not None:
            s += f" for {t['tolerationSeconds']}s"
        out.append(s)
    return out


def describe_pod(state: ClusterState, pod: Pod) -> str:
    """describePod (kubectl describe.go) through Go's tabwriter."""
    st = pod.status
    node = state.nodes.get(pod.node_name)
    lines = [
        f"Name:\t{pod.name}",
        f"Namespace:\t{pod.namespace}",
        f"Priority:\t{pod.spec.get('priority', 0)}",
        "Service Account:\tdefault",
        f"Node:\t{(pod.node_name + '/' + (node.internal_ip if node else '')) if pod.node_name else '<none>'}",
    ]
    if st.get("startTime") is not None:
        lines.append(f"Start Time:\t{rfc1123(st['startTime'])}")
    lines += _multiline("Labels", pod.labels)
    lines += _multiline("Annotations", pod.annotations)
    if pod.deleted is not None and st.get("phase") not in ("Failed", "Succeeded"):
        lines.append(f"Status:\tTerminating (lasts {human_duration(state.now - pod.deleted)})")
        lines.append(f"Termination Grace Period:\t{pod.grace}s")
    else:
        lines.append(f"Status:\t{st.get('phase', 'Pending')}")
    lines.append(f"IP:\t{pod.ip or ''}")
    if pod.ip:
        lines += ["IPs:", f"  IP:\t{pod.ip}"]
    else:
        lines.append("IPs:\t<none>")
    if pod.owner is not None:
        lines.append(f"Controlled By:\t{pod.owner.kind}/{pod.owner.name}")
    statuses = {cs["name"]: cs for cs in st.get("containerStatuses") or []}
    lines.append("Containers:")
    for c in pod.spec.get("containers") or []:
        cs = statuses.get(c["name"])
        lines.append(f"  {c['name']}:")
        if cs is not None:
            lines.append(f"    Container ID:\t{cs.get('containerID', '')}")
        lines.append(f"    Image:\t{c.get('image')}")
        if cs is not None:
            lines.append(f"    Image ID:\t{cs.get('imageID', '')}")
        lines += _container_ports_and_command(c)
        if cs is not None:
            lines += _container_state("State", cs.get("state") or {})
            last = cs.get("lastState") or {}
            if "terminated" in last:
                lines += _container_state("Last State", last)
            lines.append(f"    Ready:\t{'True' if cs.get('ready') else 'False'}")
            lines.append(f"    Restart Count:\t{cs.get('restartCount', 0)}")
        res = c.get("resources") or {}
        for group in ("limits", "requests"):
            if res.get(group):
                lines.append(f"    {group.capitalize()}:")
                lines += [f"      {k}:\t{v}" for k, v in sorted(res[group].items())]
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            if c.get(probe):
                lines.append(
                    f"    {probe.replace('Probe', '').capitalize()}:\t{_probe_text(c[probe])}"
                )
        env = c.get("env") or []
        if env:
            lines.append("    Environment:")
            lines += [f"      {e.get('name')}:\t{e.get('value', '')}" for e in env]
        else:
            lines.append("    Environment:\t<none>")
        lines.append("    Mounts:\t<none>")
    conds = st.get("conditions") or []
    if conds:
        order = [
            "PodReadyToStartContainers",
            "Initialized",
            "Ready",
            "ContainersReady",
            "PodScheduled",
        ]
        lines += ["Conditions:", "  Type\tStatus"]
        # "%v \t%v \n": kubectl leaves a space after the type and after the status.
        lines += [
            f"  {c['type']} \t{c['status']} "
            for c in sorted(
                conds, key=lambda c: order.index(c["type"]) if c["type"] in order else 9
            )
        ]
    lines.append("Volumes:\t<none>")
    lines.append(f"QoS Class:\t{st.get('qosClass', 'BestEffort')}")
    lines += _multiline("Node-Selectors", pod.spec.get("nodeSelector") or {})
    tols = _tolerations(pod.spec)
    lines.append(f"Tolerations:\t{tols[0] if tols else '<none>'}")
    lines += [f"\t{t}" for t in tols[1:]]
    lines += _events_tabbed(state, pod)
    return tabwrite(lines)


def _probe_text(p: dict[str, Any]) -> str:
    if "httpGet" in p:
        h = p["httpGet"]
        kind = f"http-get {h.get('scheme', 'HTTP').lower()}://:{h.get('port')}{h.get('path', '/')}"
    elif "tcpSocket" in p:
        kind = f"tcp-socket :{p['tcpSocket'].get('port')}"
    elif "exec" in p:
        kind = "exec [" + " ".join(p["exec"].get("command") or []) + "]"
    else:
        kind = "grpc"
    return (
        f"{kind} delay={p.get('initialDelaySeconds', 0)}s timeout={p.get('timeoutSeconds', 1)}s "
        f"period={p.get('periodSeconds', 10)}s #success={p.get('successThreshold', 1)} #failure={p.get('failureThreshold', 3)}"
    )


def _container_state(label: str, state: dict[str, Any]) -> list[str]:
    """describeStatus: Running (Started), Waiting (Reason) or Terminated (Reason, Message, Exit
    Code, Started, Finished), as tab-separated lines."""
    if "running" in state:
        return [
            f"    {label}:\tRunning",
            f"      Started:\t{rfc1123(state['running'].get('startedAt', 0))}",
        ]
    if "terminated" in state:
        t = state["terminated"]
        out = [f"    {label}:\tTerminated"]
        if t.get("reason"):
            out.append(f"      Reason:\t{t['reason']}")
        if t.get("message"):
            out.append(f"      Message:\t{t['message']}")
        out.append(f"      Exit Code:\t{t.get('exitCode')}")
        if t.get("startedAt") is not None:
            out.append(f"      Started:\t{rfc1123(t['startedAt'])}")
        if t.get("finishedAt") is not None:
            out.append(f"      Finished:\t{rfc1123(t['finishedAt'])}")
        return out
    w = state.get("waiting") or {}
    out = [f"    {label}:\tWaiting"]
    if w.get("reason"):
        out.append(f"      Reason:\t{w['reason']}")
    return out


def allocated(state: ClusterState, node: Node) -> dict[str, tuple[int, int]]:
    """Requests and limits of the non-terminated pods on a node: cpu (m) and memory (bytes)."""
    req_c = req_m = lim_c = lim_m = 0
    for p in state.pods_on(node.name):
        if p.terminal:
            continue
        for c in p.spec.get("containers") or []:
            res = c.get("resources") or {}
            r, lm = res.get("requests") or {}, res.get("limits") or {}
            req_c += milli_value(r["cpu"]) if "cpu" in r else 0
            req_m += int_value(r["memory"]) if "memory" in r else 0
            lim_c += milli_value(lm["cpu"]) if "cpu" in lm else 0
            lim_m += int_value(lm["memory"]) if "memory" in lm else 0
    return {"cpu": (req_c, lim_c), "memory": (req_m, lim_m)}


def _may_list_all_pods(state: ClusterState) -> bool:
    """Whether the user may list pods in every namespace (``kubectl describe node`` needs it for
    the node's pods; a student of an anonymised classroom may not)."""
    from .apiserver import ApiError
    from .apiserver.authz import authorize

    try:
        authorize(state, "list", "Pod", "", "")
    except ApiError:
        return False
    return True


def describe_node(state: ClusterState, node: Node) -> str:
    """describeNode (kubectl describe.go) through Go's tabwriter."""
    from .controllers.node_lifecycle import LEASE_RENEW_INTERVAL, last_heartbeat

    lines = [f"Name:\t{node.name}", f"Roles:\t{node_roles(node)}"]
    lines += _multiline("Labels", node.labels)
    lines += _multiline("Annotations", node.annotations)
    lines.append(f"CreationTimestamp:\t{rfc1123(node.created)}")
    tt = [
        f"{t['key']}{'=' + t['value'] if t.get('value') else ''}:{t['effect']}" for t in node.taints
    ]
    lines.append(f"Taints:\t{tt[0] if tt else '<none>'}")
    lines += [f"\t{t}" for t in tt[1:]]
    lines.append(f"Unschedulable:\t{'true' if node.unschedulable else 'false'}")
    # The kubelet's Lease in kube-node-lease: renewed every 10 s until the kubelet stops.
    if node.sim.get("kubeletStopped") is not None:
        renew = last_heartbeat(node)
    else:
        phase = float(node.sim.get("heartbeatPhase", 0.0))
        renew = state.now - ((state.now - phase) % LEASE_RENEW_INTERVAL)
    lines += [
        "Lease:",
        f"  HolderIdentity:\t{node.name}",
        "  AcquireTime:\t<unset>",
        f"  RenewTime:\t{rfc1123(max(renew, node.created))}",
    ]
    conds = node.status.get("conditions") or []
    if conds:
        lines += [
            "Conditions:",
            "  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage",
            "  ----\t------\t-----------------\t------------------\t------\t-------",
        ]
        # "%v \t%v \t%s \t%s \t%v \t%v": a space after each cell but the last, as kubectl.
        lines += [
            f"  {c['type']} \t{c['status']} \t{rfc1123(c.get('lastHeartbeatTime', 0))} \t"
            f"{rfc1123(c.get('lastTransitionTime', 0))} \t{c.get('reason', '')} \t{c.get('message', '')}"
            for c in conds
        ]
    lines.append("Addresses:")
    lines += [f"  {a['type']}:\t{a['address']}" for a in node.status.get("addresses") or []]
    for label in ("capacity", "allocatable"):
        lines.append(f"{label.capitalize()}:")
        lines += [f"  {k}:\t{v}" for k, v in sorted((node.status.get(label) or {}).items())]
    info = node.status.get("nodeInfo") or {}
    lines += [
        "System Info:",
        f"  Kernel Version:\t{info.get('kernelVersion', '')}",
        f"  OS Image:\t{info.get('osImage', '')}",
        f"  Operating System:\t{info.get('operatingSystem', '')}",
        f"  Architecture:\t{info.get('architecture', '')}",
        f"  Container Runtime Version:\t{info.get('containerRuntimeVersion', '')}",
        f"  Kubelet Version:\t{info.get('kubeletVersion', '')}",
    ]
    if node.spec.get("podCIDR"):
        lines.append(f"PodCIDR:\t{node.spec['podCIDR']}")
    if node.spec.get("podCIDRs"):
        lines.append(f"PodCIDRs:\t{','.join(node.spec['podCIDRs'])}")
    if not _may_list_all_pods(state):
        # describe.go: listing the node's pods across namespaces was Forbidden.
        lines.append("Pods:\tnot authorized")
        return tabwrite(lines + _events_tabbed(state, node))
    pods = [p for p in state.pods_on(node.name) if not p.terminal]
    lines.append(f"Non-terminated Pods:\t({len(pods)} in total)")
    # describeNodeResource: note the empty column after Name ("%s\t%s\t\t%s …"), as kubectl.
    lines.append(
        "  Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge"
    )
    lines.append(
        "  ---------\t----\t\t------------\t----------\t---------------\t-------------\t---"
    )

    def total(p: Pod, group: str, res: str, parse: Any) -> int:
        return sum(
            parse(((c.get("resources") or {}).get(group) or {}).get(res, 0))
            for c in p.spec.get("containers") or []
        )

    for p in sorted(pods, key=lambda p: (p.namespace, p.name)):
        cpu_r, cpu_l = (total(p, g, "cpu", milli_value) for g in ("requests", "limits"))
        mem_r, mem_l = (total(p, g, "memory", int_value) for g in ("requests", "limits"))
        lines.append(
            f"  {p.namespace}\t{p.name}\t\t{_pct(cpu_r, node.alloc_cpu, format_cpu)}\t"
            f"{_pct(cpu_l, node.alloc_cpu, format_cpu)}\t{_pct(mem_r, node.alloc_mem, format_memory)}\t"
            f"{_pct(mem_l, node.alloc_mem, format_memory)}\t{human_duration(state.now - p.created)}"
        )
    a = allocated(state, node)
    lines += [
        "Allocated resources:",
        "  (Total limits may be over 100 percent, i.e., overcommitted.)",
        "  Resource\tRequests\tLimits",
        "  --------\t--------\t------",
        f"  cpu\t{_pct(a['cpu'][0], node.alloc_cpu, format_cpu)}\t{_pct(a['cpu'][1], node.alloc_cpu, format_cpu)}",
        f"  memory\t{_pct(a['memory'][0], node.alloc_mem, format_memory)}\t{_pct(a['memory'][1], node.alloc_mem, format_memory)}",
        # describeNodeResource always lists ephemeral-storage (no pod here requests any).
        "  ephemeral-storage\t0 (0%)\t0 (0%)",
    ]
    return tabwrite(lines + _events_tabbed(state, node))


def _pct(v: int, total: int, fmt: Any) -> str:
    pct = int(v * 100 / total) if total else 0
    return f"{fmt(v)} ({pct}%)"


def _container_ports_and_command(c: dict[str, Any]) -> list[str]:
    """describeContainerBasicInfo's port lines ("Ports" once there is a comma) and the command,
    shared by pods and pod templates as kubectl's describeContainers is."""
    ports = c.get("ports") or []
    cports = ", ".join(f"{p['containerPort']}/{p.get('protocol', 'TCP')}" for p in ports)
    hports = ", ".join(f"{p.get('hostPort', 0)}/{p.get('protocol', 'TCP')}" for p in ports)
    lines = [
        f"    {'Ports' if ',' in cports else 'Port'}:\t{cports or '<none>'}",
        f"    {'Host Ports' if ',' in hports else 'Host Port'}:\t{hports or '<none>'}",
    ]
    for label, key in (("Command", "command"), ("Args", "args")):
        if c.get(key):
            lines.append(f"    {label}:")
            lines += [f"      {x}" for x in c[key]]
    return lines


def _pod_template(tpl: dict[str, Any]) -> list[str]:
    """DescribePodTemplate (kubectl describe.go), as tab-separated lines."""
    meta = tpl.get("metadata") or {}
    spec = tpl.get("spec") or {}
    out = ["Pod Template:", *_multiline("  Labels", meta.get("labels") or {})]
    if meta.get("annotations"):
        out += _multiline("  Annotations", meta["annotations"])
    for title, key in (("Init Containers", "initContainers"), ("Containers", "containers")):
        containers = spec.get(key) or []
        if not containers and key == "initContainers":
            continue
        out.append(f"  {title}:")
        for c in containers:
            out.append(f"   {c['name']}:")
            out.append(f"    Image:\t{c.get('image')}")
            out += _container_ports_and_command(c)
            res = c.get("resources") or {}
            for group in ("limits", "requests"):
                if res.get(group):
                    out.append(f"    {group.capitalize()}:")
                    out += [f"      {k}:\t{v}" for k, v in sorted(res[group].items())]
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                if c.get(probe):
                    label = probe.replace("Probe", "").capitalize()
                    out.append(f"    {label}:\t{_probe_text(c[probe])}")
            env = c.get("env") or []
            if not env:
                out.append("    Environment:\t<none>")
            else:
                out.append("    Environment:")
                out += [f"      {e.get('name')}:\t{e.get('value', '')}" for e in env]
            out.append("    Mounts:\t<none>")
    out.append("  Volumes:\t<none>")
    out += _multiline("  Node-Selectors", spec.get("nodeSelector") or {})
    tols = _tolerations(spec)
    out.append(f"  Tolerations:\t{tols[0] if tols else '<none>'}")
    out += [f"\t{t}" for t in tols[1:]]
    return out


def describe_deployment(state: ClusterState, d: Deployment) -> str:
    """describeDeployment (kubectl describe.go) through Go's tabwriter."""
    st = d.status
    strategy = d.spec.get("strategy") or {}
    lines = [
        f"Name:\t{d.name}",
        f"Namespace:\t{d.namespace}",
        f"CreationTimestamp:\t{rfc1123(d.created)}",
        *_multiline("Labels", d.labels),
        *_multiline("Annotations", d.annotations),
        f"Selector:\t{selector_text(d.spec.get('selector'))}",
        f"Replicas:\t{d.replicas} desired | {st.get('updatedReplicas', 0)} updated | "
        f"{st.get('replicas', 0)} total | {st.get('availableReplicas', 0)} available | "
        f"{st.get('unavailableReplicas', 0)} unavailable",
        f"StrategyType:\t{strategy.get('type', 'RollingUpdate')}",
        f"MinReadySeconds:\t{d.spec.get('minReadySeconds', 0)}",
    ]
    if strategy.get("type", "RollingUpdate") == "RollingUpdate":
        ru = strategy.get("rollingUpdate") or {}
        lines.append(
            f"RollingUpdateStrategy:\t{ru.get('maxUnavailable', '25%')} max unavailable, "
            f"{ru.get('maxSurge', '25%')} max surge"
        )
    lines += _pod_template(d.spec.get("template") or {})
    conds = st.get("conditions") or []
    if conds:
        lines += ["Conditions:", "  Type\tStatus\tReason", "  ----\t------\t------"]
        # "%v \t%v\t%v": the type is followed by a space before its tab, as in kubectl.
        lines += [f"  {c['type']} \t{c['status']}\t{c.get('reason', '')}" for c in conds]
    from .controllers.deployment import find_new_rs

    rss = state.replicasets_of(d.uid)
    new_rs = find_new_rs(d, rss)
    old = [rs for rs in rss if rs is not new_rs and rs.replicas > 0]
    fmt = lambda rs: f"{rs.name} ({rs.status.get('replicas', 0)}/{rs.replicas} replicas created)"  # noqa: E731
    lines.append(f"OldReplicaSets:\t{', '.join(fmt(rs) for rs in old) or '<none>'}")
    lines.append(f"NewReplicaSet:\t{fmt(new_rs) if new_rs else '<none>'}")
    lines += _events_tabbed(state, d)
    return tabwrite(lines)


def describe_replicaset(state: ClusterState, rs: ReplicaSet) -> str:
    """describeReplicaSet (kubectl describe.go) through Go's tabwriter."""
    lines = [
        f"Name:\t{rs.name}",
        f"Namespace:\t{rs.namespace}",
        f"Selector:\t{selector_text(rs.spec.get('selector'))}",
        *_multiline("Labels", rs.labels),
        *_multiline("Annotations", rs.annotations),
    ]
    if rs.owner:
        lines.append(f"Controlled By:\t{rs.owner.kind}/{rs.owner.name}")
    lines.append(f"Replicas:\t{rs.status.get('replicas', 0)} current / {rs.replicas} desired")
    pods = state.pods_of(rs.uid)
    phases = {
        ph: sum(1 for p in pods if p.phase == ph)
        for ph in ("Running", "Pending", "Succeeded", "Failed")
    }
    lines.append(
        f"Pods Status:\t{phases['Running']} Running / {phases['Pending']} Waiting / "
        f"{phases['Succeeded']} Succeeded / {phases['Failed']} Failed"
    )
    lines += _pod_template(rs.spec.get("template") or {})
    lines += _events_tabbed(state, rs)
    return tabwrite(lines)


def describe_hpa(state: ClusterState, h: KObject) -> str:
    """kubectl describe.go ``describeHorizontalPodAutoscalerV2`` (tabwriter, padding 2)."""
    from .apiserver.quota import tabulate

    def multiline(label: str, m: dict[str, str]) -> list[list[str]]:
        items = sorted(m.items())
        if not items:
            return [[label, "<none>"]]
        return [[label if i == 0 else "", f"{k}={v}"] for i, (k, v) in enumerate(items)]

    ref = h.spec.get("scaleTargetRef") or {}
    rows: list[list[str]] = [["Name:", h.name], ["Namespace:", h.namespace]]
    rows += multiline("Labels:", h.labels)
    rows += multiline(
        "Annotations:",
        {
            k: v
            for k, v in h.annotations.items()
            if k != "kubectl.kubernetes.io/last-applied-configuration"
        },
    )
    rows.append(["CreationTimestamp:", rfc1123(h.created)])
    rows.append(["Reference:", f"{ref.get('kind', '')}/{ref.get('name', '')}"])
    rows.append(["Metrics:", "( current / target )"])
    current = h.status.get("currentMetrics") or []
    for i, m in enumerate(h.spec.get("metrics") or []):
        res = m.get("resource") or {}
        target = res.get("target") or {}
        cur = ((current[i] if i < len(current) else {}).get("resource") or {}).get("current") or {}
        now_v = (
            f"{cur['averageUtilization']}% ({cur.get('averageValue', '0')})"
            if "averageUtilization" in cur
            else "<unknown>"
        )
        tgt = f"{target['averageUtilization']}%" if "averageUtilization" in target else "<auto>"
        rows.append(
            [
                f"  resource {res.get('name', '')} on pods  (as a percentage of request):",
                f"{now_v} / {tgt}",
            ]
        )
    lo = h.spec.get("minReplicas")
    rows.append(["Min replicas:", "<unset>" if lo is None else str(lo)])
    rows.append(["Max replicas:", str(h.spec.get("maxReplicas", ""))])
    rows.append(
        [
            f"{ref.get('kind', '')} pods:",
            f"{int(h.status.get('currentReplicas', 0))} current / {int(h.status.get('desiredReplicas', 0))} desired",
        ]
    )
    lines = tabulate(rows)
    tail: list[str] = []  # from Conditions on, one tabwriter block as kubectl writes it
    conds = h.status.get("conditions") or []
    if conds:
        tail += [
            "Conditions:",
            "  Type\tStatus\tReason\tMessage",
            "  ----\t------\t------\t-------",
        ]
        tail += [
            f"  {c['type']}\t{c['status']}\t{c.get('reason', '')}\t{c.get('message', '')}"
            for c in conds
        ]
    else:
        # Without conditions the events line joins the block above it.
        return tabwrite(
            ["\t".join(r[:-1]) + "\t" + r[-1] if len(r) > 1 else r[0] for r in rows]
            + _events_tabbed(state, h)
        )
    return "\n".join(lines + tabwrite(tail + _events_tabbed(state, h)).splitlines())


def describe_service(state: ClusterState, svc: Service) -> str:
    """describeService (kubectl describe.go) through Go's tabwriter: each port with its
    endpoints (the first three, then "+ N more..."), the load balancer's address, the policies."""
    from .controllers.endpoints import target_port

    spec = svc.spec
    sel = spec.get("selector") or {}
    stype = spec.get("type", "ClusterIP")
    lines = [
        f"Name:\t{svc.name}",
        f"Namespace:\t{svc.namespace}",
        *_multiline("Labels", svc.labels),
        *_multiline("Annotations", svc.annotations),
        f"Selector:\t{','.join(f'{k}={v}' for k, v in sorted(sel.items())) or '<none>'}",
        f"Type:\t{stype}",
        "IP Family Policy:\tSingleStack",
        "IP Families:\tIPv4",
        f"IP:\t{spec.get('clusterIP', '')}",
        f"IPs:\t{spec.get('clusterIP', '')}",
    ]
    ingress = (svc.status.get("loadBalancer") or {}).get("ingress") or []
    if ingress:
        shown = ", ".join(
            (i["ip"] + (f" ({i['ipMode']})" if i.get("ipMode") else ""))
            if i.get("ip")
            else i.get("hostname", "")
            for i in ingress
        )
        lines.append(f"LoadBalancer Ingress:\t{shown}")
    ready = sorted(
        (
            p
            for p in state.pods.values()
            if p.namespace == svc.namespace
            and p.ip
            and p.deleted is None
            and p.ready
            and sel
            and map_matches(sel, p.labels)
        ),
        key=lambda p: tuple(map(int, p.ip.split("."))),
    )

    def endpoints(sp: dict[str, Any]) -> str:
        if not sel:
            eps = svc.endpoints  # no selector: whatever endpoints were written by hand
            return (
                ",".join(eps[:3]) + (f" + {len(eps) - 3} more..." if len(eps) > 3 else "")
                or "<none>"
            )
        found = [f"{p.ip}:{tp}" for p in ready if (tp := target_port(sp, p)) is not None]
        return ",".join(found[:3]) + (f" + {len(found) - 3} more..." if len(found) > 3 else "")

    for sp in spec.get("ports") or []:
        name = sp.get("name") or "<unset>"
        proto = sp.get("protocol", "TCP")
        lines.append(f"Port:\t{name}\t{sp.get('port')}/{proto}")
        lines.append(f"TargetPort:\t{sp.get('targetPort', sp.get('port'))}/{proto}")
        if sp.get("nodePort"):
            lines.append(f"NodePort:\t{name}\t{sp['nodePort']}/{proto}")
        lines.append(f"Endpoints:\t{endpoints(sp)}")
    if not spec.get("ports"):
        lines.append(f"Endpoints:\t{','.join(svc.endpoints[:3]) or '<none>'}")
    lines.append(f"Session Affinity:\t{spec.get('sessionAffinity', 'None')}")
    if stype in ("NodePort", "LoadBalancer"):
        lines.append(f"External Traffic Policy:\t{spec.get('externalTrafficPolicy', 'Cluster')}")
    lines.append(f"Internal Traffic Policy:\t{spec.get('internalTrafficPolicy', 'Cluster')}")
    lines += _events_tabbed(state, svc)
    return tabwrite(lines)


def tabwrite(lines: list[str], padding: int = 2) -> str:
    """Go's text/tabwriter as ``kubectl describe`` uses it (minwidth 0, padding 2, spaces).

    A cell is text ended by a tab; a column's width is set per *block* of consecutive lines that
    have a cell in that column, so a line without one (``Rules:``) starts the alignment afresh.
    """
    cells = [line.split("\t") for line in lines]
    widths: list[dict[int, int]] = [{} for _ in cells]

    def block(first: int, last: int, col: int) -> None:
        i = first
        while i < last:
            if len(cells[i]) - 1 <= col:
                i += 1
                continue
            j = i
            width = 0
            while j < last and len(cells[j]) - 1 > col:
                width = max(width, len(cells[j][col]) + padding)
                j += 1
            for k in range(i, j):
                widths[k][col] = width
            block(i, j, col + 1)
            i = j

    block(0, len(cells), 0)
    out = []
    for row, w in zip(cells, widths, strict=True):
        # A cell is padded even when nothing follows it (Go keeps those trailing spaces too).
        out.append("".join(c.ljust(w[i]) for i, c in enumerate(row[:-1])) + row[-1])
    return "\n".join(out)


def _multiline(title: str, m: dict[str, Any]) -> list[str]:
    """printLabelsMultiline / printAnnotationsMultiline: first pair beside the title, then one
    per line; labels ``key=value``, annotations ``key: value``, last-applied left out."""
    if title.strip() == "Annotations":
        m = {k: v for k, v in m.items() if k != "kubectl.kubernetes.io/last-applied-configuration"}
    if not m:
        return [f"{title}:\t<none>"]
    sep = ": " if title.strip() == "Annotations" else "="
    items = sorted(m.items())
    indent = title[: len(title) - len(title.lstrip())]
    return [f"{title}:\t{items[0][0]}{sep}{items[0][1]}"] + [
        f"{indent}\t{k}{sep}{v}" for k, v in items[1:]
    ]


def _ingress_backend(state: ClusterState, namespace: str, backend: dict[str, Any]) -> str:
    """describeBackendV1: ``svc:port (endpoints)``, the endpoints of that Service port."""
    from .controllers.endpoints import target_port

    if "resource" in backend:
        r = backend["resource"] or {}
        return f"APIGroup: {r.get('apiGroup') or '<none>'}, Kind: {r.get('kind')}, Name: {r.get('name')}"
    ref = backend.get("service") or {}
    port = ref.get("port") or {}
    text = f"{ref.get('name')}:{port.get('number') or port.get('name', '')}"
    svc = state.services.get((namespace, ref.get("name")))
    if svc is None:
        return f'{text} (<error: services "{ref.get("name")}" not found>)'
    ports = svc.spec.get("ports") or []
    named = [
        p
        for p in ports
        if (port.get("number") and p.get("port") == port.get("number"))
        or (port.get("name") and p.get("name") == port.get("name"))
    ]
    chosen = named or [p for p in ports if not p.get("name")]
    if not svc.spec.get("selector"):
        # No selector: no EndpointSlice unless someone wrote one (kubectl says <none>).
        eps = svc.endpoints
        return f"{text} ({','.join(eps[:3]) if eps else '<none>'})"
    found: list[str] = []
    for pod in sorted(
        state.pods.values(), key=lambda q: tuple(map(int, (q.ip or "0.0.0.0").split(".")))
    ):
        if pod.namespace != namespace or not pod.ip or pod.deleted is not None or not pod.ready:
            continue
        if not map_matches(svc.spec["selector"], pod.labels):
            continue
        for sp in chosen:
            tp = target_port(sp, pod)
            if tp is not None:
                found.append(f"{pod.ip}:{tp}")
    # formatEndpointSlices: the first three, then "+ N more..."; a selector's slice may be empty.
    eps = ",".join(found[:3]) + (f" + {len(found) - 3} more..." if len(found) > 3 else "")
    return f"{text} ({eps})"


def describe_ingress(state: ClusterState, g: KObject) -> str:
    """kubectl describe ingress (describe.go describeIngressV1), through Go's tabwriter."""
    spec = g.spec
    address = ",".join(
        i.get("ip") or i.get("hostname", "")
        for i in (g.status.get("loadBalancer") or {}).get("ingress") or []
    )
    default = "<default>"
    if spec.get("defaultBackend"):
        default = _ingress_backend(state, g.namespace, spec["defaultBackend"])
    lines = [f"Name:\t{g.name}", *_multiline("Labels", g.labels), f"Namespace:\t{g.namespace}"]
    lines += [
        f"Address:\t{address}",
        f"Ingress Class:\t{spec.get('ingressClassName') or '<none>'}",
        f"Default backend:\t{default}",
    ]
    if spec.get("tls"):
        lines.append("TLS:")
        for t in spec["tls"]:
            hosts = ",".join(t.get("hosts") or [])
            lines.append(
                f"  {t['secretName']} terminates {hosts}"
                if t.get("secretName")
                else f"  SNI routes {hosts}"
            )
    lines += ["Rules:", "  Host\tPath\tBackends", "  ----\t----\t--------"]
    count = 0
    for rule in spec.get("rules") or []:
        if not rule.get("http"):
            continue
        count += 1
        lines.append(f"  {rule.get('host') or '*'}\t")
        for path in rule["http"].get("paths") or []:
            backend = _ingress_backend(state, g.namespace, path.get("backend") or {})
            lines.append(f"    \t{path.get('path', '')} \t{backend}")
    if count == 0:
        lines.append(f"  *\t*\t{default}")
    annotations = {
        k: v
        for k, v in g.annotations.items()
        if k != "kubectl.kubernetes.io/last-applied-configuration"
    }
    lines += _multiline("Annotations", annotations)
    lines += _events_tabbed(state, g)
    return tabwrite(lines)


def _events_tabbed(state: ClusterState, obj: KObject) -> list[str]:
    """DescribeEvents as tab-separated lines, for a describer that runs through ``tabwrite``."""
    evs = sorted(state.events_for(obj), key=lambda e: (e.first, e.seq))
    if not evs:
        return ["Events:\t<none>"]
    out = ["Events:", "  Type\tReason\tAge\tFrom\tMessage", "  ----\t------\t----\t----\t-------"]
    for e in evs:
        age = (
            human_duration(state.now - e.first)
            if e.count == 1
            else f"{human_duration(state.now - e.last)} (x{e.count} over {human_duration(state.now - e.first)})"
        )
        out.append(f"  {e.type}\t{e.reason}\t{age}\t{e.source}\t{e.message}")
    return out


def describe_ingressclass(state: ClusterState, obj: KObject) -> str:
    """describeIngressClassV1."""
    lines = [f"Name:\t{obj.name}", *_multiline("Labels", obj.labels)]
    lines += [
        *_multiline("Annotations", obj.annotations),
        f"Controller:\t{obj.spec['controller']}",
    ]
    return tabwrite(lines + _events_tabbed(state, obj))


def describe_namespace(state: ClusterState, obj: KObject) -> str:
    """kubectl describe namespace (describe.go describeNamespace), with its quota and limits."""
    from .apiserver import quota

    w = 14
    return "\n".join(
        [
            f"{'Name:':<{w}}{obj.name}",
            *_map_lines("Labels:", obj.labels, w),
            *_map_lines(
                "Annotations:",
                {
                    k: v
                    for k, v in obj.annotations.items()
                    if k != "kubectl.kubernetes.io/last-applied-configuration"
                },
                w,
            ),
            f"{'Status:':<{w}}{obj.status.get('phase', 'Active')}",
            *quota.describe_lines(state, obj),
        ]
    )
