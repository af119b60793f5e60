"""Deployment controller: the upstream test tables (pkg/controller/deployment: util/deployment_util_test.go,
rolling_test.go, sync_test.go), plus rollouts end to end."""

from __future__ import annotations

import pytest

from kubelab.sim import actions
from kubelab.sim.controllers.deployment import (
    Controller,
    FencepostError,
    max_unavailable,
    new_rs_new_replicas,
    resolve_fenceposts,
)
from kubelab.sim.kinds import Deployment, ReplicaSet
from kubelab.sim.objects import OwnerRef
from kubelab.sim.state import ClusterState

from .helpers import apply, cluster, deployment_yaml, run_until, scaling_events, workers


def make_deployment(
    state: ClusterState,
    replicas: int,
    max_surge=None,
    max_unavail=None,
    strategy: str = "RollingUpdate",
) -> Deployment:
    spec = {
        "replicas": replicas,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]},
        },
        "strategy": {"type": strategy},
        "progressDeadlineSeconds": 600,
        "revisionHistoryLimit": 10,
    }
    if strategy == "RollingUpdate":
        spec["strategy"]["rollingUpdate"] = {"maxSurge": max_surge, "maxUnavailable": max_unavail}
    d = Deployment(name="web", namespace="default", spec=spec)
    state.add(d)
    return d


def make_rs(
    state: ClusterState,
    d: Deployment,
    name: str,
    replicas: int,
    available: int,
    created: float,
    image: str = "old",
) -> ReplicaSet:
    template = {
        "metadata": {"labels": {"app": "web", "pod-template-hash": name}},
        "spec": {"containers": [{"name": "c", "image": image}]},
    }
    rs = ReplicaSet(
        name=name,
        namespace="default",
        owner=OwnerRef("Deployment", d.name, d.uid),
        created=created,
        spec={"replicas": replicas, "template": template},
        status={"replicas": replicas, "availableReplicas": available, "readyReplicas": available},
    )
    state.add(rs)
    return rs


def new_rs(
    state: ClusterState, d: Deployment, replicas: int, available: int, created: float = 10.0
) -> ReplicaSet:
    return make_rs(state, d, "web-new", replicas, available, created, image="nginx:1.27")


# ----- ResolveFenceposts (deployment/util/deployment_util_test.go TestResolveFenceposts) -----------
@pytest.mark.parametrize(
    ("surge", "unavail", "desired", "expected"),
    [
        ("39%", "39%", 10, (4, 3)),
        (None, "39%", 10, (0, 3)),
        ("39%", None, 10, (4, 0)),
        (None, None, 10, (0, 1)),
        ("0%", "0%", 0, (0, 1)),
        ("25%", "25%", 10, (3, 2)),
        ("25%", "25%", 4, (1, 1)),
        ("25%", "25%", 3, (1, 0)),
        ("25%", "25%", 1, (1, 0)),
    ],
)
def test_resolve_fenceposts(surge, unavail, desired, expected):
    """Surge rounds up, unavailable rounds down, and both zero forces unavailable to 1 (ResolveFenceposts)."""
    assert resolve_fenceposts(surge, unavail, desired) == expected


@pytest.mark.parametrize("bad", ["oops", "urg"])
def test_resolve_fenceposts_rejects_non_percent_strings(bad):
    """A string that is not a percentage is an error (TestResolveFenceposts)."""
    with pytest.raises(FencepostError):
        resolve_fenceposts(bad, "25%", 10)


# ----- MaxUnavailable (deployment_util_test.go TestMaxUnavailable) --------------------------------
@pytest.mark.parametrize(
    ("replicas", "value", "strategy", "expected"),
    [
        (10, 5, "RollingUpdate", 5),
        (10, 10, "RollingUpdate", 10),
        (5, 10, "RollingUpdate", 5),
        (0, 1, "RollingUpdate", 0),
        (10, 1, "Recreate", 0),
        (10, "50%", "RollingUpdate", 5),
    ],
)
def test_max_unavailable(replicas, value, strategy, expected):
    """MaxUnavailable is capped at replicas and is 0 for Recreate or zero replicas (TestMaxUnavailable)."""
    state = ClusterState()
    d = make_deployment(state, replicas, 0, value, strategy)
    assert max_unavailable(d) == expected


# ----- NewRSNewReplicas (deployment_util_test.go TestNewRSNewReplicas) ----------------------------
@pytest.mark.parametrize(
    ("strategy", "desired", "new", "surge", "expected"),
    [("RollingUpdate", 1, 5, 1, 5), ("RollingUpdate", 6, 2, 10, 6), ("Recreate", 3, 1, 0, 3)],
)
def test_new_rs_new_replicas(strategy, desired, new, surge, expected):
    """TestNewRSNewReplicas: maxUnavailable 1 and another RS holding 5 replicas (deployment_util_test.go)."""
    state = ClusterState()
    d = make_deployment(state, desired, surge, 1, strategy)
    old = make_rs(state, d, "web-old", 5, 5, 0.0)
    n = new_rs(state, d, new, new)
    assert new_rs_new_replicas(d, [old, n], n) == expected


# ----- reconcileNewReplicaSet (pkg/controller/deployment/rolling.go) -----------------------------
@pytest.mark.parametrize(
    ("surge", "old_n", "new_n", "scale_expected", "expected"),
    [
        (0, 10, 0, False, 0),
        (2, 10, 0, True, 2),
        (2, 5, 0, True, 7),
        (2, 10, 2, False, 2),
        (2, 2, 11, True, 10),
    ],
)
def test_reconcile_new_replica_set(surge, old_n, new_n, scale_expected, expected):
    """rolling_test.go TestDeploymentController_reconcileNewReplicaSet with D=10."""
    state = ClusterState()
    d = make_deployment(state, 10, surge, 0 if surge else 1)
    old = make_rs(state, d, "web-old", old_n, old_n, 0.0)
    n = new_rs(state, d, new_n, new_n)
    scaled = Controller(state, d).reconcile_new_replica_set([old, n], n)
    assert scaled is scale_expected
    assert n.replicas == expected


# ----- scaleDownOldReplicaSetsForRollingUpdate (rolling.go) --------------------------------------
@pytest.mark.parametrize(
    ("max_unavail", "ready", "old_n", "expected_old"),
    [(0, 10, 10, 9), (2, 10, 10, 8), (2, 8, 10, 10), (2, 1, 10, 10)],
)
def test_scale_down_old_for_rolling_update(max_unavail, ready, old_n, expected_old):
    """TestDeploymentController_scaleDownOldReplicaSetsForRollingUpdate, D=10, maxSurge 0 (rolling_test.go)."""
    state = ClusterState()
    d = make_deployment(state, 10, 0, max_unavail)
    old = make_rs(state, d, "web-old", old_n, ready, 0.0)
    Controller(state, d).scale_down_old_for_rolling_update([old], [old])
    assert old.replicas == expected_old


# ----- reconcileOldReplicaSets (rolling.go; rolling_test.go) -------------------------------------
def test_reconcile_old_cleans_unhealthy_then_scales_down():
    """Old 10 (9 ready), new 0, maxUnavailable 2: one unhealthy pod cleaned plus one ready → 8 (TestDeploymentController_reconcileOldReplicaSets)."""
    state = ClusterState()
    d = make_deployment(state, 10, 0, 2)
    old = make_rs(state, d, "web-old", 10, 9, 0.0)
    n = new_rs(state, d, 0, 0)
    assert Controller(state, d).reconcile_old_replica_sets([old, n], [old], n) is True
    assert old.replicas == 8


def test_reconcile_old_blocked_by_unavailable_new_pods():
    """Old 8 (8 ready) + new 2 (0 ready), maxUnavailable 2: no scale-down (TestDeploymentController_reconcileOldReplicaSets)."""
    state = ClusterState()
    d = make_deployment(state, 10, 0, 2)
    old = make_rs(state, d, "web-old", 8, 8, 0.0)
    n = new_rs(state, d, 2, 0)
    assert Controller(state, d).reconcile_old_replica_sets([old, n], [old], n) is False
    assert old.replicas == 8


# ----- cleanupUnhealthyReplicas (rolling.go) -----------------------------------------------------
@pytest.mark.parametrize(
    ("limit", "ready", "removed"), [(1, 8, 1), (3, 8, 2), (0, 8, 0), (3, 10, 0)]
)
def test_cleanup_unhealthy_replicas(limit, ready, removed):
    """TestDeploymentController_cleanupUnhealthyReplicas: old RS of 10 (rolling_test.go)."""
    state = ClusterState()
    d = make_deployment(state, 10, 2, 2)
    old = make_rs(state, d, "web-old", 10, ready, 0.0)
    assert Controller(state, d).cleanup_unhealthy_replicas([old], limit) == removed
    assert old.replicas == 10 - removed


# ----- proportional scaling (pkg/controller/deployment/sync_test.go TestScale) -------------------
@pytest.mark.parametrize(
    ("old_d", "new_d", "surge", "sizes", "expected"),
    [
        (5, 10, 0, [2, 3], [4, 6]),
        (5, 3, 0, [2, 3], [1, 2]),
        (13, 8, 0, [2, 8, 3], [1, 5, 2]),
        (3, 4, 0, [1, 1, 1], [2, 1, 1]),
        (3, 2, 0, [1, 1, 1], [1, 1, 0]),
        (6, 0, 0, [3, 2, 1], [0, 0, 0]),
        (10, 20, 2, [6, 6], [11, 11]),
        (10, 50, 3, [5, 8], [22, 34]),
    ],
)
def test_proportional_scaling(old_d, new_d, surge, sizes, expected):
    """Replicas added or removed mid-rollout are split by RS size (sync_test.go TestScale). Sizes newest first."""
    state = ClusterState()
    d = make_deployment(state, old_d, surge, 0 if surge else 1)
    rss = []
    for i, size in enumerate(sizes):
        created = float(len(sizes) - i)  # newest first
        rs = make_rs(state, d, f"web-v{len(sizes) - i}", size, size, created, image=f"v{i}")
        rs.annotations["deployment.kubernetes.io/desired-replicas"] = str(old_d)
        rs.annotations["deployment.kubernetes.io/max-replicas"] = str(old_d + surge)
        rss.append(rs)
    d.spec["replicas"] = new_d
    if new_d == 50:  # the table's maxSurge changes too (3 → 6)
        d.spec["strategy"]["rollingUpdate"]["maxSurge"] = 6
    d.status["replicas"] = sum(sizes)
    Controller(state, d).scale(None, rss)
    assert [rs.replicas for rs in rss] == expected


# ----- DeploymentComplete, DeploymentProgressing, DeploymentTimedOut (deployment_util_test.go) -----
@pytest.mark.parametrize(
    ("desired", "current", "updated", "available", "complete"),
    [(5, 5, 5, 4, False), (5, 5, 5, 5, True), (5, 5, 4, 5, False), (1, 2, 1, 1, False)],
)
def test_deployment_complete(desired, current, updated, available, complete):
    """TestDeploymentComplete (deployment_util_test.go)."""
    state = ClusterState()
    d = make_deployment(state, desired, 1, 0)
    status = {
        "replicas": current,
        "updatedReplicas": updated,
        "availableReplicas": available,
        "observedGeneration": d.generation,
    }
    assert Controller(state, d).deployment_complete(status) is complete


@pytest.mark.parametrize(
    ("old", "new", "progressing"),
    [
        ((10, 4, 4, 4), (10, 6, 4, 4), True),
        ((10, 4, 4, 4), (10, 4, 4, 4), False),
        ((10, 7, 3, 3), (10, 6, 3, 3), False),
        ((10, 10, 9, 8), (10, 10, 10, 8), True),
    ],
)
def test_deployment_progressing(old, new, progressing):
    """TestDeploymentProgressing: (current, updated, ready, available) (deployment_util_test.go)."""
    state = ClusterState()
    d = make_deployment(state, 10, 1, 0)
    keys = ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas")
    d.status = dict(zip(keys, old, strict=True))
    assert (
        Controller(state, d).deployment_progressing(dict(zip(keys, new, strict=True)))
        is progressing
    )


@pytest.mark.parametrize(("updated_at", "timed_out"), [(69.0, True), (71.0, False)])
def test_deployment_timed_out(updated_at, timed_out):
    """TestDeploymentTimedOut: deadline 10s, condition updated at 00:01:09 or 00:01:11, now 00:01:20 (deployment_util_test.go)."""
    state = ClusterState()
    d = make_deployment(state, 10, 1, 0)
    d.spec["progressDeadlineSeconds"] = 10
    state.clock.time = 80.0
    status = {
        "conditions": [
            {
                "type": "Progressing",
                "status": "True",
                "reason": "ReplicaSetUpdated",
                "lastUpdateTime": updated_at,
            }
        ]
    }
    assert Controller(state, d).deployment_timed_out(status) is timed_out


def test_no_deadline_never_times_out():
    """progressDeadlineSeconds = MaxInt32 means no deadline (TestDeploymentTimedOut)."""
    state = ClusterState()
    d = make_deployment(state, 10, 1, 0)
    d.spec["progressDeadlineSeconds"] = 2**31 - 1
    state.clock.time = 10**6
    status = {
        "conditions": [
            {
                "type": "Progressing",
                "status": "True",
                "reason": "ReplicaSetUpdated",
                "lastUpdateTime": 0,
            }
        ]
    }
    assert Controller(state, d).deployment_timed_out(status) is False


# ----- rollouts end to end ------------------------------------------------------------------------
def rollout(state: ClusterState, image: str, until: float) -> list[str]:
    n = len(scaling_events(state))
    actions.set_image(state, "default", "web", {"main": image})
    run_until(state, until)
    return [
        m.split(" replica set ")[0] + " " + m.rsplit(" ", 3)[-3] + "→" + m.rsplit(" ", 1)[-1]
        for m in scaling_events(state)[n:]
    ]


def test_rolling_update_one_at_a_time_with_zero_unavailable():
    """maxSurge 1, maxUnavailable 0 on 3 replicas (the default for 3): new+1, old−1 … (follows from rolling.go; not an upstream test case)."""
    st = cluster(workers(3))
    apply(st, deployment_yaml(replicas=3))
    run_until(st, 30)
    steps = rollout(st, "nginx:1.28", 200)
    assert steps == [
        "Scaled up 0→1",
        "Scaled down 3→2",
        "Scaled up 1→2",
        "Scaled down 2→1",
        "Scaled up 2→3",
        "Scaled down 1→0",
    ]


def test_rolling_update_blue_green_with_full_surge():
    """maxSurge 100%, maxUnavailable 0: new 10 then old 0 (follows from rolling.go; not an upstream test case)."""
    st = cluster(workers(4, cpu="16"))
    apply(
        st,
        deployment_yaml(
            replicas=10,
            strategy="\n  strategy:\n    rollingUpdate: {maxSurge: '100%', maxUnavailable: 0}",
        ),
    )
    run_until(st, 30)
    assert rollout(st, "nginx:1.28", 200) == ["Scaled up 0→10", "Scaled down 10→0"]


def test_rolling_update_first_steps_match_rolling_go_comment():
    """10 replicas, maxSurge 3, maxUnavailable 2: new RS created with 3, old 10→8, new 3→5 (rolling.go, comment in reconcileOldReplicaSets)."""
    st = cluster(workers(4, cpu="16"))
    apply(
        st,
        deployment_yaml(
            replicas=10,
            strategy="\n  strategy:\n    rollingUpdate: {maxSurge: 3, maxUnavailable: 2}",
        ),
    )
    run_until(st, 30)
    assert rollout(st, "nginx:1.28", 300)[:3] == [
        "Scaled up 0→3",
        "Scaled down 10→8",
        "Scaled up 3→5",
    ]


def test_rollout_never_exceeds_surge_nor_drops_below_min_available():
    """During a rollout total pods ≤ replicas + maxSurge and available ≥ replicas − maxUnavailable (pkg/controller/deployment/rolling.go)."""
    st = cluster(workers(4, cpu="16"))
    apply(st, deployment_yaml(replicas=10))
    run_until(st, 30)
    actions.set_image(st, "default", "web", {"main": "nginx:1.28"})
    t = 30.0
    while t < 200:
        t += 0.25
        run_until(st, t)
        active = [p for p in st.pods.values() if p.deleted is None]
        available = sum(1 for p in active if p.ready)
        assert len(active) <= 13
        assert available >= 8


def test_stuck_rollout_and_undo():
    """A crash-looping new version stalls at 13 pods with 8 available; undo restores 10 good pods (rolling.go, comment in reconcileOldReplicaSets)."""
    st = cluster(workers(4, cpu="16"))
    apply(
        st,
        deployment_yaml(
            replicas=10,
            strategy="\n  strategy:\n    rollingUpdate: {maxSurge: 3, maxUnavailable: 2}",
        ),
    )
    run_until(st, 30)
    good_rs = next(iter(st.replicasets.values())).name
    actions.set_image(st, "default", "web", {"main": "kubelab/crasher:1.0"})
    run_until(st, 200)
    by_rs = {rs.name: rs.replicas for rs in st.replicasets.values()}
    assert by_rs[good_rs] == 8
    assert sum(by_rs.values()) == 13
    assert st.deployments[("default", "web")].status["availableReplicas"] == 8
    assert actions.rollout_undo(st, "default", "web") == ["deployment.apps/web rolled back"]
    run_until(st, 400)
    d = st.deployments[("default", "web")]
    assert d.status["availableReplicas"] == 10
    assert st.replicasets[("default", good_rs)].replicas == 10
    assert d.revision == 3  # the old RS becomes revision 3; 1 moves to revision-history
    assert (
        st.replicasets[("default", good_rs)].annotations[
            "deployment.kubernetes.io/revision-history"
        ]
        == "1"
    )


def test_progress_deadline_exceeded_condition():
    """A rollout that makes no progress for progressDeadlineSeconds turns Progressing False (ProgressDeadlineExceeded, pkg/controller/deployment/progress.go)."""
    st = cluster(workers(3))
    apply(st, deployment_yaml(replicas=2, extra_spec="\n  progressDeadlineSeconds: 60"))
    run_until(st, 30)
    actions.set_image(st, "default", "web", {"main": "nginx:9.99-does-not-exist"})
    run_until(st, 200)
    d = st.deployments[("default", "web")]
    cond = d.condition("Progressing")
    assert cond["status"] == "False"
    assert cond["reason"] == "ProgressDeadlineExceeded"
    assert cond["message"].endswith("has timed out progressing.")


def test_completed_rollout_conditions():
    """A finished rollout reads NewReplicaSetAvailable and MinimumReplicasAvailable (deployment/util/deployment_util.go)."""
    st = cluster(workers(3))
    apply(st, deployment_yaml(replicas=3))
    run_until(st, 60)
    d = st.deployments[("default", "web")]
    rs = next(iter(st.replicasets.values()))
    assert d.condition("Available")["reason"] == "MinimumReplicasAvailable"
    assert (
        d.condition("Progressing")["message"]
        == f'ReplicaSet "{rs.name}" has successfully progressed.'
    )
    assert scaling_events(st) == [f"Scaled up replica set {rs.name} from 0 to 3"]


def test_recreate_waits_for_old_pods_to_terminate():
    """Recreate scales old to 0 and creates the new RS only when no old pod is left (pkg/controller/deployment/recreate.go)."""
    st = cluster(workers(3))
    apply(st, deployment_yaml(replicas=2, strategy="\n  strategy:\n    type: Recreate"))
    run_until(st, 30)
    actions.set_image(st, "default", "web", {"main": "nginx:1.28"})
    run_until(st, 30.1)
    assert len(st.replicasets) == 1  # old pods still terminating
    run_until(st, 90)
    assert len(st.replicasets) == 2
    assert st.deployments[("default", "web")].status["availableReplicas"] == 2


def test_paused_deployment_scales_but_does_not_roll_out():
    """A paused Deployment applies replica changes but creates no new ReplicaSet (pkg/controller/deployment/sync.go)."""
    st = cluster(workers(3))
    apply(st, deployment_yaml(replicas=2))
    run_until(st, 30)
    assert actions.rollout_pause(st, "default", "web") == ["deployment.apps/web paused"]
    actions.set_image(st, "default", "web", {"main": "nginx:1.28"})
    actions.scale(st, "default", "web", 4)
    run_until(st, 90)
    assert len(st.replicasets) == 1
    assert next(iter(st.replicasets.values())).replicas == 4
    assert (
        st.deployments[("default", "web")].condition("Progressing")["reason"] == "DeploymentPaused"
    )
    actions.rollout_pause(st, "default", "web", pause=False)
    run_until(st, 200)
    assert len(st.replicasets) == 2


def test_revision_history_limit_deletes_oldest():
    """Old ReplicaSets beyond revisionHistoryLimit are deleted, oldest revision first (cleanupDeployment, pkg/controller/deployment/sync.go)."""
    st = cluster(workers(3))
    apply(st, deployment_yaml(replicas=1, extra_spec="\n  revisionHistoryLimit: 1"))
    run_until(st, 30)
    for i, tag in enumerate(["1.25", "1.26", "1.28"]):
        actions.set_image(st, "default", "web", {"main": f"nginx:{tag}"})
        run_until(st, 60 + 40 * i)
    revs = sorted(rs.revision for rs in st.replicasets.values())
    assert revs == [3, 4]


def test_undo_to_missing_revision_errors():
    """`rollout undo --to-revision` of an unknown revision gives kubectl's error (kubectl/pkg/polymorphichelpers/rollback.go)."""
    from kubelab.sim.apiserver import ApiError

    st = cluster(workers(1))
    apply(st, deployment_yaml(replicas=1))
    with pytest.raises(ApiError, match="unable to find specified revision 7 in history"):
        actions.rollout_undo(st, "default", "web", 7)
    with pytest.raises(ApiError, match="no last revision to roll back to"):
        actions.rollout_undo(st, "default", "web")
