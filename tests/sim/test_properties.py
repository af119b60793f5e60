"""Invariants checked over generated inputs (Hypothesis)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubelab.sim import actions
from kubelab.sim.controllers.deployment import resolve_fenceposts
from kubelab.sim.scenario import load_scenario, run_scenario, summary

from .helpers import apply, cluster, deployment_yaml, run_until, workers

fencepost = st.one_of(st.integers(0, 4), st.sampled_from(["0%", "10%", "25%", "50%", "100%"]))
SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(replicas=st.integers(1, 12), surge=fencepost, unavailable=fencepost)
def test_rollout_respects_surge_and_availability(replicas, surge, unavailable):
    """With healthy nodes a rollout never runs more than replicas + maxSurge active pods, nor fewer than
    replicas − maxUnavailable available ones (ResolveFenceposts in deployment/util, rolling.go)."""
    if surge in (0, "0%") and unavailable in (0, "0%"):
        unavailable = 1
    max_s, max_u = resolve_fenceposts(surge, unavailable, replicas)
    max_u = min(max_u, replicas)
    s = cluster(workers(4, cpu="32", memory="64Gi"))
    strategy = f"\n  strategy:\n    rollingUpdate: {{maxSurge: {surge!r}, maxUnavailable: {unavailable!r}}}".replace(
        "'", '"'
    )
    apply(s, deployment_yaml(replicas=replicas, strategy=strategy))
    run_until(s, 30)
    actions.set_image(s, "default", "web", {"main": "nginx:1.28"})
    t = 30.0
    while t < 150:
        t += 0.5
        run_until(s, t)
        active = [p for p in s.pods.values() if p.deleted is None]
        assert len(active) <= replicas + max_s
        assert sum(1 for p in active if p.ready) >= replicas - max_u
    d = s.deployments[("default", "web")]
    assert d.status["updatedReplicas"] == replicas and d.status["availableReplicas"] == replicas


@SETTINGS
@given(
    apps=st.lists(
        st.tuples(
            st.integers(1, 8),
            st.sampled_from(["100m", "250m", "500m", "1", "1500m"]),
            st.sampled_from(["64Mi", "256Mi", "1Gi", "3Gi"]),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_no_node_is_overcommitted(apps):
    """The sum of requests on a node never exceeds its allocatable (NodeResourcesFit)."""
    s = cluster(workers(3, cpu="2", memory="4Gi"))
    for i, (n, cpu, mem) in enumerate(apps):
        apply(s, deployment_yaml(name=f"app{i}", replicas=n, cpu=cpu, memory=mem))
    run_until(s, 20)
    for node in s.nodes.values():
        pods = [p for p in s.pods_on(node.name) if not p.terminal]
        assert sum(p.req_cpu for p in pods) <= node.alloc_cpu
        assert sum(p.req_mem for p in pods) <= node.alloc_mem
        assert len(pods) <= node.alloc_pods


SCENARIO = """
seed: {seed}
steps:
  - at: 0s
    apply: |
      apiVersion: apps/v1
      kind: Deployment
      metadata: {{name: web}}
      spec:
        replicas: {replicas}
        selector: {{matchLabels: {{app: web}}}}
        template:
          metadata: {{labels: {{app: web}}}}
          spec:
            containers: [{{name: c, image: "nginx:1.27", resources: {{requests: {{cpu: 200m}}}}}}]
  - {{at: 40s, node: {{name: worker-2, action: fail}}}}
  - {{at: 100s, set-image: {{deployment: web, container: c, image: "nginx:1.28"}}}}
until: 500s
"""


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**31), replicas=st.integers(1, 9))
def test_same_seed_same_result(seed, replicas):
    """The same scenario and seed give the same names, placements and events."""
    sc = SCENARIO.format(seed=seed, replicas=replicas)
    a = summary(run_scenario(load_scenario(sc)))
    b = summary(run_scenario(load_scenario(sc)))
    assert a == b
