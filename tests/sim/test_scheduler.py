"""kube-scheduler: filter order, FailedScheduling text, scoring and decision records (pkg/scheduler)."""

from __future__ import annotations

from kubelab.sim import actions
from kubelab.sim.scheduler import failed_scheduling_message, tolerates

from .helpers import apply, cluster, deployment_yaml, run_until, workers

CP = {
    "name": "control-plane",
    "cpu": "4",
    "memory": "8Gi",
    "role": "control-plane",
    "taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}],
}


def failed_messages(state, pod_prefix: str = "") -> list[str]:
    return [
        e.message
        for e in state.events.values()
        if e.reason == "FailedScheduling" and e.obj_name.startswith(pod_prefix)
    ]


def test_failed_scheduling_message_counts_each_reason_like_fiterror():
    """Control plane tainted + two workers too small for the CPU request (FitError.Error(), pkg/scheduler/framework/types.go; v1.34 with DRA)."""
    st = cluster([CP, *workers(2, cpu="1")])
    apply(st, deployment_yaml(replicas=1, cpu="2"))
    assert failed_messages(st) == [
        "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu. no new claims to deallocate, "
        "preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod."
    ]
    pod = next(iter(st.pods.values()))
    cond = pod.condition("PodScheduled")
    assert (cond["status"], cond["reason"]) == ("False", "Unschedulable")


def test_first_failing_filter_decides_the_reason():
    """A tainted node that is also too small is reported only as tainted: TaintToleration runs before NodeResourcesFit (RunFilterPlugins, pkg/scheduler/framework/runtime/framework.go)."""
    st = cluster([dict(CP, cpu="1")])
    apply(st, deployment_yaml(replicas=1, cpu="2"))
    assert failed_messages(st)[0].startswith(
        "0/1 nodes are available: 1 node(s) had untolerated taint(s)."
    )


def test_histogram_sorts_bytewise():
    """Reasons are sorted as strings: "10 x" before "2 y", capital letters first (FitError.Error(), pkg/scheduler/framework/types.go)."""
    msg = failed_scheduling_message(
        12,
        {f"n{i}": ("NodeResourcesFit", ["Insufficient cpu"]) for i in range(10)}
        | {
            "a": ("TaintToleration", ["node(s) had untolerated taint(s)"]),
            "b": ("TaintToleration", ["node(s) had untolerated taint(s)"]),
        },
    )
    assert msg.startswith(
        "0/12 nodes are available: 10 Insufficient cpu, 2 node(s) had untolerated taint(s)."
    )


def test_both_resources_short_counts_both_reasons():
    """NodeResourcesFit reports Insufficient cpu and Insufficient memory for the same node (pkg/scheduler/framework/plugins/noderesources/fit.go)."""
    st = cluster(workers(1, cpu="1", memory="1Gi"))
    apply(st, deployment_yaml(replicas=1, cpu="2", memory="2Gi"))
    assert failed_messages(st)[0].startswith(
        "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory."
    )


def test_no_nodes_message():
    """With zero nodes the error is "no nodes available to schedule pods" (ErrNoNodesAvailable, pkg/scheduler/schedule_one.go)."""
    st = cluster([])
    apply(st, deployment_yaml(replicas=1))
    assert failed_messages(st) == ["no nodes available to schedule pods"]


def test_cordoned_node_reason_and_scheduled_event():
    """A cordoned node is rejected with "node(s) were unschedulable"; success reads "Successfully assigned ns/pod to node"."""
    st = cluster(workers(2))
    actions.cordon(st, "worker-1")
    apply(st, deployment_yaml(replicas=1))
    pod = next(iter(st.pods.values()))
    assert pod.node_name == "worker-2"
    msgs = [e.message for e in st.events.values() if e.reason == "Scheduled"]
    assert msgs == [f"Successfully assigned default/{pod.name} to worker-2"]
    record = st.decisions[pod.uid]
    rejected = {n["node"]: n for n in record["nodes"] if "filter" in n}
    assert rejected["worker-1"]["filter"] == "NodeUnschedulable"
    assert rejected["worker-1"]["reasons"] == ["node(s) were unschedulable"]
    assert record["winner"] == "worker-2"


def test_node_selector_reason():
    """nodeSelector mismatch reads "node(s) didn't match Pod's node affinity/selector" (pkg/scheduler/framework/plugins/nodeaffinity)."""
    st = cluster(workers(2))
    apply(st, deployment_yaml(replicas=1, pod_extra="\n      nodeSelector:\n        disk: ssd"))
    msg = failed_messages(st)[0]
    assert msg.startswith(
        "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector."
    )
    assert "2 Preemption is not helpful for scheduling" in msg


def test_toleration_lets_pod_onto_tainted_node():
    """A matching toleration passes TaintToleration; Exists with no key tolerates every taint."""
    assert tolerates(
        [{"key": "gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}],
        {"key": "gpu", "value": "true", "effect": "NoSchedule"},
    )
    assert tolerates([{"operator": "Exists"}], {"key": "anything", "effect": "NoExecute"})
    assert (
        tolerates(
            [{"key": "gpu", "operator": "Equal", "value": "false"}],
            {"key": "gpu", "value": "true", "effect": "NoSchedule"},
        )
        is None
    )


def test_host_port_conflict():
    """Two pods asking for the same hostPort cannot share a node (pkg/scheduler/framework/plugins/nodeports)."""
    st = cluster(workers(1))
    apply(
        st,
        deployment_yaml(
            replicas=2,
            container_extra="\n          ports:\n            - containerPort: 80\n              hostPort: 8080",
        ),
    )
    msgs = failed_messages(st)
    assert msgs[0].startswith(
        "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports."
    )
    assert "1 No preemption victims found for incoming pod." in msgs[0]


def test_pods_spread_over_equal_nodes():
    """LeastAllocated + BalancedAllocation + default spreading put 3 replicas on 3 different empty nodes (plugins/noderesources: least_allocated.go, balanced_allocation.go)."""
    st = cluster(workers(3))
    apply(st, deployment_yaml(replicas=3))
    assert sorted(p.node_name for p in st.pods.values()) == ["worker-1", "worker-2", "worker-3"]


def test_too_many_pods():
    """A node at its pod capacity answers "Too many pods" (pkg/scheduler/framework/plugins/noderesources/fit.go)."""
    st = cluster(workers(1, pods=2))
    apply(st, deployment_yaml(replicas=3, cpu=None))
    assert failed_messages(st)[0].startswith("0/1 nodes are available: 1 Too many pods.")


def test_pending_pod_scheduled_when_capacity_appears():
    """An unschedulable pod is retried when the cluster changes (a node is added)."""
    st = cluster(workers(1, cpu="1"))
    apply(st, deployment_yaml(replicas=1, cpu="2"))
    assert not next(iter(st.pods.values())).node_name
    actions.add_node(st, "worker-9", cpu="4")
    run_until(st, 1)
    assert next(iter(st.pods.values())).node_name == "worker-9"


def test_decision_record_has_scores_for_feasible_nodes():
    """The decision record lists every node: the rejecting filter or its per-plugin scores."""
    st = cluster([CP, *workers(2)])
    apply(st, deployment_yaml(replicas=1))
    pod = next(iter(st.pods.values()))
    rec = st.decisions[pod.uid]
    by_node = {n["node"]: n for n in rec["nodes"]}
    assert set(by_node) == {"control-plane", "worker-1", "worker-2"}
    assert by_node["control-plane"]["filter"] == "TaintToleration"
    assert set(by_node["worker-1"]["scores"]) == {
        "NodeResourcesFit",
        "NodeResourcesBalancedAllocation",
        "TaintToleration",
        "NodeAffinity",
        "PodTopologySpread",
        "ImageLocality",
    }
    assert rec["winner"] in ("worker-1", "worker-2")


def test_same_seed_same_placement():
    """Scheduling is deterministic for a seed (ties broken by the cluster's seeded RNG)."""

    def placement(seed):
        st = cluster(workers(5), seed=seed)
        apply(st, deployment_yaml(replicas=7))
        return sorted((p.name, p.node_name) for p in st.pods.values())

    assert placement(3) == placement(3)
