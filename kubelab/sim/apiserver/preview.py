"""What an apply would do, in words a student understands, before it is applied."""

from __future__ import annotations

from typing import Any

from kubelab.sim.controllers.deployment import equal_ignore_hash
from kubelab.sim.state import ClusterState

from .apply import Change, plan
from .manifests import load_documents


def describe_change(ch: Change) -> dict[str, Any]:
    ref = ch.line.rsplit(" ", 1)[0]
    spec = ch.data.get("spec") or {}
    if ch.action == "created":
        if ch.kind in ("Deployment", "ReplicaSet"):
            n = int(spec.get("replicas", 1))
            what = f"creates {ref}; {n} pod{'s' if n != 1 else ''} will be scheduled"
        elif ch.kind == "Pod":
            what = f"creates {ref}; it will be scheduled onto a node"
        else:
            what = f"creates {ref}"
        return {"object": ref, "action": "create", "text": what}
    if ch.action == "unchanged":
        return {"object": ref, "action": "none", "text": f"{ref} is unchanged"}
    old = ch.existing.spec if ch.existing is not None else {}
    if ch.kind == "Deployment":
        if not equal_ignore_hash(old.get("template") or {}, spec.get("template") or {}):
            strategy = (spec.get("strategy") or {}).get("type", "RollingUpdate")
            how = (
                "a rolling update"
                if strategy == "RollingUpdate"
                else "Recreate: old pods stop before new ones start"
            )
            return {
                "object": ref,
                "action": "rollout",
                "text": f"changes the pod template of {ref}: a new ReplicaSet and {how}",
            }
        if old.get("replicas") != spec.get("replicas"):
            return {
                "object": ref,
                "action": "scale",
                "text": f"scales {ref} from {old.get('replicas')} to {spec.get('replicas')} replicas",
            }
    if ch.kind == "ReplicaSet" and old.get("replicas") != spec.get("replicas"):
        return {
            "object": ref,
            "action": "scale",
            "text": f"scales {ref} from {old.get('replicas')} to {spec.get('replicas')} replicas",
        }
    return {"object": ref, "action": "configure", "text": f"updates {ref}"}


def preview(
    state: ClusterState, text: str | bytes, *, namespace: str = "default", filename: str = "STDIN"
) -> list[dict[str, Any]]:
    """Validate like apply and describe each object's change; raises ApiError like apply."""
    docs = load_documents(text, filename)
    return [describe_change(ch) for ch in plan(state, docs, filename=filename, namespace=namespace)]
