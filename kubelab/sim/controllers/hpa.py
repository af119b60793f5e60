"""The HorizontalPodAutoscaler controller (autoscaling/v2, CPU utilisation), as upstream.

Sources: ``pkg/controller/podautoscaler/horizontal.go`` (sync every 15 s,
rescale reasons, conditions, events, behaviours: stabilisation and rate policies) and
``replica_calculator.go`` (``GetResourceReplicas``, ``groupPods``, tolerance 0.1, unready and
missing pods), ``metrics/utilization.go`` (utilisation is an integer percentage before the ratio).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from kubelab.sim.kinds import Deployment, HorizontalPodAutoscaler, Pod
from kubelab.sim.objects import selector_matches
from kubelab.sim.state import ClusterState

from . import set_condition

SOURCE = "horizontal-pod-autoscaler"
SYNC_PERIOD = 15.0
TOLERANCE = 0.1
DOWNSCALE_STABILIZATION = 300.0
CPU_INITIALIZATION_PERIOD = 300.0
INITIAL_READINESS_DELAY = 30.0
METRIC_WINDOW = 15.0
CPU_METRIC = "cpu resource utilization (percentage of request)"
DEFAULT_SCALE_UP = {
    "stabilizationWindowSeconds": 0,
    "selectPolicy": "Max",
    "policies": [
        {"type": "Pods", "value": 4, "periodSeconds": 15},
        {"type": "Percent", "value": 100, "periodSeconds": 15},
    ],
}
DEFAULT_SCALE_DOWN = {
    "stabilizationWindowSeconds": int(DOWNSCALE_STABILIZATION),
    "selectPolicy": "Max",
    "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
}


class MetricsError(Exception):
    pass


@dataclass
class PodSample:
    """One pod as the replica calculator sees it."""

    name: str
    request: int  # millicores
    usage: float | None  # millicores over the window, None: no metrics
    phase: str = "Running"
    deleted: bool = False
    ready: bool | None = True  # None: no Ready condition
    start: float | None = 0.0  # status.startTime
    ready_changed: float = 0.0  # Ready condition's lastTransitionTime
    sampled_at: float = 0.0  # the metric's timestamp


def group_pods(pods: list[PodSample], now: float) -> tuple[int, set[str], set[str], set[str]]:
    """``groupPods``: (ready count, unready, missing, ignored) for a CPU metric."""
    ready_count = 0
    unready: set[str] = set()
    missing: set[str] = set()
    ignored: set[str] = set()
    for p in pods:
        if p.deleted or p.phase == "Failed" or p.phase == "Pending":
            ignored.add(p.name)
            continue
        if p.usage is None:
            missing.add(p.name)
            continue
        if p.ready is None or p.start is None:
            is_unready = True
        elif p.start + CPU_INITIALIZATION_PERIOD > now:
            # Within the initialisation period: unready, or no full window since it turned ready.
            is_unready = (not p.ready) or p.sampled_at < p.ready_changed + METRIC_WINDOW
        else:
            # Afterwards: only a pod that has never been ready is left out.
            is_unready = (not p.ready) and p.start + INITIAL_READINESS_DELAY > p.ready_changed
        if is_unready:
            unready.add(p.name)
            continue
        ready_count += 1
    return ready_count, unready, missing, ignored


def utilization_ratio(
    metrics: dict[str, float], requests: dict[str, int], target: int
) -> tuple[float, int]:
    """``GetResourceUtilizationRatio``: (ratio, integer utilisation %)."""
    total = req = 0.0
    for name, value in metrics.items():
        if name in requests:
            total += value
            req += requests[name]
    if req == 0:
        raise MetricsError("no metrics returned matched known pods")
    utilization = int(total * 100 // req)
    return utilization / target, utilization


def replicas_for_cpu(
    current: int, target: int, pods: list[PodSample], now: float, tolerance: float = TOLERANCE
) -> tuple[int, int]:
    """``GetResourceReplicas``: (desired replicas, utilisation %) for a CPU utilisation target."""
    if not pods:
        raise MetricsError("no pods returned by selector while calculating replica count")
    ready_count, unready, missing, ignored = group_pods(pods, now)
    metrics = {
        p.name: float(p.usage)
        for p in pods
        if p.usage is not None and p.name not in unready and p.name not in ignored
    }
    if not metrics:
        raise MetricsError("did not receive metrics for targeted pods (pods might be unready)")
    requests = {p.name: p.request for p in pods}
    if any(requests[name] == 0 for name in metrics):
        raise MetricsError("missing request for cpu")
    ratio, utilization = utilization_ratio(metrics, requests, target)
    scale_up_with_unready = bool(unready) and ratio > 1.0
    if not scale_up_with_unready and not missing:
        if abs(1.0 - ratio) <= tolerance:
            return current, utilization
        return math.ceil(ratio * ready_count), utilization
    if missing:
        if ratio < 1.0:
            fallback = max(100, target)
            for name in missing:
                metrics[name] = requests[name] * fallback / 100
        elif ratio > 1.0:
            for name in missing:
                metrics[name] = 0.0
    if scale_up_with_unready:
        for name in unready:
            metrics[name] = 0.0
    new_ratio, _ = utilization_ratio(metrics, requests, target)
    if (
        abs(1.0 - new_ratio) <= tolerance
        or (ratio < 1.0 and new_ratio > 1.0)
        or (ratio > 1.0 and new_ratio < 1.0)
    ):
        return current, utilization
    new_replicas = math.ceil(new_ratio * len(metrics))
    if (new_ratio < 1.0 and new_replicas > current) or (new_ratio > 1.0 and new_replicas < current):
        return current, utilization
    return new_replicas, utilization


# ----- behaviours ----------------------------------------------------------------------------------
def behavior(hpa: HorizontalPodAutoscaler) -> tuple[dict[str, Any], dict[str, Any]]:
    b = hpa.spec.get("behavior") or {}
    up = {**DEFAULT_SCALE_UP, **(b.get("scaleUp") or {})}
    down = {**DEFAULT_SCALE_DOWN, **(b.get("scaleDown") or {})}
    if (b.get("scaleDown") or {}).get("stabilizationWindowSeconds") is None:
        down["stabilizationWindowSeconds"] = int(DOWNSCALE_STABILIZATION)
    return up, down


def _change_in_period(events: list[list[float]], period: float, now: float) -> int:
    return int(sum(change for t, change in events if t > now - period))


def scale_up_limit(current: int, ups: list, downs: list, rules: dict[str, Any], now: float) -> int:
    """``calculateScaleUpLimitWithScalingRules``."""
    select = rules.get("selectPolicy", "Max")
    if select == "Disabled":
        return current
    result = math.inf if select == "Min" else -math.inf
    for pol in rules.get("policies") or []:
        period = float(pol.get("periodSeconds", 15))
        start = (
            current - _change_in_period(ups, period, now) + _change_in_period(downs, period, now)
        )
        if pol.get("type") == "Pods":
            proposed = start + int(pol["value"])
        else:
            proposed = math.ceil(start * (1 + float(pol["value"]) / 100))
        result = min(result, proposed) if select == "Min" else max(result, proposed)
    return int(result) if result not in (math.inf, -math.inf) else current


def scale_down_limit(
    current: int, ups: list, downs: list, rules: dict[str, Any], now: float
) -> int:
    """``calculateScaleDownLimitWithBehaviors``."""
    select = rules.get("selectPolicy", "Max")
    if select == "Disabled":
        return current
    result = -math.inf if select == "Min" else math.inf
    for pol in rules.get("policies") or []:
        period = float(pol.get("periodSeconds", 15))
        start = (
            current - _change_in_period(ups, period, now) + _change_in_period(downs, period, now)
        )
        if pol.get("type") == "Pods":
            proposed = start - int(pol["value"])
        else:
            proposed = int(start * (1 - float(pol["value"]) / 100))
        result = max(result, proposed) if select == "Min" else min(result, proposed)
    return int(result) if result not in (math.inf, -math.inf) else current


def normalize(
    hpa: HorizontalPodAutoscaler, current: int, desired: int, now: float, conds: list
) -> int:
    """``normalizeDesiredReplicasWithBehaviors``: stabilisation window, then rate policies."""
    up, down = behavior(hpa)
    lo = int(hpa.spec.get("minReplicas", 1))
    hi = int(hpa.spec.get("maxReplicas", 1))
    recs: list[list[float]] = hpa.sim.setdefault("recommendations", [])
    up_cut = now - float(up.get("stabilizationWindowSeconds") or 0)
    down_cut = now - float(down.get("stabilizationWindowSeconds") or 0)
    up_rec = down_rec = desired
    old_index = None
    for i, (t, rec) in enumerate(recs):
        if t > up_cut:
            up_rec = min(int(rec), up_rec)
        if t > down_cut:
            down_rec = max(int(rec), down_rec)
        if t < up_cut and t < down_cut:
            old_index = i
    stabilized = max(current, up_rec)
    stabilized = min(stabilized, down_rec)
    if old_index is not None:
        recs[old_index] = [now, desired]
    else:
        recs.append([now, desired])
    if stabilized != desired:
        if desired >= current:
            reason, msg = (
                "ScaleUpStabilized",
                "recent recommendations were lower than current one, applying the lowest recent recommendation",
            )
        else:
            reason, msg = (
                "ScaleDownStabilized",
                "recent recommendations were higher than current one, applying the highest recent recommendation",
            )
        _cond(conds, "AbleToScale", "True", reason, msg, now)
    else:
        _cond(
            conds,
            "AbleToScale",
            "True",
            "ReadyForNewScale",
            "recommended size matches current size",
            now,
        )
    ups = hpa.sim.get("scaleUpEvents") or []
    downs = hpa.sim.get("scaleDownEvents") or []
    result, reason, msg = (
        stabilized,
        "DesiredWithinRange",
        "the desired count is within the acceptable range",
    )
    if stabilized > current:
        limit = max(scale_up_limit(current, ups, downs, up, now), current)
        allowed = hi
        if allowed > limit:
            allowed, reason, msg = (
                limit,
                "ScaleUpLimit",
                "the desired replica count is increasing faster than the maximum scale rate",
            )
        else:
            reason, msg = (
                "TooManyReplicas",
                "the desired replica count is more than the maximum replica count",
            )
        if stabilized > allowed:
            result = allowed
        else:
            reason, msg = "DesiredWithinRange", "the desired count is within the acceptable range"
    elif stabilized < current:
        limit = min(scale_down_limit(current, ups, downs, down, now), current)
        allowed = lo
        if allowed < limit:
            allowed, reason, msg = (
                limit,
                "ScaleDownLimit",
                "the desired replica count is decreasing faster than the maximum scale rate",
            )
        else:
            reason, msg = (
                "TooFewReplicas",
                "the desired replica count is less than the minimum replica count",
            )
        if stabilized < allowed:
            result = allowed
        else:
            reason, msg = "DesiredWithinRange", "the desired count is within the acceptable range"
    _cond(conds, "ScalingLimited", "True" if result != stabilized else "False", reason, msg, now)
    return result


def _cond(conds: list, ctype: str, status: str, reason: str, message: str, now: float) -> None:
    set_condition(
        conds, {"type": ctype, "status": status, "reason": reason, "message": message}, now
    )
    for c in conds:  # set_condition keeps an old message when status and reason are unchanged
        if c["type"] == ctype:
            c["message"] = message


# ----- the controller ----------------------------------------------------------------------------------
def _samples(state: ClusterState, pods: list[Pod]) -> list[PodSample]:
    from kubelab.sim import traffic

    out = []
    samples_m = state.metrics.get("pods", {})
    for p in pods:
        ready = p.condition("Ready")
        last = samples_m.get(p.uid) or []
        out.append(
            PodSample(
                name=p.name,
                request=p.req_cpu,
                usage=traffic.pod_cpu(state, p),
                phase=p.phase,
                deleted=p.deleted is not None,
                ready=None if ready is None else ready["status"] == "True",
                start=p.status.get("startTime"),
                ready_changed=float((ready or {}).get("lastTransitionTime") or 0.0),
                sampled_at=float(last[-1][0]) if last else 0.0,
            )
        )
    return out


def _target(hpa: HorizontalPodAutoscaler) -> int | None:
    for m in hpa.spec.get("metrics") or []:
        res = (m or {}).get("resource") or {}
        target = res.get("target") or {}
        if (
            m.get("type") == "Resource"
            and res.get("name") == "cpu"
            and target.get("type") == "Utilization"
        ):
            return int(target.get("averageUtilization", 80))
    return None


def sync(state: ClusterState, hpa: HorizontalPodAutoscaler) -> None:
    from kubelab.sim import traffic

    now = state.now
    state.set_timer("hpa", hpa.key, now + SYNC_PERIOD)
    traffic.ensure_running(state)
    status = dict(hpa.status)
    conds = [dict(c) for c in status.get("conditions") or []]
    kind, name = hpa.target
    d = state.deployments.get((hpa.namespace, name)) if kind == "Deployment" else None
    if d is None:
        msg = f'the HPA controller was unable to get the target\'s current scale: {kind.lower()}s/scale "{name}" not found'
        _cond(conds, "AbleToScale", "False", "FailedGetScale", msg, now)
        state.record(
            hpa, "Warning", "FailedGetScale", f'{kind.lower()}s/scale "{name}" not found', SOURCE
        )
        _store(state, hpa, {**status, "conditions": conds})
        return
    current = d.replicas
    lo = int(hpa.spec.get("minReplicas", 1))
    hi = int(hpa.spec.get("maxReplicas", 1))
    utilization: int | None = None
    rescale_reason = ""
    if current == 0 and lo != 0:
        desired = 0
        _cond(
            conds,
            "ScalingActive",
            "False",
            "ScalingDisabled",
            "scaling is disabled since the replica count of the target is zero",
            now,
        )
    elif current > hi:
        desired, rescale_reason = hi, "Current number of replicas above Spec.MaxReplicas"
    elif current < lo:
        desired, rescale_reason = lo, "Current number of replicas below Spec.MinReplicas"
    else:
        target = _target(hpa)
        selector = d.spec.get("selector") or {}
        pods = [
            p
            for p in state.pods.values()
            if p.namespace == d.namespace and selector_matches(selector, p.labels)
        ]
        try:
            if target is None:
                raise MetricsError("KubeLab's HPA supports CPU utilisation targets only")
            metric_desired, utilization = replicas_for_cpu(
                current, target, _samples(state, pods), now
            )
        except MetricsError as e:
            msg = f"failed to get cpu utilization: {e}"
            _cond(
                conds,
                "ScalingActive",
                "False",
                "FailedGetResourceMetric",
                f"the HPA was unable to compute the replica count: {msg}",
                now,
            )
            state.record(hpa, "Warning", "FailedGetResourceMetric", msg, SOURCE)
            _store(
                state,
                hpa,
                {
                    **status,
                    "conditions": conds,
                    "currentReplicas": current,
                    "desiredReplicas": current,
                },
            )
            return
        _cond(
            conds,
            "ScalingActive",
            "True",
            "ValidMetricFound",
            f"the HPA was able to successfully calculate a replica count from {CPU_METRIC}",
            now,
        )
        rescale_reason = (
            f"{CPU_METRIC} above target" if metric_desired > current else "All metrics below target"
        )
        desired = normalize(hpa, current, metric_desired, now, conds)
        status["currentMetrics"] = [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "current": {
                        "averageUtilization": utilization,
                        "averageValue": f"{_avg_value(state, pods)}m",
                    },
                },
            }
        ]
    if desired != current:
        d.spec["replicas"] = desired
        d.generation += 1
        state.touch(d)
        key = "scaleUpEvents" if desired > current else "scaleDownEvents"
        events = [e for e in hpa.sim.get(key) or [] if e[0] > now - 1800] + [
            [now, abs(desired - current)]
        ]
        hpa.sim[key] = events
        state.record(
            hpa,
            "Normal",
            "SuccessfulRescale",
            f"New size: {desired}; reason: {rescale_reason}",
            SOURCE,
        )
        _cond(
            conds,
            "AbleToScale",
            "True",
            "SucceededRescale",
            f"the HPA controller was able to update the target scale to {desired}",
            now,
        )
        status["lastScaleTime"] = now
    status.update(currentReplicas=current, desiredReplicas=desired, conditions=conds)
    _store(state, hpa, status)


def _avg_value(state: ClusterState, pods: list[Pod]) -> int:
    from kubelab.sim import traffic

    values = [
        v
        for v in (traffic.pod_cpu(state, p) for p in pods if p.phase == "Running")
        if v is not None
    ]
    return int(sum(values) / len(values)) if values else 0


def _store(state: ClusterState, hpa: HorizontalPodAutoscaler, status: dict[str, Any]) -> None:
    # A status write must not requeue the HPA (it resyncs on its 15 s timer): touch quietly.
    hpa.status = status
    state.touch_quiet(hpa)


def run(state: ClusterState) -> None:
    for key in state.take("hpa"):
        hpa = state.hpas.get(key)
        if hpa is not None:
            sync(state, hpa)


def deployment_of(state: ClusterState, hpa: HorizontalPodAutoscaler) -> Deployment | None:
    kind, name = hpa.target
    return state.deployments.get((hpa.namespace, name)) if kind == "Deployment" else None
