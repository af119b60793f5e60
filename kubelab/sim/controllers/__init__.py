"""kube-controller-manager: one module per controller, each ``run(state)`` draining its queue."""

from __future__ import annotations

from typing import Any


def set_condition(conditions: list[dict[str, Any]], cond: dict[str, Any], now: float) -> bool:
    """``SetDeploymentCondition``: same status and reason → no change; same status keeps lastTransitionTime."""
    for i, c in enumerate(conditions):
        if c["type"] == cond["type"]:
            if c["status"] == cond["status"] and c.get("reason") == cond.get("reason"):
                return False
            cond.setdefault("lastUpdateTime", now)
            cond["lastTransitionTime"] = (
                c.get("lastTransitionTime", now) if c["status"] == cond["status"] else now
            )
            conditions[i] = cond
            return True
    cond.setdefault("lastUpdateTime", now)
    cond.setdefault("lastTransitionTime", now)
    conditions.append(cond)
    return True


def remove_condition(conditions: list[dict[str, Any]], ctype: str) -> bool:
    for i, c in enumerate(conditions):
        if c["type"] == ctype:
            del conditions[i]
            return True
    return False


def get_condition(conditions: list[dict[str, Any]] | None, ctype: str) -> dict[str, Any] | None:
    for c in conditions or []:
        if c["type"] == ctype:
            return c
    return None
