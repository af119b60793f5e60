"""The only code that writes a cluster.

Every call is one transaction that holds the cluster row's lock (``select_for_update``; on
SQLite the IMMEDIATE transaction), catches the simulation up to the current simulated time,
applies the change through ``kubelab.sim`` (so users get the API server's answers), saves
only the rows that changed, and — after commit — sends ONE delta to every browser and
nudges the reconciler. Reads take the same lock so they see one consistent state.

A process-local cache keeps the last ClusterState per cluster; it is used only while the
cluster's ``rv`` in the database is the one the cache was saved at, so a write from another
process (or a rolled-back one) always forces a reload.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import transaction
from django.utils import timezone

from kubelab.sim import actions
from kubelab.sim.apiserver import ApiError
from kubelab.sim.apiserver.apply import apply_text
from kubelab.sim.clock import MAX_SPEED, MIN_SPEED
from kubelab.sim.control_loop import advance, skip_to_next
from kubelab.sim.scenario import Scenario, build_cluster, load_scenario, run_step
from kubelab.sim.state import ClusterState

from . import store, wire
from .events import nudge_on_commit, publish_on_commit
from .models import Cluster, Event

T = TypeVar("T")
_cache: dict[int, tuple[int, ClusterState]] = {}
_cache_lock = threading.Lock()


class ServiceError(Exception):
    """A request the service refuses (in kubectl's words where kubectl has some)."""


def _cached(cluster: Cluster) -> ClusterState | None:
    with _cache_lock:
        hit = _cache.get(cluster.pk)
    if hit is not None and hit[0] == cluster.rv:
        return hit[1]
    return None


def _remember(cluster_id: int, rv: int, state: ClusterState) -> None:
    with _cache_lock:
        _cache[cluster_id] = (rv, state)


def forget(cluster_id: int) -> None:
    with _cache_lock:
        _cache.pop(cluster_id, None)


@contextmanager
def locked_state(cluster_id: int) -> Iterator[tuple[Cluster, ClusterState, dt.datetime]]:
    """The cluster row (locked), its current state caught up to now, and the wall time used."""
    try:
        with transaction.atomic():
            cluster = Cluster.objects.select_for_update().get(pk=cluster_id)
            state = _cached(cluster)
            if state is None:
                state = store.load_state(cluster)
            forget(
                cluster_id
            )  # until this transaction commits, the state may hold uncommitted changes
            now = timezone.now()
            target = max(cluster.sim_now(now), state.now)
            advance(state, target)
            yield cluster, state, now
            _commit(cluster, state, now)
    except BaseException:
        forget(cluster_id)
        raise


def _commit(cluster: Cluster, state: ClusterState, now: dt.datetime, force: bool = False) -> None:
    """Save what changed, anchor the clock, and publish one delta after commit.

    ``force`` publishes even without object changes (a clock change every browser must see).
    """
    if state.changed or state.removed or state.new_events or force:
        cluster.seq += 1
        cluster.sim_anchor = state.now
        cluster.wall_anchor = now
        message = wire.delta(state, cluster.seq, wire.clock_view(cluster, state))
        store.save_changes(cluster, state)
        cluster.save(
            update_fields=[
                "seq",
                "rv",
                "engine",
                "sim_anchor",
                "wall_anchor",
                "paused",
                "speed",
                "updated_at",
            ]
        )
        publish_on_commit(cluster.pk, cluster.seq, wire.dumps(message))
        state.reset_changes()
    rv, cid = cluster.rv, cluster.pk
    transaction.on_commit(lambda: _remember(cid, rv, state))


# ----- reads ---------------------------------------------------------------------------------------
def cluster_query(cluster_id: int, fn: Callable[[ClusterState], T]) -> T:
    with locked_state(cluster_id) as (_cluster, state, _now):
        return fn(state)


def cluster_snapshot(cluster_id: int) -> dict[str, Any]:
    with locked_state(cluster_id) as (cluster, state, _now):
        _commit(cluster, state, _now)
        return wire.snapshot(state, cluster.seq, wire.clock_view(cluster, state), cluster.slug)


# ----- the reconcile tick ------------------------------------------------------------------------------
@dataclass
class TickInfo:
    next_timer: float | None  # simulated time of the next timer
    sim_anchor: float
    wall_anchor: dt.datetime
    speed: float
    paused: bool
    pending: bool  # work left in a queue (e.g. more than burstReplicas to create)
    wrote: bool
    rv: int = 0

    def next_due_wall(self) -> dt.datetime | None:
        if self.paused or self.next_timer is None:
            return None
        return self.wall_anchor + dt.timedelta(
            seconds=max(self.next_timer - self.sim_anchor, 0.0) / self.speed
        )


def cluster_tick(cluster_id: int) -> TickInfo:
    """Advance a cluster to the current simulated time (the worker's unit of work)."""
    with locked_state(cluster_id) as (cluster, state, now):
        wrote = bool(state.changed or state.removed or state.new_events)
        _commit(cluster, state, now)
        return TickInfo(
            state.next_timer_at(),
            state.now if wrote else cluster.sim_anchor,
            now if wrote else cluster.wall_anchor,
            cluster.speed,
            cluster.paused,
            state.pending_work(),
            wrote,
            cluster.rv,
        )


# ----- writes ----------------------------------------------------------------------------------------
def cluster_mutate(cluster_id: int, fn: Callable[[ClusterState], list[str]]) -> list[str]:
    """Apply a user's change (kubectl semantics); ApiError rolls everything back."""
    with locked_state(cluster_id) as (cluster, state, _now):
        lines = fn(state)
        nudge_on_commit(cluster.pk)
        return lines


def manifests_apply(
    *,
    cluster_id: int,
    text: str | bytes,
    namespace: str = "default",
    filename: str = "STDIN",
    dry_run: bool = False,
) -> list[str]:
    return cluster_mutate(
        cluster_id,
        lambda st: apply_text(st, text, filename=filename, namespace=namespace, dry_run=dry_run),
    )


NODE_ACTIONS: dict[str, Callable[..., list[str]]] = {
    "fail": actions.fail_node,
    "recover": actions.recover_node,
    "cordon": lambda st, n: actions.cordon(st, n, True),
    "uncordon": lambda st, n: actions.cordon(st, n, False),
    "drain": lambda st, n: actions.drain(st, n, force=True),
    "remove": actions.remove_node,
}


def node_action(*, cluster_id: int, node: str, action: str) -> list[str]:
    fn = NODE_ACTIONS.get(action)
    if fn is None:
        raise ServiceError(f"unknown node action {action!r}: use one of {', '.join(NODE_ACTIONS)}")
    return cluster_mutate(cluster_id, lambda st: fn(st, node))


def node_add(
    *,
    cluster_id: int,
    name: str,
    cpu: str = "4",
    memory: str = "8Gi",
    pods: int = 110,
    labels: dict[str, str] | None = None,
    taints: list[dict[str, Any]] | None = None,
) -> list[str]:
    return cluster_mutate(
        cluster_id,
        lambda st: actions.add_node(
            st, name, cpu=cpu, memory=memory, pods=pods, labels=labels, taints=taints
        ),
    )


def clock_set(
    *, cluster_id: int, paused: bool | None = None, speed: float | None = None
) -> dict[str, Any]:
    """Pause, resume or change speed; the clock is re-anchored at the current simulated time."""
    if speed is not None and not MIN_SPEED <= speed <= MAX_SPEED:
        raise ServiceError(f"speed must be between {MIN_SPEED:g}x and {MAX_SPEED:g}x")
    with locked_state(cluster_id) as (cluster, state, now):
        if paused is not None:
            cluster.paused = paused
        if speed is not None:
            cluster.speed = speed
        state.clock.paused, state.clock.speed = cluster.paused, cluster.speed
        _commit(cluster, state, now, force=True)
        nudge_on_commit(cluster.pk)
        return wire.clock_view(cluster, state)


def clock_advance(*, cluster_id: int, mode: str) -> float:
    """``step``: one second of simulated time; ``skip``: straight to the next timer (at most an hour)."""
    with locked_state(cluster_id) as (cluster, state, now):
        if mode == "skip":
            skip_to_next(state, limit=3600.0)
        elif mode == "step":
            advance(state, state.now + 1.0)
        else:
            raise ServiceError(f"unknown clock action {mode!r}")
        _commit(cluster, state, now, force=True)
        nudge_on_commit(cluster.pk)
        return state.now


# ----- cluster lifecycle -----------------------------------------------------------------------------
def _initial_state(scenario: Scenario, slug: str) -> ClusterState:
    state = build_cluster(scenario, name=slug)
    for step in scenario.steps:
        if step.at == 0:
            run_step(state, step)
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


def cluster_reset(*, cluster_id: int, scenario_text: str | None = None) -> Cluster:
    """Start the cluster again from its scenario (or a new one); browsers get a fresh snapshot."""
    with transaction.atomic():
        cluster = Cluster.objects.select_for_update().get(pk=cluster_id)
        text = cluster.scenario if scenario_text is None else scenario_text
        try:
            scenario = load_scenario(text, "scenario") if text else Scenario()
            state = _initial_state(scenario, cluster.slug)
        except (ApiError, ValueError) as e:
            raise ServiceError(str(e)) from None
        for model in store.MODELS.values():
            model.objects.filter(cluster=cluster).delete()
        Event.objects.filter(cluster=cluster).delete()
        cluster.scenario, cluster.seed = text, scenario.seed
        cluster.engine, cluster.rv = {}, 0
        cluster.paused, cluster.speed = False, 1.0
        cluster.wall_anchor = timezone.now()
        forget(cluster.pk)
        _store_new(cluster, state)
        transaction.on_commit(lambda: _send_resync(cluster.pk, cluster.seq))
    return cluster


def _send_resync(cluster_id: int, seq: int) -> None:
    from .events import _send, cluster_group

    _send(cluster_group(cluster_id), {"type": "cluster.resync", "seq": seq})


def demo_cluster_ensure() -> Cluster:
    """The demo cluster (slug ``demo``) from the bundled node-failure lesson, created once."""
    existing = Cluster.objects.filter(slug="demo").first()
    if existing is not None:
        return existing
    from pathlib import Path

    text = (
        Path(__file__).resolve().parent.parent / "kubelab" / "scenarios" / "demo.yaml"
    ).read_text()
    return cluster_create(slug="demo", name="demo", scenario_text=text)
