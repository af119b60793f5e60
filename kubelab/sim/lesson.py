"""A lesson's timed steps in a live cluster: each scenario step after 0 s waits on a timer and
runs when the simulated clock reaches it (``manage.py simulate`` plays them the same way)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .apiserver import ApiError

if TYPE_CHECKING:
    from .scenario import Step
    from .state import ClusterState


def schedule(state: ClusterState, steps: list[Step]) -> None:
    for step in steps:
        if step.at <= state.now:
            continue
        state.lesson_steps[str(step.index)] = {"at": step.at, "kind": step.kind, "args": step.args}
        state.set_timer("lesson", step.index, step.at)


def run(state: ClusterState) -> None:
    from .scenario import Step, run_step

    for index in state.take("lesson"):
        data: dict[str, Any] | None = state.lesson_steps.pop(str(index), None)
        if data is None:
            continue
        try:
            run_step(state, Step(data["at"], data["kind"], data["args"], int(index)))
        except (ApiError, KeyError, ValueError) as e:
            ns = state.namespaces.get("default")
            if ns is not None:
                message = e.message if isinstance(e, ApiError) else str(e)
                state.record(
                    ns, "Warning", "LessonStepFailed", f"step {index}: {message}", "kubelab-lesson"
                )
