"""kubectl's columns: HumanDuration (apimachinery/pkg/util/duration), pod STATUS/READY/RESTARTS (printPod)
and node STATUS (printNode) of pkg/printers/internalversion/printers.go."""

from __future__ import annotations

import re

import pytest

from kubelab.sim.kinds import Node, Pod
from kubelab.sim.printers import human_duration, node_status, pod_columns, table


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (1, "1s"),
        (70, "70s"),
        (119.999, "119s"),
        (120, "2m"),
        (121, "2m1s"),
        (190, "3m10s"),
        (599.999, "9m59s"),
        (600, "10m"),
        (601, "10m"),
        (4200, "70m"),
        (179.99 * 60, "179m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 60, "3h1m"),
        (8 * 3600 + 59 * 60, "8h"),
        (47 * 3600, "47h"),
        (48 * 3600, "2d"),
        (49 * 3600, "2d1h"),
        ((8 * 24 + 2) * 3600, "8d"),
        (367 * 86400, "367d"),
        ((2 * 365 + 1) * 86400 + 3600, "2y1d"),
        ((8 * 365) * 86400 + 7200, "8y"),
        (-2, "<invalid>"),
        (0, "0s"),
    ],
)
def test_human_duration(seconds, text):
    """duration_test.go HumanDuration cases (apimachinery/pkg/util/duration)."""
    assert human_duration(seconds) == text


def node(ready: str | None, unschedulable: bool = False) -> Node:
    conds = [] if ready is None else [{"type": "Ready", "status": ready}]
    return Node(
        name="n",
        spec={"unschedulable": unschedulable},
        status={"conditions": conds, "allocatable": {"cpu": "1", "memory": "1Gi", "pods": "10"}},
    )


def test_node_status_text():
    """printNode (pkg/printers/internalversion/printers.go)."""
    assert node_status(node("Unknown", True)) == "NotReady,SchedulingDisabled"
    assert node_status(node("True", True)) == "Ready,SchedulingDisabled"
    assert node_status(node(None)) == "Unknown"
    assert node_status(node("False")) == "NotReady"


def cs(
    name: str, state: dict, ready: bool = False, restarts: int = 0, last: dict | None = None
) -> dict:
    return {
        "name": name,
        "state": state,
        "ready": ready,
        "restartCount": restarts,
        "lastState": last or {},
    }


def test_crashloop_first_container_wins():
    """First container CrashLoopBackOff, second running: CrashLoopBackOff, READY 1/2 (printPod)."""
    p = Pod(
        name="p",
        spec={"containers": [{"name": "a"}, {"name": "b"}]},
        status={
            "phase": "Running",
            "containerStatuses": [
                cs("a", {"waiting": {"reason": "CrashLoopBackOff"}}),
                cs("b", {"running": {}}, ready=True),
            ],
        },
    )
    assert pod_columns(p, 100)[:2] == ("1/2", "CrashLoopBackOff")


def test_init_progress():
    """Init container 0 of 2 not finished: Init:0/2 (printPod)."""
    p = Pod(
        name="p",
        spec={"initContainers": [{"name": "i1"}, {"name": "i2"}], "containers": [{"name": "a"}]},
        status={
            "phase": "Pending",
            "initContainerStatuses": [
                cs("i1", {"running": {}}),
                cs("i2", {"waiting": {"reason": "PodInitializing"}}),
            ],
            "containerStatuses": [cs("a", {"waiting": {"reason": "PodInitializing"}})],
        },
    )
    assert pod_columns(p, 0)[1] == "Init:0/2"


def test_terminating():
    """deletionTimestamp set, phase Running: Terminating (printPod)."""
    p = Pod(
        name="p",
        deleted=5.0,
        spec={"containers": [{"name": "a"}]},
        status={"phase": "Running", "containerStatuses": [cs("a", {"running": {}}, ready=True)]},
    )
    assert pod_columns(p, 10)[1] == "Terminating"


def test_restarts_with_age():
    """5 restarts, last one 30 s ago: "5 (30s ago)" (printPod)."""
    p = Pod(
        name="p",
        spec={"containers": [{"name": "a"}]},
        status={
            "phase": "Running",
            "containerStatuses": [
                cs(
                    "a",
                    {"running": {}},
                    ready=True,
                    restarts=5,
                    last={"terminated": {"exitCode": 1, "finishedAt": 70.0}},
                )
            ],
        },
    )
    assert pod_columns(p, 100) == ("1/1", "Running", "5 (30s ago)")


def test_table_layout():
    """Columns padded to the widest cell plus three spaces, as kubectl's tabwriter."""
    assert (
        table(["NAME", "READY"], [["web-1", "1/1"], ["w", "0/1"]])
        == "NAME    READY\nweb-1   1/1\nw       0/1"
    )


def test_describe_deployment_and_service_lay_out_like_kubectl():
    """`kubectl describe deployment|service` as kubectl 1.34 prints them (describe.go through Go's
    tabwriter, padding 2): annotations as `key: value`; the pod template's container block
    (Image, Port, Host Port, Requests, Environment, Mounts) aligned with Volumes, Node-Selectors and
    Tolerations; conditions typed `%v \\t`, so OldReplicaSets/NewReplicaSet align with that table;
    Events `<none>` aligned with the block above it; a Service's endpoints per port, three then
    "+ N more...", and External Traffic Policy for a NodePort."""
    from kubelab.sim.apiserver.apply import apply_text
    from kubelab.sim.control_loop import advance
    from kubelab.sim.kubectl import LocalApi, run

    from .helpers import cluster, deployment_yaml

    st = cluster()
    apply_text(st, deployment_yaml(name="web", replicas=5, cpu="100m"))
    apply_text(
        st,
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  type: NodePort\n"
        "  selector: {app: web}\n  ports: [{port: 80, targetPort: 80, nodePort: 30080}]\n",
    )
    advance(st, st.now + 60)
    api = LocalApi(st)
    rs = next(iter(st.replicasets.values())).name
    text = run(api, "describe deployment web").out.splitlines()
    assert text[4] == "Annotations:            deployment.kubernetes.io/revision: 1"
    assert text[10:][:14] == [
        "Pod Template:",
        "  Labels:  app=web",
        "  Containers:",
        "   main:",
        "    Image:      nginx:1.27",
        "    Port:       <none>",
        "    Host Port:  <none>",
        "    Requests:",
        "      cpu:         100m",
        "    Environment:   <none>",
        "    Mounts:        <none>",
        "  Volumes:         <none>",
        "  Node-Selectors:  <none>",
        "  Tolerations:     <none>",
    ]
    assert text[24:31] == [
        "Conditions:",
        "  Type           Status  Reason",
        "  ----           ------  ------",
        "  Available      True    MinimumReplicasAvailable",
        "  Progressing    True    NewReplicaSetAvailable",
        "OldReplicaSets:  <none>",
        f"NewReplicaSet:   {rs} (5/5 replicas created)",
    ]
    svc = run(api, "describe service web").out.splitlines()
    eps = sorted(
        (p for p in st.pods.values() if p.ready), key=lambda p: tuple(map(int, p.ip.split(".")))
    )
    assert svc[10:] == [
        "Port:                     <unset>  80/TCP",
        "TargetPort:               80/TCP",
        "NodePort:                 <unset>  30080/TCP",
        f"Endpoints:                {','.join(f'{p.ip}:80' for p in eps[:3])} + 2 more...",
        "Session Affinity:         None",
        "External Traffic Policy:  Cluster",
        "Internal Traffic Policy:  Cluster",
        "Events:                   <none>",
    ]


def test_describe_node_lays_out_like_kubectl():
    """`kubectl describe node` (describeNode through Go's tabwriter): the kubelet's Lease, the
    conditions typed `%v \\t` (a space after each cell), PodCIDR aligned with the System Info
    block above and the pods table below it, whose Name column is followed by an empty one; a
    stopped kubelet's Lease is no longer renewed."""
    from kubelab.sim import actions
    from kubelab.sim.apiserver.apply import apply_text
    from kubelab.sim.control_loop import advance
    from kubelab.sim.kubectl import LocalApi, run

    from .helpers import cluster, deployment_yaml

    st = cluster()
    apply_text(st, deployment_yaml(name="web", replicas=1, cpu="100m"))
    advance(st, st.now + 60)
    pod = next(iter(st.pods.values()))
    out = run(LocalApi(st), f"describe node {pod.node_name}").out.splitlines()
    i = out.index("Lease:")
    assert out[i + 1 : i + 3] == [
        f"  HolderIdentity:  {pod.node_name}",
        "  AcquireTime:     <unset>",
    ]
    assert out[i + 4] == ("Conditions:") and out[i + 5].startswith(
        "  Type             Status  LastHeartbeatTime "
    )
    cidr = next(x for x in out if x.startswith("PodCIDR:"))
    assert cidr.index("10.244.") == 30  # the width of "  Container Runtime Version:" + 2
    row = next(x for x in out if x.startswith("  default "))
    assert row.split()[:3] == ["default", pod.name, "100m"] and f"{pod.name}    100m" in row
    renewed = out[i + 3]
    advance(st, st.now + 15)  # a running kubelet renews every 10 s
    out = run(LocalApi(st), f"describe node {pod.node_name}").out.splitlines()
    assert out[i + 3] != renewed
    actions.fail_node(st, pod.node_name)
    advance(st, st.now + 120)
    later = run(LocalApi(st), f"describe node {pod.node_name}").out.splitlines()
    advance(st, st.now + 60)
    again = run(LocalApi(st), f"describe node {pod.node_name}").out.splitlines()
    assert again[again.index("Lease:") + 3] == later[later.index("Lease:") + 3]  # no longer renewed


def test_describe_service_without_selector():
    """labels.FormatLabels of an empty selector is `<none>`; with no EndpointSlice, `<none>`."""
    from kubelab.sim.apiserver.apply import apply_text
    from kubelab.sim.kubectl import LocalApi, run

    from .helpers import cluster

    st = cluster()
    apply_text(
        st, "apiVersion: v1\nkind: Service\nmetadata: {name: ext}\nspec:\n  ports: [{port: 80}]\n"
    )
    out = run(LocalApi(st), "describe svc ext").out.splitlines()
    assert "Selector:                 <none>" in out and "Endpoints:                <none>" in out


def test_a_pod_template_with_two_ports_says_ports_like_a_pod():
    """kubectl's describeContainerBasicInfo, shared by pods and pod templates (describe.go): once
    the joined ports contain a comma the label is "Ports" / "Host Ports"."""
    from kubelab.sim.apiserver.apply import apply_text
    from kubelab.sim.control_loop import advance
    from kubelab.sim.kubectl import LocalApi, run

    from .helpers import cluster

    st = cluster()
    apply_text(
        st,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: two}\nspec:\n  replicas: 1\n"
        "  selector: {matchLabels: {app: two}}\n  template:\n    metadata: {labels: {app: two}}\n"
        "    spec:\n      containers:\n      - name: c\n        image: nginx:1.27\n"
        "        ports: [{containerPort: 80}, {containerPort: 443}]\n",
    )
    advance(st, st.now + 30)
    api = LocalApi(st)
    for command in ("describe deployment two", f"describe pod {next(iter(st.pods.values())).name}"):
        lines = [line.strip() for line in run(api, command).out.splitlines()]
        assert any(re.fullmatch(r"Ports: +80/TCP, 443/TCP", line) for line in lines), command
        assert any(re.fullmatch(r"Host Ports: +0/TCP, 0/TCP", line) for line in lines), command
