"""A cluster's lifecycle: created from a scenario, reset to it, the bundled demo cluster.

A student's namespace and quota are installed here too (not in ``classrooms``): a reset recreates
every student's, and ``classrooms`` builds on this module, never the other way round."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from clusters import store
from clusters.access import Actor
from clusters.events import broadcast_on_commit, nudge_on_commit
from clusters.models import Classroom, Cluster, Event, Membership
from kubelab.sim import lesson
from kubelab.sim.apiserver import ApiError, quota
from kubelab.sim.apiserver.apply import apply_text
from kubelab.sim.scenario import Scenario, build_cluster, load_scenario, run_step
from kubelab.sim.state import ClusterState

from .session import ServiceError, forget


def _initial_state(scenario: Scenario, slug: str) -> ClusterState:
    state = build_cluster(scenario, name=slug)
    for step in scenario.steps:
        if step.at == 0:
            run_step(state, step)
    lesson.schedule(state, scenario.steps)  # the later steps run when the clock reaches them
    return state


def cluster_create(*, slug: str, name: str = "", scenario_text: str = "") -> Cluster:
    try:
        scenario = load_scenario(scenario_text, "scenario") if scenario_text else Scenario()
        state = _initial_state(scenario, slug)
    except (ApiError, ValueError) as e:
        raise ServiceError(str(e)) from None
    with transaction.atomic():
        cluster = Cluster.objects.create(
            slug=slug,
            name=name or scenario.name or slug,
            seed=scenario.seed,
            scenario=scenario_text,
            wall_anchor=timezone.now(),
        )
        _store_new(cluster, state)
    return cluster


def _store_new(cluster: Cluster, state: ClusterState) -> None:
    # Everything is new: mark the objects changed so the store creates their rows.
    for obj in state.all_objects():
        state.changed[(obj.kind, state.store_key(obj))] = obj
    for ev in state.events.values():
        state.new_events[ev.dedupe_key] = ev
    store.save_changes(cluster, state)
    cluster.sim_anchor = state.now
    cluster.seq += 1
    cluster.save()
    state.reset_changes()
    nudge_on_commit(cluster.pk)


def cluster_reset(*, cluster_id: int, scenario_text: str | None = None, actor: Actor) -> Cluster:
    """Start the cluster again from its scenario (or a new one); browsers get a fresh snapshot.

    A classroom's students keep their memberships: their namespaces and quotas are recreated."""
    actor.require_operate("reset the cluster")
    with transaction.atomic():
        cluster = Cluster.objects.select_for_update().get(pk=cluster_id)
        text = cluster.scenario if scenario_text is None else scenario_text
        try:
            scenario = load_scenario(text, "scenario") if text else Scenario()
            state = _initial_state(scenario, cluster.slug)
        except (ApiError, ValueError) as e:
            raise ServiceError(str(e)) from None
        for model in store.object_models().values():
            model.objects.filter(cluster=cluster).delete()
        Event.objects.filter(cluster=cluster).delete()
        cluster.scenario, cluster.seed = text, scenario.seed
        cluster.engine, cluster.rv = {}, 0
        cluster.paused, cluster.speed = False, 1.0
        cluster.wall_anchor = timezone.now()
        forget(cluster.pk)
        classroom = Classroom.objects.filter(cluster=cluster).first()
        if classroom is not None:
            for ns in Membership.objects.filter(cluster=cluster).values_list(
                "namespace", flat=True
            ):
                _install_student(state, classroom, ns)
            state.reset_changes()
        _store_new(cluster, state)
        broadcast_on_commit(cluster.pk, {"type": "cluster.resync", "seq": cluster.seq})
    return cluster


def demo_cluster_ensure() -> Cluster:
    """The demo cluster (slug ``demo``) from the bundled node-failure lesson, created once."""
    existing = Cluster.objects.filter(slug="demo").first()
    if existing is not None:
        return existing
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "kubelab" / "scenarios" / "demo.yaml").read_text()
    return cluster_create(slug="demo", name="demo", scenario_text=text)


def _quota_policy(classroom: Classroom) -> tuple[dict[str, Any], dict[str, Any]]:
    quota = {
        "name": "student-quota",
        "hard": {
            "pods": str(classroom.quota_pods),
            "requests.cpu": classroom.quota_cpu,
            "requests.memory": classroom.quota_memory,
        },
    }
    # So that a Deployment without requests still fits the quota (what course clusters do).
    limits = {"name": "student-defaults", "defaultRequest": {"cpu": "100m", "memory": "128Mi"}}
    return quota, limits


def _install_student(state: ClusterState, classroom: Classroom, namespace: str) -> None:
    if namespace not in state.namespaces:
        apply_text(state, f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {namespace}\n")
    q, lim = _quota_policy(classroom)
    quota.set_policy(state, namespace, quota=q, limits=lim)
