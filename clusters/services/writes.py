"""Writes to a running cluster: a user's change (kubectl semantics), load, nodes, and the clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clusters import access, wire
from clusters.access import Actor
from clusters.events import nudge_on_commit
from kubelab.sim import actions, traffic
from kubelab.sim.apiserver import ApiError
from kubelab.sim.apiserver.apply import apply_text
from kubelab.sim.apiserver.authz import authorize
from kubelab.sim.clock import MAX_SPEED, MIN_SPEED
from kubelab.sim.control_loop import advance, skip_to_next
from kubelab.sim.state import ClusterState

from .session import ServiceError, _commit, _fingerprint, locked_state


def cluster_mutate(
    cluster_id: int, fn: Callable[[ClusterState], list[str]], *, actor: Actor
) -> list[str]:
    """Apply a user's change (kubectl semantics); ApiError rolls everything back.

    The simulated API server checks each object against the actor (``access.authorizer``)."""
    actor.require_view()
    if not actor.can_write and not actor.closed:
        raise access.Forbidden("forbidden: this view is read only")
    if actor.closed and actor.role == "student":
        raise access.Forbidden("error: this classroom is closed; your namespace is read-only now")
    error: ApiError | None = None
    lines: list[str] = []
    with locked_state(cluster_id, actor) as (cluster, state, _now):
        before = _fingerprint(state)
        try:
            lines = fn(state)
        except ApiError as e:
            if _fingerprint(state) != before:
                raise  # a partial change: roll everything back (and reload next time)
            error = e  # refused before it changed anything: the catch-up still commits
        else:
            nudge_on_commit(cluster.pk)
    if error is not None:
        raise error
    return lines


class _Refused(Exception):
    """A refusal after a partial change: roll the transaction back, still answer the request."""

    def __init__(self, response: Any) -> None:
        self.response = response


def api_call(cluster_id: int, fn: Callable[[ClusterState], Any], *, actor: Actor) -> Any:
    """One Kubernetes API request (``kubelab.sim.apiserver.rest``) in one transaction.

    ``fn`` answers a ``rest.Response``; an error answer (4xx/5xx) that changed something rolls
    everything back, as a refused ``cluster_mutate`` does. The simulated API server authorizes
    every read and write against the actor (the token's person)."""
    actor.require_view()
    try:
        with locked_state(cluster_id, actor) as (cluster, state, _now):
            before = _fingerprint(state)
            response = fn(state)
            if response.code >= 400 and _fingerprint(state) != before:
                raise _Refused(response)
            if response.changed:
                nudge_on_commit(cluster.pk)
    except _Refused as refused:
        return refused.response
    return response


def manifests_apply(
    *,
    cluster_id: int,
    text: str | bytes,
    namespace: str = "default",
    filename: str = "STDIN",
    dry_run: bool = False,
    actor: Actor,
) -> list[str]:
    return cluster_mutate(
        cluster_id,
        lambda st: apply_text(st, text, filename=filename, namespace=namespace, dry_run=dry_run),
        actor=actor,
    )


NODE_ACTIONS: dict[str, Callable[..., list[str]]] = {
    "fail": actions.fail_node,
    "recover": actions.recover_node,
    "cordon": lambda st, n: actions.cordon(st, n, True),
    "uncordon": lambda st, n: actions.cordon(st, n, False),
    "drain": lambda st, n: actions.drain(st, n, force=True),
    "remove": actions.remove_node,
}


def service_load(
    *,
    cluster_id: int,
    namespace: str,
    service: str,
    rps: float,
    profile: str = "steady",
    peak: float | None = None,
    duration: float = 60.0,
    actor: Actor,
    kind: str = "Service",
    host: str = "",
    path: str = "/",
) -> list[str]:
    """Simulated clients for a Service, or for an Ingress host and path (the instructor's, or a
    student's on their own objects)."""

    def run(st: ClusterState) -> list[str]:
        authorize(st, "patch", kind, namespace, service)
        if kind == "Ingress":
            return traffic.set_ingress_load(
                st,
                namespace,
                service,
                rps,
                host=host,
                path=path,
                profile=profile,
                peak=peak,
                duration=duration,
            )
        return traffic.set_load(
            st, namespace, service, rps, profile=profile, peak=peak, duration=duration
        )

    return cluster_mutate(cluster_id, run, actor=actor)


def node_action(*, cluster_id: int, node: str, action: str, actor: Actor) -> list[str]:
    actor.require_operate(f"{action} nodes")
    fn = NODE_ACTIONS.get(action)
    if fn is None:
        raise ServiceError(f"unknown node action {action!r}: use one of {', '.join(NODE_ACTIONS)}")
    return cluster_mutate(cluster_id, lambda st: fn(st, node), actor=actor)


def node_add(
    *,
    cluster_id: int,
    name: str,
    cpu: str = "4",
    memory: str = "8Gi",
    pods: int = 110,
    labels: dict[str, str] | None = None,
    taints: list[dict[str, Any]] | None = None,
    actor: Actor,
) -> list[str]:
    actor.require_operate("add nodes")
    return cluster_mutate(
        cluster_id,
        lambda st: actions.add_node(
            st, name, cpu=cpu, memory=memory, pods=pods, labels=labels, taints=taints
        ),
        actor=actor,
    )


def clock_set(
    *, cluster_id: int, paused: bool | None = None, speed: float | None = None, actor: Actor
) -> dict[str, Any]:
    """Pause, resume or change speed; the clock is re-anchored at the current simulated time."""
    actor.require_operate("change the clock")
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


def clock_advance(*, cluster_id: int, mode: str, actor: Actor) -> float:
    """``step``: one second of simulated time; ``skip``: straight to the next timer (at most an hour)."""
    actor.require_operate("change the clock")
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
