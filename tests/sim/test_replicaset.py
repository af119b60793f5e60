"""ReplicaSet controller: active pods, replacements, scale-down victims (pkg/controller/replicaset, pkg/controller/controller_utils.go)."""

from __future__ import annotations

from kubelab.sim import actions
from kubelab.sim.controllers.replicaset import rank_for_deletion
from kubelab.sim.kinds import Pod
from kubelab.sim.objects import NAME_ALPHABET

from .helpers import apply, cluster, deployment_yaml, run_until, workers


def pod(
    name: str,
    node: str = "",
    phase: str = "Running",
    ready: bool = True,
    ready_since: float = 0.0,
    created: float = 0.0,
    restarts: int = 0,
    cost: str | None = None,
    uid: str = "",
) -> Pod:
    status = {
        "phase": phase,
        "conditions": [
            {
                "type": "Ready",
                "status": "True" if ready else "False",
                "lastTransitionTime": ready_since,
            }
        ],
        "containerStatuses": [{"name": "c", "restartCount": restarts, "state": {}}],
    }
    p = Pod(
        name=name,
        namespace="default",
        uid=uid or name,
        created=created,
        spec={"nodeName": node, "containers": [{"name": "c", "image": "x"}]},
        status=status,
    )
    if cost is not None:
        p.annotations["controller.kubernetes.io/pod-deletion-cost"] = cost
    return p


def test_unassigned_pending_pod_deleted_first():
    """Scale 3 → 2 with A pending and unassigned, B and C running and ready: A goes (ActivePodsWithRanks, pkg/controller/controller_utils.go)."""
    a = pod("a", node="", phase="Pending", ready=False)
    b = pod("b", node="n1", ready_since=10)
    c = pod("c", node="n2", ready_since=10)
    assert rank_for_deletion([b, c, a], [a, b, c], now=1000)[0] is a


def test_ranking_rules_in_order():
    """Not ready before ready; lower deletion cost first; doubled-up first; more restarts first (ActivePodsWithRanks.Less)."""
    now = 10_000.0
    ready, not_ready = pod("r", "n1", ready_since=1), pod("nr", "n2", ready=False)
    assert rank_for_deletion([ready, not_ready], [ready, not_ready], now)[0] is not_ready
    cheap, dear = pod("cheap", "n1", cost="-5"), pod("dear", "n2", cost="100")
    assert rank_for_deletion([dear, cheap], [dear, cheap], now)[0] is cheap
    lone, d1, d2 = pod("lone", "n1"), pod("d1", "n2"), pod("d2", "n2")
    assert rank_for_deletion([lone, d1, d2], [lone, d1, d2], now)[0] in (d1, d2)
    calm, crashy = pod("calm", "n1", restarts=0), pod("crashy", "n2", restarts=4)
    assert rank_for_deletion([calm, crashy], [calm, crashy], now)[0] is crashy


def test_newer_ready_pod_goes_first_across_log_buckets():
    """Among equal running pods the one ready for less time goes first (ActivePodsWithRanks.Less, LogarithmicScaleDown buckets)."""
    now = 10_000.0
    old = pod("old", "n1", ready_since=0)  # ready 10,000 s
    new = pod("new", "n2", ready_since=9_990)  # ready 10 s: a much smaller log2 bucket
    assert rank_for_deletion([old, new], [old, new], now)[0] is new


def test_invalid_deletion_cost_counts_as_zero():
    """An unparsable pod-deletion-cost counts as 0 (ActivePodsWithRanks.Less)."""
    bad, neg = pod("bad", "n1", cost="lots"), pod("neg", "n2", cost="-1")
    assert rank_for_deletion([bad, neg], [bad, neg], 100.0)[0] is neg


def test_pod_names_use_generate_name_alphabet():
    """Pod names are <rs>-<5 chars from bcdfghjklmnpqrstvwxz2456789> (apimachinery/pkg/util/rand)."""
    st = cluster(workers(2))
    apply(st, deployment_yaml(replicas=4))
    rs = next(iter(st.replicasets.values()))
    for p in st.pods.values():
        prefix, suffix = p.name.rsplit("-", 1)
        assert prefix == rs.name
        assert len(suffix) == 5 and set(suffix) <= set(NAME_ALPHABET)
    events = sorted(e.message for e in st.events.values() if e.reason == "SuccessfulCreate")
    assert events == sorted(f"Created pod: {p.name}" for p in st.pods.values())


def test_deleted_pod_replaced_at_once_while_terminating():
    """A Terminating pod is not active: the ReplicaSet creates a replacement immediately (FilterActivePods)."""
    st = cluster(workers(2))
    apply(st, deployment_yaml(replicas=2))
    run_until(st, 20)
    victim = next(iter(st.pods.values()))
    actions.delete(st, "Pod", "default", victim.name)
    run_until(st, 20.01)
    assert victim.key in st.pods and st.pods[victim.key].deleted is not None
    active = [p for p in st.pods.values() if p.deleted is None]
    assert len(active) == 2
    rs = next(iter(st.replicasets.values()))
    assert rs.status["replicas"] == 2
    assert rs.status["terminatingReplicas"] == 1


def test_scale_down_deletes_and_reports():
    """Scaling down deletes pods with SuccessfulDelete events "Deleted pod: <name>"."""
    st = cluster(workers(3))
    apply(st, deployment_yaml(replicas=3))
    run_until(st, 20)
    actions.scale(st, "default", "web", 1)
    run_until(st, 21)
    deleted = [e.message for e in st.events.values() if e.reason == "SuccessfulDelete"]
    assert len(deleted) == 2 and all(m.startswith("Deleted pod: web-") for m in deleted)
    run_until(st, 60)
    assert len(st.pods) == 1
