"""The kubelet: one per node, it runs the pods bound to its node.

Sandbox → (image pull, serialised per node) → create → start, for each container in
order; readiness and liveness probes; crash restarts with the 10 s → 300 s back-off;
image pull back-off; graceful termination. A node whose kubelet is stopped does nothing:
its pods keep the status they last had, exactly as the API server would show them.
Status fields keep Kubernetes' shapes (``containerStatuses[].state.waiting.reason`` …) with
times as simulated seconds.
"""

from __future__ import annotations

import hashlib
from typing import Any

from .kinds import Node, Pod
from .registry import InvalidImageName, behaviour, normalized, parse_image, pull
from .state import ClusterState

SOURCE = "kubelet"
SANDBOX_SECONDS = 0.8
PULL_LATENCY = 0.6
PULL_BYTES_PER_SECOND = 40_000_000
PULL_FAIL_SECONDS = 1.2
CREATE_SECONDS = 0.3
SYNC_SECONDS = 1.0  # the kubelet's next pod sync after a container state change
BACKOFF_INITIAL = 10.0
BACKOFF_MAX = 300.0
BACKOFF_RESET = 600.0  # a container that ran 10 minutes resets its back-off


def fmt_pod(pod: Pod) -> str:
    """``format.Pod``: name_namespace(uid)."""
    return f"{pod.name}_{pod.namespace}({pod.uid})"


def fmt_secs(s: float) -> str:
    """Go's ``time.Duration.String()`` for the pull duration."""
    if s < 1:
        return f"{round(s * 1000)}ms"
    text = f"{s:.3f}".rstrip("0").rstrip(".")
    return f"{text}s"


def pull_policy(container: dict[str, Any]) -> str:
    policy = container.get("imagePullPolicy")
    if policy:
        return str(policy)
    image = str(container.get("image") or "")
    tag = image.rsplit("/", 1)[-1]
    if "@" in image:
        return "IfNotPresent"
    return "Always" if ":" not in tag or tag.endswith(":latest") else "IfNotPresent"


def _ensure_status(state: ClusterState, node: Node, pod: Pod) -> None:
    st = pod.status
    st["phase"] = "Pending"
    st["hostIP"] = node.internal_ip
    st["hostIPs"] = [{"ip": node.internal_ip}]
    st["startTime"] = state.now
    conds = [c for c in st.get("conditions") or [] if c["type"] == "PodScheduled"]
    has_init = bool(pod.spec.get("initContainers"))
    base = [
        {"type": "PodReadyToStartContainers", "status": "False", "lastTransitionTime": state.now},
        {
            "type": "Initialized",
            "status": "False" if has_init else "True",
            "lastTransitionTime": state.now,
        },
        {"type": "Ready", "status": "False", "lastTransitionTime": state.now},
        {"type": "ContainersReady", "status": "False", "lastTransitionTime": state.now},
    ]
    if has_init:
        base[1]["reason"] = "ContainersNotInitialized"
        base[1]["message"] = (
            f"containers with incomplete status: [{' '.join(c['name'] for c in pod.spec['initContainers'])}]"
        )
    for c in base[2:]:
        c["reason"] = "ContainersNotReady"
        c["message"] = (
            "containers with unready status: ["
            + " ".join(c2["name"] for c2 in pod.spec.get("containers") or [])
            + "]"
        )
    st["conditions"] = base + conds
    if has_init:
        st["initContainerStatuses"] = [
            _waiting_status(c, "PodInitializing") for c in pod.spec["initContainers"]
        ]
    st["containerStatuses"] = [
        _waiting_status(c, "PodInitializing" if has_init else "ContainerCreating")
        for c in pod.spec.get("containers") or []
    ]


def _waiting_status(c: dict[str, Any], reason: str) -> dict[str, Any]:
    return {
        "name": c["name"],
        "image": c.get("image", ""),
        "imageID": "",
        "ready": False,
        "started": False,
        "restartCount": 0,
        "state": {"waiting": {"reason": reason}},
        "lastState": {},
    }


def _alloc_ip(state: ClusterState, node: Node) -> str:
    cidr = node.spec.get("podCIDR", "10.244.0.0/24")
    prefix = cidr.split("/")[0].rsplit(".", 1)[0]
    used = {p.ip for p in state.pods_on(node.name)}
    nxt = int(node.sim.get("ipNext", 2))
    for i in range(253):
        host = 2 + (nxt - 2 + i) % 253
        ip = f"{prefix}.{host}"
        if ip not in used:
            node.sim["ipNext"] = host + 1
            state.touch_quiet(node)
            return ip
    return f"{prefix}.254"


def _set_cond(
    pod: Pod, ctype: str, status: str, now: float, reason: str = "", message: str = ""
) -> bool:
    for c in pod.status.get("conditions") or []:
        if c["type"] == ctype:
            if c["status"] == status and c.get("reason", "") == reason:
                return False
            if c["status"] != status:
                c["lastTransitionTime"] = now
            c["status"] = status
            if reason:
                c["reason"] = reason
                c["message"] = message
            else:
                c.pop("reason", None)
                c.pop("message", None)
            return True
    return False


class PodSync:
    """One sync of one pod by its node's kubelet."""

    def __init__(self, state: ClusterState, node: Node, pod: Pod) -> None:
        self.state = state
        self.node = node
        self.pod = pod
        self.now = state.now
        self.kl: dict[str, Any] = pod.sim.setdefault("kl", {})
        self.wake: float | None = None
        self.changed = False

    def at(self, t: float) -> None:
        self.wake = t if self.wake is None else min(self.wake, t)

    def event(
        self, type_: str, reason: str, message: str, container: str = "", init: bool = False
    ) -> None:
        fp = (
            f"spec.{'initContainers' if init else 'containers'}{{{container}}}" if container else ""
        )
        self.state.record(self.pod, type_, reason, message, SOURCE, field_path=fp)

    # ----- entry ------------------------------------------------------------------------------
    def run(self) -> None:
        pod, kl = self.pod, self.kl
        if pod.deleted is not None:
            self.terminate()
        elif pod.terminal:
            return
        elif "stage" not in kl:
            _ensure_status(self.state, self.node, pod)
            kl["stage"] = "sandbox"
            kl["until"] = self.now + SANDBOX_SECONDS
            self.changed = True
            self.at(kl["until"])
        else:
            self.progress()
        if self.changed:
            self.state.touch(pod)
        key = pod.key
        if pod.key in self.state.pods:
            if self.wake is not None:
                self.state.set_timer("kubelet", key, self.wake)
            else:
                self.state.clear_timer("kubelet", key)

    def progress(self) -> None:
        pod, kl = self.pod, self.kl
        if kl["stage"] == "sandbox":
            if self.now + 1e-9 < kl["until"]:
                self.at(kl["until"])
                return
            ip = _alloc_ip(self.state, self.node)
            pod.status["podIP"] = ip
            pod.status["podIPs"] = [{"ip": ip}]
            _set_cond(pod, "PodReadyToStartContainers", "True", self.now)
            kl["stage"] = "init" if pod.spec.get("initContainers") else "run"
            kl["c"] = {}
            self.changed = True
        if kl["stage"] == "init":
            self.run_init()
        if kl["stage"] == "run":
            for i, spec in enumerate(pod.spec.get("containers") or []):
                self.step_container(spec, pod.status["containerStatuses"][i], init=False)
            self.update_pod_status()

    # ----- init containers ----------------------------------------------------------------------
    def run_init(self) -> None:
        pod, kl = self.pod, self.kl
        inits = pod.spec.get("initContainers") or []
        statuses = pod.status.setdefault("initContainerStatuses", [])
        for i, spec in enumerate(inits):
            cs = statuses[i]
            term = cs["state"].get("terminated")
            if term and term.get("exitCode") == 0:
                continue
            self.step_container(spec, cs, init=True)
            term = cs["state"].get("terminated")
            if term and term.get("exitCode") == 0:
                continue
            return
        kl["stage"] = "run"
        _set_cond(pod, "Initialized", "True", self.now)
        for cs in pod.status["containerStatuses"]:
            cs["state"] = {"waiting": {"reason": "ContainerCreating"}}
        self.changed = True

    # ----- one container ----------------------------------------------------------------------
    def step_container(self, spec: dict[str, Any], cs: dict[str, Any], init: bool) -> None:
        name = spec["name"]
        c = self.kl["c"].setdefault(("i:" if init else "") + name, {"st": "pending"})
        for _ in range(8):  # a few transitions may fall due at the same instant
            before = c["st"]
            self._step(spec, cs, c, init)
            if c["st"] == before:
                break

    def _step(
        self, spec: dict[str, Any], cs: dict[str, Any], c: dict[str, Any], init: bool
    ) -> None:
        now, name, image = self.now, spec["name"], str(spec.get("image") or "")
        st = c["st"]
        due = c.get("t", 0.0)
        if st == "running" and due is None:  # a server: runs until stopped
            self.check_probes(spec, cs, c, init)
            return
        if (
            st in ("pulling", "creating", "errpull", "pullbackoff", "running", "exited", "backoff")
            and now + 1e-9 < due
        ):
            self.at(due)
            if st == "running":
                self.check_probes(spec, cs, c, init)
            return
        if st == "pending":
            try:
                ref = parse_image(image)
            except InvalidImageName as e:
                self.waiting(
                    cs, "InvalidImageName", f'Failed to apply default image tag "{image}": {e}'
                )
                if not c.get("invalidReported"):
                    c["invalidReported"] = True
                    self.event(
                        "Warning",
                        "InspectFailed",
                        f'Failed to apply default image tag "{image}": {e}',
                        name,
                        init,
                    )
                    self.event("Warning", "Failed", "Error: InvalidImageName", name, init)
                return
            images = self.node.sim.setdefault("images", {})
            policy = pull_policy(spec)
            present = ref.full in images
            if policy == "Never" and not present:
                self.waiting(
                    cs,
                    "ErrImageNeverPull",
                    f'Container image "{image}" is not present with pull policy of Never',
                )
                if not c.get("neverReported"):
                    c["neverReported"] = True
                    self.event(
                        "Warning",
                        "ErrImageNeverPull",
                        f'Container image "{image}" is not present with pull policy of Never',
                        name,
                        init,
                    )
                    self.event("Warning", "Failed", "Error: ErrImageNeverPull", name, init)
                return
            if present and policy != "Always":
                self.event(
                    "Normal",
                    "Pulled",
                    f'Container image "{image}" already present on machine',
                    name,
                    init,
                )
                c["st"], c["t"] = "creating", now + CREATE_SECONDS
                self.at(c["t"])
                return
            busy = float(self.node.sim.get("pullBusyUntil", 0.0))
            if busy > now + 1e-9:  # serializeImagePulls: wait for the node's current pull
                self.at(busy)
                return
            result = pull(ref)
            if result.ok:
                size = result.size
                dur = PULL_LATENCY if present else PULL_LATENCY + size / PULL_BYTES_PER_SECOND
                c.update(st="pulling", t=now + dur, ok=True, size=size, began=now, ref=ref.full)
            else:
                c.update(
                    st="pulling", t=now + PULL_FAIL_SECONDS, ok=False, err=result.error, began=now
                )
            self.node.sim["pullBusyUntil"] = c["t"]
            self.state.touch_quiet(self.node)
            self.event("Normal", "Pulling", f'Pulling image "{image}"', name, init)
            self.at(c["t"])
            return
        if st == "pulling":
            if c.get("ok"):
                images = self.node.sim.setdefault("images", {})
                if c["ref"] not in images:
                    images[c["ref"]] = c["size"]
                    self.state.image_nodes[c["ref"]] = self.state.image_nodes.get(c["ref"], 0) + 1
                    self.state.touch_quiet(self.node)
                took = fmt_secs(now - c["began"])
                self.event(
                    "Normal",
                    "Pulled",
                    f'Successfully pulled image "{image}" in {took} ({took} including waiting). Image size: {c["size"]} bytes.',
                    name,
                    init,
                )
                c["pullBackoff"] = 0
                c["st"], c["t"] = "creating", now + CREATE_SECONDS
                self.at(c["t"])
            else:
                err = c["err"]
                self.event(
                    "Warning", "Failed", f'Failed to pull image "{image}": {err}', name, init
                )
                self.event("Warning", "Failed", "Error: ErrImagePull", name, init)
                self.waiting(cs, "ErrImagePull", err)
                backoff = min(max(float(c.get("pullBackoff", 0)) * 2, BACKOFF_INITIAL), BACKOFF_MAX)
                c["pullBackoff"] = backoff
                c["failedAt"] = now
                c["st"], c["t"] = "errpull", now + SYNC_SECONDS
                self.at(c["t"])
            return
        if st == "errpull":
            self.event("Normal", "BackOff", f'Back-off pulling image "{image}"', name, init)
            self.event("Warning", "Failed", "Error: ImagePullBackOff", name, init)
            self.waiting(
                cs,
                "ImagePullBackOff",
                f'Back-off pulling image "{image}": ErrImagePull: {c.get("err", "")}',
            )
            c["st"], c["t"] = "pullbackoff", c["failedAt"] + c["pullBackoff"]
            self.at(c["t"])
            return
        if st == "pullbackoff":
            c["st"] = "pending"
            return
        if st == "creating":
            self.event("Normal", "Created", f"Created container: {name}", name, init)
            self.event("Normal", "Started", f"Started container {name}", name, init)
            beh = behaviour(spec)
            c.update(st="running", started=now, serves=beh.serves, code=beh.exit_code)
            cs["state"] = {"running": {"startedAt": now}}
            cs["started"] = True
            repo = normalized(image).split("@")[0].rsplit(":", 1)[0]
            cs["imageID"] = f"{repo}@sha256:{hashlib.sha256(image.encode()).hexdigest()}"
            cs["containerID"] = f"containerd://{self.state.rng.getrandbits(64):016x}"
            ready_probe = spec.get("readinessProbe")
            cs["ready"] = ready_probe is None and not init
            if init:
                cs["ready"] = False
            if not beh.serves:
                # PLEG relists every second: a process that exits sooner is never seen running.
                c["t"] = now + (beh.run_seconds if beh.run_seconds >= SYNC_SECONDS else 0.0)
                self.at(c["t"])
            else:
                c["t"] = None
            c["probeAt"] = (
                now + float((ready_probe or {}).get("initialDelaySeconds", 0))
                if ready_probe
                else None
            )
            live = spec.get("livenessProbe")
            c["liveAt"] = (
                now
                + float(live.get("initialDelaySeconds", 0))
                + float(live.get("periodSeconds", 10))
                if live
                else None
            )
            c["liveFails"] = 0
            self.changed = True
            self.check_probes(spec, cs, c, init)
            return
        if st == "running":
            # The container's process exited.
            code = int(c.get("code", 0))
            self.terminated(cs, code, "Completed" if code == 0 else "Error", c["started"])
            c["st"], c["t"] = "exited", now + SYNC_SECONDS
            c["exitedAt"] = now
            self.at(c["t"])
            return
        if st == "exited":
            restart = self.pod.spec.get("restartPolicy", "Always")
            code = int(cs["state"].get("terminated", {}).get("exitCode", 0))
            if init and code == 0:
                return
            if restart == "Never" or (restart == "OnFailure" and code == 0):
                c["st"] = "done"
                return
            # doBackOff: restart at once the first time, then wait 10 s, 20 s, … 300 s.
            exited = c.get("exitedAt", now)
            ran = exited - c.get("started", exited)
            backoff = float(c.get("backoff", 0))
            if ran >= BACKOFF_RESET:
                backoff = 0
            if backoff and now + 1e-9 < exited + backoff:
                c["st"], c["t"] = "backoff", exited + backoff
                self.event(
                    "Warning",
                    "BackOff",
                    f"Back-off restarting failed container {name} in pod {fmt_pod(self.pod)}",
                    name,
                    init,
                )
                last = cs["state"].get("terminated")
                if last:
                    cs["lastState"] = {"terminated": last}
                secs = (
                    f"{int(backoff)}s"
                    if backoff < 60
                    else f"{int(backoff // 60)}m{int(backoff % 60)}s".replace("m0s", "m0s")
                )
                cs["state"] = {
                    "waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": f"back-off {secs} restarting failed container={name} pod={fmt_pod(self.pod)}",
                    }
                }
                cs["ready"] = False
                self.changed = True
                self.at(c["t"])
                return
            c["backoff"] = min(max(backoff * 2, BACKOFF_INITIAL), BACKOFF_MAX)
            self.restart(cs, c)
            return
        if st == "backoff":
            c["backoff"] = min(max(float(c.get("backoff", 0)) * 2, BACKOFF_INITIAL), BACKOFF_MAX)
            self.restart(cs, c)
            return

    def restart(self, cs: dict[str, Any], c: dict[str, Any]) -> None:
        last = cs["state"].get("terminated") or (cs.get("lastState") or {}).get("terminated")
        if last:
            cs["lastState"] = {"terminated": last}
        cs["restartCount"] = int(cs.get("restartCount", 0)) + 1
        c["st"] = "pending"
        self.changed = True

    def waiting(self, cs: dict[str, Any], reason: str, message: str = "") -> None:
        w: dict[str, Any] = {"reason": reason}
        if message:
            w["message"] = message
        if cs["state"] != {"waiting": w}:
            cs["state"] = {"waiting": w}
            cs["ready"] = False
            self.changed = True

    def terminated(self, cs: dict[str, Any], code: int, reason: str, started: float) -> None:
        cs["state"] = {
            "terminated": {
                "exitCode": code,
                "reason": reason,
                "startedAt": started,
                "finishedAt": self.now,
            }
        }
        cs["ready"] = False
        cs["started"] = False
        self.changed = True

    # ----- probes -----------------------------------------------------------------------------
    def probe(self, probe: dict[str, Any], spec: dict[str, Any]) -> tuple[bool, str]:
        beh = behaviour(spec)
        ip = self.pod.ip
        ports = set(beh.ports)
        for p in spec.get("ports") or []:
            if beh.serves and p.get("containerPort") in beh.ports:
                ports.add(int(p["containerPort"]))

        def resolve(port: Any) -> int | None:
            if isinstance(port, int):
                return port
            for p in spec.get("ports") or []:
                if p.get("name") == port:
                    return int(p["containerPort"])
            return None

        if "httpGet" in probe:
            hg = probe["httpGet"]
            port = resolve(hg.get("port"))
            path = hg.get("path") or "/"
            scheme = (hg.get("scheme") or "HTTP").lower()
            if port is None or port not in ports:
                return (
                    False,
                    f'Get "{scheme}://{ip}:{port}{path}": dial tcp {ip}:{port}: connect: connection refused',
                )
            if beh.paths is not None and path not in beh.paths:
                return False, "HTTP probe failed with statuscode: 404"
            return True, ""
        if "tcpSocket" in probe:
            port = resolve(probe["tcpSocket"].get("port"))
            if port is None or port not in ports:
                return False, f"dial tcp {ip}:{port}: connect: connection refused"
            return True, ""
        if "grpc" in probe:
            port = probe["grpc"].get("port")
            if port not in ports:
                return (
                    False,
                    f'timeout: failed to connect service "{ip}:{port}" within 1s: context deadline exceeded',
                )
            return True, ""
        if "exec" in probe:
            cmd = " ".join(str(x) for x in probe["exec"].get("command") or [])
            if "exit 1" in cmd or cmd.strip() in ("false", "/bin/false"):
                return False, ""
            return True, ""
        return True, ""

    def check_probes(
        self, spec: dict[str, Any], cs: dict[str, Any], c: dict[str, Any], init: bool
    ) -> None:
        if init:
            return
        now = self.now
        rp = spec.get("readinessProbe")
        if rp is not None and c.get("probeAt") is not None:
            if now + 1e-9 >= c["probeAt"]:
                ok, detail = self.probe(rp, spec)
                if ok:
                    if not cs.get("ready"):
                        cs["ready"] = True
                        self.changed = True
                    c["probeAt"] = None
                else:
                    self.event(
                        "Warning", "Unhealthy", f"Readiness probe failed: {detail}", spec["name"]
                    )
                    c["probeAt"] = now + float(rp.get("periodSeconds", 10))
                    self.at(c["probeAt"])
            else:
                self.at(c["probeAt"])
        lp = spec.get("livenessProbe")
        if lp is not None and c.get("liveAt") is not None:
            if now + 1e-9 >= c["liveAt"]:
                ok, detail = self.probe(lp, spec)
                period = float(lp.get("periodSeconds", 10))
                if ok:
                    c["liveAt"] = None  # the result does not change while the container runs
                else:
                    c["liveFails"] = int(c.get("liveFails", 0)) + 1
                    self.event(
                        "Warning", "Unhealthy", f"Liveness probe failed: {detail}", spec["name"]
                    )
                    if c["liveFails"] >= int(lp.get("failureThreshold", 3)):
                        self.event(
                            "Normal",
                            "Killing",
                            f"Container {spec['name']} failed liveness probe, will be restarted",
                            spec["name"],
                        )
                        c["code"] = 137
                        c["t"] = now + 0.5
                        c["liveAt"] = None
                        self.at(c["t"])
                    else:
                        c["liveAt"] = now + period
                        self.at(c["liveAt"])
            else:
                self.at(c["liveAt"])

    # ----- pod status -------------------------------------------------------------------------
    def update_pod_status(self) -> None:
        pod = self.pod
        statuses = pod.status.get("containerStatuses") or []
        waiting = running = stopped = 0
        for cs in statuses:
            state = cs["state"]
            if "running" in state:
                running += 1
            elif "terminated" in state:
                stopped += 1
            elif "waiting" in state:
                if (cs.get("lastState") or {}).get("terminated"):
                    stopped += 1
                else:
                    waiting += 1
        phase = pod.status.get("phase", "Pending")
        if waiting > 0:
            new_phase = "Pending" if phase == "Pending" else phase
            if phase == "Running":
                new_phase = "Running"
        elif running > 0:
            new_phase = "Running"
        elif stopped > 0:
            policy = pod.spec.get("restartPolicy", "Always")
            codes = [cs["state"].get("terminated", {}).get("exitCode") for cs in statuses]
            if policy == "Always" or any(c is None for c in codes):
                new_phase = "Running"
            elif all(code == 0 for code in codes):
                new_phase = "Succeeded"
            elif policy == "Never":
                new_phase = "Failed"
            else:
                new_phase = "Running"
        else:
            new_phase = phase
        if new_phase != phase:
            pod.status["phase"] = new_phase
            self.changed = True
        all_ready = bool(statuses) and all(cs.get("ready") for cs in statuses)
        names = " ".join(cs["name"] for cs in statuses if not cs.get("ready"))
        if all_ready:
            ch = _set_cond(pod, "ContainersReady", "True", self.now)
            ch |= _set_cond(pod, "Ready", "True", self.now)
        else:
            msg = f"containers with unready status: [{names}]"
            ch = _set_cond(pod, "ContainersReady", "False", self.now, "ContainersNotReady", msg)
            ch |= _set_cond(pod, "Ready", "False", self.now, "ContainersNotReady", msg)
        if ch:
            self.changed = True

    # ----- termination ------------------------------------------------------------------------
    def terminate(self) -> None:
        pod, kl = self.pod, self.kl
        now = self.now
        grace = float(pod.grace if pod.grace is not None else 30)
        deadline = float(pod.deleted or now) + grace
        if kl.get("stage") in (None, "sandbox"):
            self.state.remove(pod)
            return
        stopping = kl.setdefault("stopping", {})
        pending = False
        for i, spec in enumerate(pod.spec.get("containers") or []):
            cs = pod.status["containerStatuses"][i]
            name = spec["name"]
            if "running" not in cs["state"]:
                continue
            if name not in stopping:
                beh = behaviour(spec)
                stopping[name] = min(now + beh.stop_seconds, deadline)
                self.event("Normal", "Killing", f"Stopping container {name}", name)
                cs["ready"] = False
                self.changed = True
            if now + 1e-9 >= stopping[name]:
                killed = stopping[name] >= deadline - 1e-9 and behaviour(spec).stop_seconds > grace
                code = 137 if killed else 0
                self.terminated(
                    cs,
                    code,
                    "Error" if killed else "Completed",
                    cs["state"]["running"].get("startedAt", now),
                )
            else:
                pending = True
                self.at(stopping[name])
        if not pending:
            self.state.remove(pod)
            return
        self.update_ready_on_termination()

    def update_ready_on_termination(self) -> None:
        if _set_cond(self.pod, "Ready", "False", self.now):
            self.changed = True


def run(state: ClusterState) -> None:
    for key in state.take("kubelet"):
        pod = state.pods.get(key)
        if pod is None or not pod.node_name:
            continue
        node = state.nodes.get(pod.node_name)
        if node is None or not node.kubelet_running:
            continue
        PodSync(state, node, pod).run()
        state.activity.add(f"kubelet/{node.name}")
