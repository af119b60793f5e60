"""Namespace policy: a ResourceQuota and a LimitRange per namespace, enforced like the admission plugins.

KubeLab keeps both on the Namespace object (``sim["resourceQuota"]``, ``sim["limitRange"]``) rather
than as separate API kinds; what students see is what Kubernetes shows: ``kubectl describe
namespace`` lists them, ``LimitRanger`` fills in default requests, and ``ResourceQuota`` refuses a
create with the upstream message::

    pods "web-7d9f5b6c4-x2k9p" is forbidden: exceeded quota: student-quota,
    requested: pods=1, used: pods=10, limited: pods=10

(plugin/pkg/admission/resourcequota/controller.go: only the exceeded resources are listed,
sorted, as ``name=quantity``). A pod stops counting once it is terminal, or once it is past its
deletionTimestamp plus its grace period (``QuotaV1Pod``), so pods stuck terminating on a lost
node do not block their replacements.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubelab.sim.quantity import format_cpu, format_memory, int_value, milli_value

from . import ApiError

if TYPE_CHECKING:
    from kubelab.sim.kinds import Pod
    from kubelab.sim.objects import KObject
    from kubelab.sim.state import ClusterState

QUOTA = "resourceQuota"
LIMITS = "limitRange"
COMPUTE = ("requests.cpu", "requests.memory", "cpu", "memory")
COUNTED = {"Deployment": "count/deployments.apps", "Service": "services"}


def policy(state: ClusterState, namespace: str) -> tuple[dict[str, Any] | None, dict | None]:
    ns = state.namespaces.get(namespace)
    if ns is None:
        return None, None
    return ns.sim.get(QUOTA), ns.sim.get(LIMITS)


def set_policy(
    state: ClusterState,
    namespace: str,
    *,
    quota: dict[str, Any] | None,
    limits: dict[str, Any] | None,
) -> None:
    """Install (or with None remove) the namespace's quota ``{"name", "hard"}`` and LimitRange
    ``{"name", "defaultRequest"}``."""
    ns = state.namespaces[namespace]
    for key, value in ((QUOTA, quota), (LIMITS, limits)):
        if value is None:
            ns.sim.pop(key, None)
        else:
            ns.sim[key] = value
    state.touch(ns)


def apply_limit_range(state: ClusterState, namespace: str, spec: dict[str, Any]) -> None:
    """``LimitRanger``: containers without a request get the namespace's default request."""
    _quota, limits = policy(state, namespace)
    if not limits:
        return
    defaults = limits.get("defaultRequest") or {}
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        res = c.setdefault("resources", {})
        req = res.setdefault("requests", {})
        for r, v in defaults.items():
            if r not in req:
                # Kubernetes defaults the request to the limit when only a limit is given.
                req[r] = (res.get("limits") or {}).get(r, v)


def _charged(pod: Pod, now: float) -> bool:
    if pod.terminal:
        return False
    if pod.deleted is not None and pod.grace is not None:
        # deletionTimestamp is request time + grace; QuotaV1Pod stops charging grace later.
        return now <= pod.deleted + 2 * pod.grace
    return True


def usage(state: ClusterState, namespace: str) -> dict[str, int]:
    """What the quota controller would report as ``status.used`` (cpu in millicores, bytes)."""
    pods = cpu = mem = 0
    for p in state.pods.values():
        if p.namespace == namespace and _charged(p, state.now):
            pods += 1
            cpu += p.req_cpu
            mem += p.req_mem
    used = {
        "pods": pods,
        "requests.cpu": cpu,
        "cpu": cpu,
        "requests.memory": mem,
        "memory": mem,
        "count/deployments.apps": sum(
            1 for d in state.deployments.values() if d.namespace == namespace
        ),
        "services": sum(1 for s in state.services.values() if s.namespace == namespace),
    }
    return used


def _value(resource: str, quantity: str | int) -> int:
    return milli_value(quantity) if resource in ("requests.cpu", "cpu") else int_value(quantity)


def fmt(resource: str, value: int) -> str:
    if resource in ("requests.cpu", "cpu"):
        return format_cpu(value)
    if resource in ("requests.memory", "memory"):
        return format_memory(value)
    return str(value)


def _forbidden(resource_name: str, why: str) -> ApiError:
    return ApiError(f"{resource_name} is forbidden: {why}", code=403)


def admit(state: ClusterState, obj_kind: str, namespace: str, name: str, spec: dict) -> None:
    """``ResourceQuota`` admission for a create; raises ApiError(403) with Kubernetes' message."""
    quota, _limits = policy(state, namespace)
    if not quota:
        return
    hard: dict[str, Any] = quota.get("hard") or {}
    qname = quota.get("name", "quota")
    if obj_kind == "Pod":
        resource_name = f'pods "{name}"'
        missing = []
        for r in sorted(hard):
            if r in COMPUTE:
                plain = r.split(".")[-1]
                lacking = [
                    c.get("name", "")
                    for c in spec.get("containers") or []
                    if plain not in ((c.get("resources") or {}).get("requests") or {})
                ]
                if lacking:
                    missing.append(f"{r} for: {','.join(lacking)}")
        if missing:
            raise _forbidden(
                resource_name, f"failed quota: {qname}: must specify {'; '.join(missing)}"
            )
        cpu = mem = 0
        for c in spec.get("containers") or []:
            req = (c.get("resources") or {}).get("requests") or {}
            cpu += milli_value(req["cpu"]) if "cpu" in req else 0
            mem += int_value(req["memory"]) if "memory" in req else 0
        requested = {
            "pods": 1,
            "requests.cpu": cpu,
            "cpu": cpu,
            "requests.memory": mem,
            "memory": mem,
        }
    elif obj_kind in COUNTED:
        resource_name = f'{"deployments.apps" if obj_kind == "Deployment" else "services"} "{name}"'
        requested = {COUNTED[obj_kind]: 1}
    else:
        return
    used = usage(state, namespace)
    exceeded = sorted(
        r
        for r, q in hard.items()
        if r in requested and used.get(r, 0) + requested[r] > _value(r, q)
    )
    if exceeded:

        def pretty(values: dict[str, str]) -> str:
            return ",".join(f"{r}={values[r]}" for r in exceeded)

        raise _forbidden(
            resource_name,
            f"exceeded quota: {qname}, "
            f"requested: {pretty({r: fmt(r, requested[r]) for r in exceeded})}, "
            f"used: {pretty({r: fmt(r, used.get(r, 0)) for r in exceeded})}, "
            f"limited: {pretty({r: str(hard[r]) for r in exceeded})}",
        )


def describe_lines(state: ClusterState, obj: KObject) -> list[str]:
    """The ``Resource Quotas`` and ``Resource Limits`` sections of ``kubectl describe namespace``."""
    quota, limits = obj.sim.get(QUOTA), obj.sim.get(LIMITS)
    lines: list[str] = [""]
    if not quota:
        lines.append("No resource quota.")
    else:
        used = usage(state, obj.name)
        hard = quota.get("hard") or {}
        rows = [["Name:", quota.get("name", "quota")], ["Resource", "Used", "Hard"]]
        rows.append(["--------", "---", "---"])
        rows += [[r, fmt(r, used.get(r, 0)), str(hard[r])] for r in sorted(hard)]
        lines.append("Resource Quotas")
        lines += ["  " + line for line in tabulate(rows)]
    lines.append("")
    if not limits:
        lines.append("No LimitRange resource.")
    else:
        rows = [
            [
                "Type",
                "Resource",
                "Min",
                "Max",
                "Default Request",
                "Default Limit",
                "Max Limit/Request Ratio",
            ],
            [
                "----",
                "--------",
                "---",
                "---",
                "---------------",
                "-------------",
                "-----------------------",
            ],
        ]
        for r, v in sorted((limits.get("defaultRequest") or {}).items()):
            rows.append(["Container", r, "-", "-", str(v), "-", "-"])
        lines.append("Resource Limits")
        lines += [" " + line for line in tabulate(rows)]
    return lines


def tabulate(rows: list[list[str]]) -> list[str]:
    """Go's tabwriter (minwidth 0, padding 2) over one block of tab-separated cells."""
    widths: dict[int, int] = {}
    for row in rows:
        for i, cell in enumerate(row[:-1]):
            widths[i] = max(widths.get(i, 0), len(cell))
    return [
        "".join(cell.ljust(widths[i] + 2) for i, cell in enumerate(row[:-1])) + row[-1]
        for row in rows
    ]
