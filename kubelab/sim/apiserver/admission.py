"""Admission plugins that change pods as they are created."""

from __future__ import annotations

from typing import Any

DEFAULT_TOLERATION_SECONDS = 300


def default_toleration_seconds(spec: dict[str, Any]) -> None:
    """``DefaultTolerationSeconds``: tolerate not-ready and unreachable NoExecute taints for 300 s."""
    tolerations = spec.setdefault("tolerations", [])
    for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        has = any(
            (t.get("key") == key or (not t.get("key") and t.get("operator") == "Exists"))
            and (not t.get("effect") or t.get("effect") == "NoExecute")
            for t in tolerations
        )
        if not has:
            tolerations.append(
                {
                    "key": key,
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": DEFAULT_TOLERATION_SECONDS,
                }
            )


def admit_pod(spec: dict[str, Any]) -> None:
    default_toleration_seconds(spec)
    spec.setdefault("priority", 0)
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
