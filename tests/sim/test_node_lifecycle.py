"""Node failure timeline: NotReady after the 50 s --node-monitor-grace-period (kubernetes/kubernetes#126287), taints, eviction after the 300 s DefaultTolerationSeconds."""

from __future__ import annotations

from kubelab.sim import actions
from kubelab.sim.kinds import get_table
from kubelab.sim.printers import node_status, pod_columns

from .helpers import apply, cluster, deployment_yaml, run_until, workers

SVC = """apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
    - port: 80
"""


def setup():
    st = cluster(workers(3), seed=1)
    apply(
        st,
        deployment_yaml(
            replicas=3, container_extra="\n          ports:\n            - containerPort: 80"
        )
        + "---\n"
        + SVC,
    )
    run_until(st, 60)
    return st


def test_node_not_ready_after_grace_period():
    """Ready=Unknown between 50 s and 55 s after the last heartbeat (grace 50 s since v1.32, monitor period 5 s)."""
    st = setup()
    actions.fail_node(st, "worker-2")
    node = st.nodes["worker-2"]
    run_until(st, 60 + 39)
    assert node_status(node) == "Ready"
    run_until(st, 60 + 65)
    assert node_status(node) == "NotReady"
    ready = node.condition("Ready")
    assert (ready["status"], ready["reason"], ready["message"]) == (
        "Unknown",
        "NodeStatusUnknown",
        "Kubelet stopped posting node status.",
    )
    taints = {(t["key"], t["effect"]) for t in node.taints}
    assert taints == {
        ("node.kubernetes.io/unreachable", "NoSchedule"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
    }
    events = [
        (e.reason, e.message, e.source) for e in st.events.values() if e.obj_name == "worker-2"
    ]
    assert (
        "NodeNotReady",
        "Node worker-2 status is now: NodeNotReady",
        "node-controller",
    ) in events


def test_pods_on_failed_node_leave_endpoints_but_keep_running_status():
    """Pods get Ready=False and a NodeNotReady event, drop out of endpoints; kubectl still prints Running (MarkPodsNotReady, pkg/controller/util/node; printPod)."""
    st = setup()
    victim = next(p for p in st.pods.values() if p.node_name == "worker-2")
    actions.fail_node(st, "worker-2")
    run_until(st, 130)
    assert victim.condition("Ready")["status"] == "False"
    assert pod_columns(victim, st.now)[1] == "Running"
    assert any(
        e.reason == "NodeNotReady" and e.message == "Node is not ready"
        for e in st.events_for(victim)
    )
    svc = st.services[("default", "web")]
    assert f"{victim.ip}:80" not in svc.endpoints
    assert len(svc.endpoints) == 2


def test_eviction_after_toleration_seconds_and_replacement():
    """300 s after the taint the pod is marked for deletion, shows Terminating, and a replacement runs elsewhere."""
    st = setup()
    victim = next(p for p in st.pods.values() if p.node_name == "worker-2")
    actions.fail_node(st, "worker-2")
    run_until(st, 115 + 299)
    assert victim.deleted is None
    run_until(st, 115 + 301)
    assert victim.deleted is not None
    assert pod_columns(victim, st.now)[1] == "Terminating"
    marks = [e.message for e in st.events_for(victim) if e.reason == "TaintManagerEviction"]
    assert marks == [f"Marking for deletion Pod default/{victim.name}"]
    run_until(st, 450)
    running = [p for p in st.pods.values() if p.deleted is None]
    assert len(running) == 3
    assert all(p.node_name != "worker-2" for p in running)
    assert all(pod_columns(p, st.now)[1] == "Running" for p in running)
    assert victim.key in st.pods  # stays Terminating while the node cannot confirm


def test_recovery_before_eviction_cancels_it():
    """A node back before tolerationSeconds run out: taints removed, deletion cancelled, pods ready again."""
    st = setup()
    victim = next(p for p in st.pods.values() if p.node_name == "worker-2")
    actions.fail_node(st, "worker-2")
    run_until(st, 200)
    actions.recover_node(st, "worker-2")
    run_until(st, 210)
    assert node_status(st.nodes["worker-2"]) == "Ready"
    assert not st.nodes["worker-2"].taints
    assert victim.ready and victim.deleted is None
    assert any(
        e.message == f"Cancelling deletion of Pod default/{victim.name}"
        for e in st.events_for(victim)
    )
    run_until(st, 800)
    assert victim.deleted is None


def test_recovery_after_eviction_finishes_terminating_pod():
    """When the node comes back the kubelet finishes deleting the evicted pod."""
    st = setup()
    victim = next(p for p in st.pods.values() if p.node_name == "worker-2")
    actions.fail_node(st, "worker-2")
    run_until(st, 500)
    actions.recover_node(st, "worker-2")
    run_until(st, 520)
    assert victim.key not in st.pods


def test_cordon_adds_unschedulable_taint_and_status():
    """Cordon: STATUS Ready,SchedulingDisabled and the node.kubernetes.io/unschedulable:NoSchedule taint (printNode, pkg/printers/internalversion/printers.go)."""
    st = setup()
    assert actions.cordon(st, "worker-1") == ["node/worker-1 cordoned"]
    assert actions.cordon(st, "worker-1") == ["node/worker-1 already cordoned"]
    run_until(st, 61)
    node = st.nodes["worker-1"]
    assert node_status(node) == "Ready,SchedulingDisabled"
    assert {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"} in [
        {k: t[k] for k in ("key", "effect")} for t in node.taints
    ]
    actions.fail_node(st, "worker-1")
    run_until(st, 200)
    assert node_status(node) == "NotReady,SchedulingDisabled"


def test_drain_evicts_and_refuses_unmanaged_pods():
    """Drain cordons, evicts controller-managed pods, refuses bare pods without --force (kubectl/pkg/drain)."""
    st = setup()
    lines = actions.drain(st, "worker-1")
    victim_lines = [line for line in lines if line.startswith("evicting pod default/")]
    assert (
        lines[0] == "node/worker-1 cordoned"
        and lines[-1] == "node/worker-1 drained"
        and len(victim_lines) == 1
    )
    bare = """apiVersion: v1
kind: Pod
metadata:
  name: bare
spec:
  nodeName: worker-3
  containers:
    - name: c
      image: nginx:1.27
"""
    apply(st, bare)
    from kubelab.sim.apiserver import ApiError

    try:
        actions.drain(st, "worker-3")
        raise AssertionError("drain should refuse")
    except ApiError as e:
        assert (
            'error: unable to drain node "worker-3" due to error: cannot delete Pods that declare no controller (use --force to override): default/bare, continuing command...'
            in e.message
        )
        assert e.message.endswith("There are pending nodes to be drained:\n worker-3")


def test_get_nodes_table_during_failure():
    """`kubectl get nodes` prints NotReady for a silent node."""
    st = setup()
    actions.fail_node(st, "worker-3")
    run_until(st, 200)
    table = get_table(st, "Node")
    assert "worker-3   NotReady   <none>" in table


def test_removed_node_pods_are_garbage_collected():
    """Deleting a Node object force-deletes its pods (pod GC), and the ReplicaSet replaces them."""
    st = setup()
    actions.remove_node(st, "worker-1")
    run_until(st, 90)
    assert all(p.node_name in ("worker-2", "worker-3") for p in st.pods.values())
    assert len(st.pods) == 3
