"""One tick of a cluster: advance the clock, running every component in order at each timer.

Inside a tick, time moves from timer to timer (a discrete-event simulation), so an image
pull that takes 2.6 s finishes at 2.6 s whatever the tick length or the speed: a tick at 60×
covers 15 simulated seconds and every step in them happens at its own moment. What changed stays
on the state (``changed``, ``removed``, ``new_events``) for the caller: the service layer saves it
and sends the browsers their delta (``clusters.wire``).
"""

from __future__ import annotations

from collections.abc import Callable

from . import kubelet, lesson, scheduler, traffic
from .controllers import (
    deployment,
    endpoints,
    hpa,
    node_lifecycle,
    podgc,
    replicaset,
    service_lb,
    taint_eviction,
)
from .state import ClusterState

# The order a pass runs in: the API's own controllers, then scheduling, then the kubelets.
COMPONENTS: list[tuple[str, Callable[[ClusterState], None]]] = [
    ("lesson", lesson.run),
    ("node-lifecycle", node_lifecycle.run),
    ("taint-eviction", taint_eviction.run),
    ("gc", podgc.run),
    ("hpa", hpa.run),
    ("deployment", deployment.run),
    ("replicaset", replicaset.run),
    ("scheduler", scheduler.run),
    ("kubelet", kubelet.run),
    ("endpoints", endpoints.run),
    ("service-controller", service_lb.run),
    ("traffic", traffic.run),
]
MAX_PASSES_PER_INSTANT = 12
MAX_STEPS_PER_TICK = 5000


def run_pass(state: ClusterState) -> None:
    for _name, fn in COMPONENTS:
        fn(state)


def settle(state: ClusterState) -> None:
    """Run passes at the current instant until no queue has work left (bounded)."""
    state.fire_due_timers()
    for _ in range(MAX_PASSES_PER_INSTANT):
        if not state.pending_work():
            return
        run_pass(state)


def advance(state: ClusterState, target: float) -> None:
    """Advance simulated time to ``target``, stopping at every timer on the way."""
    settle(state)
    steps = 0
    while steps < MAX_STEPS_PER_TICK:
        nt = state.next_timer_at()
        if nt is None or nt > target + 1e-9:
            break
        state.clock.time = max(state.clock.time, nt)
        settle(state)
        steps += 1
    state.clock.time = max(state.clock.time, target)
    settle(state)


def skip_to_next(state: ClusterState, limit: float = 3600.0) -> float | None:
    """Jump to the next timer (the "next interesting moment"), at most ``limit`` ahead."""
    settle(state)
    # The traffic sampler fires every second; it is not a moment worth jumping to.
    nt = state.next_timer_at(skip_queues=("traffic",))
    if nt is None:
        return None
    target = min(max(nt, state.now), state.now + limit)
    advance(state, target)
    return target
