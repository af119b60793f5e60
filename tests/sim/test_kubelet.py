"""Kubelet: image pulls, start, crash back-off, probes, termination (pkg/kubelet)."""

from __future__ import annotations

from kubelab.sim import actions
from kubelab.sim.printers import pod_columns
from kubelab.sim.registry import parse_image

from .helpers import apply, cluster, deployment_yaml, run_until, workers


def only_pod(st):
    pods = [p for p in st.pods.values() if p.deleted is None]
    assert len(pods) == 1
    return pods[0]


def statuses_over_time(st, until: float, step: float = 0.5) -> list[str]:
    seen: list[str] = []
    t = st.now
    while t < until:
        t += step
        run_until(st, t)
        s = pod_columns(only_pod(st), st.now)[1]
        if not seen or seen[-1] != s:
            seen.append(s)
    return seen


def test_normal_start_sequence_and_events():
    """Pending → ContainerCreating → Running with Scheduled, Pulling, Pulled, Created, Started (pkg/kubelet/images/image_manager.go, kuberuntime/kuberuntime_container.go)."""
    st = cluster(workers(1))
    apply(st, deployment_yaml(replicas=1))
    p = only_pod(st)
    assert pod_columns(p, st.now)[1] == "ContainerCreating"
    run_until(st, 10)
    assert pod_columns(p, st.now) == ("1/1", "Running", "0")
    reasons = [e.reason for e in sorted(st.events_for(p), key=lambda e: e.seq)]
    assert reasons == ["Scheduled", "Pulling", "Pulled", "Created", "Started"]
    msgs = {e.reason: e.message for e in st.events_for(p)}
    assert msgs["Pulling"] == 'Pulling image "nginx:1.27"'
    assert msgs["Pulled"].startswith('Successfully pulled image "nginx:1.27" in ')
    assert "including waiting). Image size: " in msgs["Pulled"] and msgs["Pulled"].endswith(
        " bytes."
    )
    assert msgs["Created"] == "Created container: main"
    assert msgs["Started"] == "Started container main"
    assert p.ip.startswith("10.244.")


def test_second_pod_finds_image_present():
    """IfNotPresent on a node that has the image: "Container image ... already present on machine" (pkg/kubelet/images/image_manager.go)."""
    st = cluster(workers(1))
    apply(st, deployment_yaml(replicas=1))
    run_until(st, 10)
    actions.scale(st, "default", "web", 2)
    run_until(st, 20)
    present = [
        e for e in st.events.values() if e.reason == "Pulled" and "already present" in e.message
    ]
    assert [e.message for e in present] == [
        'Container image "nginx:1.27" already present on machine'
    ]


def test_bad_image_err_image_pull_then_back_off():
    """An unknown tag: ErrImagePull, then ImagePullBackOff with retries 10 s, 20 s, 40 s apart (pkg/kubelet/kubelet.go: 10 s doubling, MaxImageBackOff 300 s)."""
    st = cluster(workers(1))
    apply(st, deployment_yaml(replicas=1, image="nginx:1.99"))
    seen = statuses_over_time(st, 120)
    assert seen[:3] == ["ContainerCreating", "ErrImagePull", "ImagePullBackOff"]
    p = only_pod(st)
    failed = [
        e
        for e in st.events_for(p)
        if e.reason == "Failed" and e.message.startswith("Failed to pull image")
    ]
    assert (
        failed
        and 'Failed to pull image "nginx:1.99": rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nginx:1.99"'
        in failed[0].message
    )
    pulling = next(e for e in st.events_for(p) if e.reason == "Pulling")
    assert pulling.count >= 4  # 0 s, then after 10, 20, 40 s of back-off
    reasons = {e.reason for e in st.events_for(p)}
    assert {"BackOff", "Failed"} <= reasons


def test_unknown_repository_message():
    """A repository that does not exist: the kubelet's Failed event carries containerd's "pull access denied" error."""
    st = cluster(workers(1))
    apply(st, deployment_yaml(replicas=1, image="nginxx"))
    run_until(st, 5)
    p = only_pod(st)
    msgs = [e.message for e in st.events_for(p) if e.reason == "Failed"]
    assert any(
        "pull access denied, repository does not exist or may require authorization" in m
        for m in msgs
    )


def test_crash_loop_back_off_doubles():
    """A container that exits: restarted at once, then after 10 s, 20 s, 40 s … with CrashLoopBackOff (pkg/kubelet/kubelet.go: 10 s doubling, MaxContainerBackOff 300 s)."""
    st = cluster(workers(1))
    apply(
        st,
        deployment_yaml(
            replicas=1,
            image="busybox:1.36",
            container_extra='\n          command: ["sh", "-c", "exit 1"]',
        ),
    )
    starts: list[float] = []
    t = 0.0
    last_restarts = -1
    while t < 200:
        t += 0.25
        run_until(st, t)
        p = only_pod(st)
        rc = p.status["containerStatuses"][0]["restartCount"]
        if rc != last_restarts:
            starts.append(st.now)
            last_restarts = rc
    gaps = [round(b - a) for a, b in zip(starts, starts[1:], strict=False)]
    assert gaps[0] <= 5  # pull, start, exit, immediate first restart
    assert gaps[1:4] == [10, 20, 40]
    ready, status, restarts = pod_columns(only_pod(st), st.now)
    assert ready == "0/1"
    assert status in ("CrashLoopBackOff", "Error")
    assert restarts.endswith(" ago)")
    backoff = [e for e in st.events_for(only_pod(st)) if e.reason == "BackOff"]
    p = only_pod(st)
    assert (
        backoff[0].message
        == f"Back-off restarting failed container main in pod {p.name}_default({p.uid})"
    )


def test_busybox_without_command_completes_and_loops():
    """busybox with no command exits 0 at once: Completed, then CrashLoopBackOff — as on a real cluster."""
    st = cluster(workers(1))
    apply(st, deployment_yaml(replicas=1, image="busybox:1.36"))
    seen = statuses_over_time(st, 40)
    assert "Completed" in seen and "CrashLoopBackOff" in seen


def test_postgres_without_password_errors():
    """postgres without POSTGRES_PASSWORD exits 1: Error then CrashLoopBackOff."""
    st = cluster(workers(1))
    apply(st, deployment_yaml(replicas=1, image="postgres:16"))
    seen = statuses_over_time(st, 60)
    assert "Error" in seen and "CrashLoopBackOff" in seen


def test_readiness_probe_on_wrong_path_never_ready():
    """A readiness probe on a path nginx does not serve: Running 0/1 and "Readiness probe failed: HTTP probe failed with statuscode: 404"."""
    probe = "\n          readinessProbe:\n            httpGet:\n              path: /healthz\n              port: 80"
    st = cluster(workers(1))
    apply(st, deployment_yaml(replicas=1, container_extra=probe))
    run_until(st, 40)
    p = only_pod(st)
    assert pod_columns(p, st.now)[:2] == ("0/1", "Running")
    msgs = {e.message for e in st.events_for(p) if e.reason == "Unhealthy"}
    assert msgs == {"Readiness probe failed: HTTP probe failed with statuscode: 404"}


def test_readiness_probe_delay_then_ready():
    """A passing readiness probe makes the pod ready after initialDelaySeconds."""
    probe = "\n          readinessProbe:\n            httpGet:\n              path: /\n              port: 80\n            initialDelaySeconds: 15"
    st = cluster(workers(1))
    apply(st, deployment_yaml(replicas=1, container_extra=probe))
    run_until(st, 10)
    assert pod_columns(only_pod(st), st.now)[0] == "0/1"
    run_until(st, 25)
    assert pod_columns(only_pod(st), st.now)[0] == "1/1"


def test_liveness_probe_wrong_port_restarts():
    """A failing liveness probe kills and restarts the container (Killing "failed liveness probe, will be restarted")."""
    probe = "\n          livenessProbe:\n            tcpSocket:\n              port: 8080"
    st = cluster(workers(1))
    apply(st, deployment_yaml(replicas=1, container_extra=probe))
    run_until(st, 60)
    p = only_pod(st)
    assert p.status["containerStatuses"][0]["restartCount"] >= 1
    assert any(
        e.reason == "Killing"
        and e.message == "Container main failed liveness probe, will be restarted"
        for e in st.events_for(p)
    )
    assert any(
        e.message.startswith("Liveness probe failed: dial tcp 10.244.")
        and e.message.endswith(":8080: connect: connection refused")
        for e in st.events_for(p)
    )


def test_graceful_termination_timing():
    """nginx stops quickly on SIGTERM; a shell sleeping as PID 1 ignores it and is killed after the 30 s grace period."""
    st = cluster(workers(1))
    apply(
        st,
        deployment_yaml(name="fast", replicas=1)
        + "---\n"
        + deployment_yaml(
            name="slow",
            replicas=1,
            image="busybox:1.36",
            container_extra='\n          command: ["sh", "-c", "sleep 3600"]',
        ),
    )
    run_until(st, 20)
    fast = next(p for p in st.pods.values() if p.name.startswith("fast"))
    slow = next(p for p in st.pods.values() if p.name.startswith("slow"))
    actions.delete(st, "Pod", "default", fast.name)
    actions.delete(st, "Pod", "default", slow.name)
    run_until(st, 22)
    assert fast.key not in st.pods
    assert slow.key in st.pods and pod_columns(slow, st.now)[1] == "Terminating"
    assert any(
        e.reason == "Killing" and e.message == "Stopping container main"
        for e in st.events_for(slow)
    )
    run_until(st, 51)
    assert slow.key not in st.pods


def test_image_references_normalise():
    """nginx, docker.io/nginx and docker.io/library/nginx:latest are one image."""
    assert parse_image("nginx").full == "docker.io/library/nginx:latest"
    assert parse_image("docker.io/nginx:1.27").full == "docker.io/library/nginx:1.27"
    assert parse_image("library/nginx:1.27").full == "docker.io/library/nginx:1.27"
    assert parse_image("registry.k8s.io/pause:3.10").full == "registry.k8s.io/pause:3.10"


def test_invalid_image_name():
    """An unparsable image reference waits with InvalidImageName."""
    st = cluster(workers(1))
    apply(st, deployment_yaml(replicas=1, image="NGINX:Latest"))
    run_until(st, 5)
    assert pod_columns(only_pod(st), st.now)[1] == "InvalidImageName"


def test_pod_ips_come_from_node_cidr():
    """Each node hands out pod IPs from its own 10.244.N.0/24."""
    st = cluster(workers(2))
    apply(st, deployment_yaml(replicas=4))
    run_until(st, 10)
    for p in st.pods.values():
        cidr = st.nodes[p.node_name].spec["podCIDR"].rsplit(".", 2)[0]
        assert p.ip.startswith(cidr + ".")
    assert len({p.ip for p in st.pods.values()}) == 4
