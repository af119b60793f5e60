"""The Deployment controller (``pkg/controller/deployment``): rolling updates, Recreate,
revisions and history, rollback, pause/resume, proportional scaling and progress conditions.

Functions keep upstream's names (``resolve_fenceposts``, ``new_rs_new_replicas``,
``reconcile_new_replica_set``, ``reconcile_old_replica_sets``, ``scale``, ``sync_rollout_status``)
so the code can be read side by side with ``rolling.go``, ``sync.go`` and ``deployment_util.go``.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from kubelab.sim.kinds import Deployment, ReplicaSet
from kubelab.sim.objects import OwnerRef, pod_template_hash
from kubelab.sim.state import ClusterState

from . import get_condition, remove_condition, set_condition

SOURCE = "deployment-controller"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
HASH_LABEL = "pod-template-hash"
MAX_INT32 = 2**31 - 1
SKIP_ANNOTATIONS = {
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    DESIRED,
    MAX_REPLICAS,
    "deprecated.deployment.rollback.to",
}


class FencepostError(ValueError):
    pass


def scaled_value(value: int | str | None, total: int, round_up: bool) -> int:
    """``intstr.GetScaledValueFromIntOrPercent``."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.endswith("%"):
        try:
            pct = int(value[:-1])
        except ValueError:
            raise FencepostError(
                f"invalid value for IntOrString: invalid value {value!r}"
            ) from None
        return math.ceil(pct * total / 100) if round_up else (pct * total) // 100
    raise FencepostError("invalid value for IntOrString: invalid type: string is not a percentage")


def resolve_fenceposts(
    max_surge: int | str | None, max_unavailable: int | str | None, desired: int
) -> tuple[int, int]:
    """``ResolveFenceposts``: surge rounded up, unavailable down; both 0 → unavailable 1."""
    surge = scaled_value(max_surge, desired, True)
    unavailable = scaled_value(max_unavailable, desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def is_rolling(d: Deployment) -> bool:
    return (d.spec.get("strategy") or {}).get("type", "RollingUpdate") == "RollingUpdate"


def _ru(d: Deployment) -> dict[str, Any]:
    return (d.spec.get("strategy") or {}).get("rollingUpdate") or {}


def max_surge(d: Deployment) -> int:
    if not is_rolling(d):
        return 0
    ru = _ru(d)
    return resolve_fenceposts(ru.get("maxSurge"), ru.get("maxUnavailable"), d.replicas)[0]


def max_unavailable(d: Deployment) -> int:
    if not is_rolling(d) or d.replicas == 0:
        return 0
    ru = _ru(d)
    unavailable = resolve_fenceposts(ru.get("maxSurge"), ru.get("maxUnavailable"), d.replicas)[1]
    return min(unavailable, d.replicas)


def strip_hash(template: dict[str, Any]) -> dict[str, Any]:
    t = copy.deepcopy(template)
    labels = (t.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(HASH_LABEL, None)
    return t


def equal_ignore_hash(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return strip_hash(a) == strip_hash(b)


def find_new_rs(d: Deployment, rss: list[ReplicaSet]) -> ReplicaSet | None:
    """``FindNewReplicaSet``: the oldest RS whose template equals the Deployment's."""
    template = d.spec.get("template") or {}
    for rs in sorted(rss, key=lambda r: (r.created, r.name)):
        if equal_ignore_hash(rs.spec.get("template") or {}, template):
            return rs
    return None


def rs_replicas(rss: list[ReplicaSet | None]) -> int:
    return sum(rs.replicas for rs in rss if rs is not None)


def rs_actual(rss: list[ReplicaSet | None]) -> int:
    return sum(int(rs.status.get("replicas", 0)) for rs in rss if rs is not None)


def rs_ready(rss: list[ReplicaSet | None]) -> int:
    return sum(int(rs.status.get("readyReplicas", 0)) for rs in rss if rs is not None)


def rs_available(rss: list[ReplicaSet | None]) -> int:
    return sum(int(rs.status.get("availableReplicas", 0)) for rs in rss if rs is not None)


def active_rss(rss: list[ReplicaSet | None]) -> list[ReplicaSet]:
    return [rs for rs in rss if rs is not None and rs.replicas > 0]


def new_rs_new_replicas(d: Deployment, all_rss: list[ReplicaSet | None], new_rs: ReplicaSet) -> int:
    """``NewRSNewReplicas``."""
    if not is_rolling(d):
        return d.replicas
    total = rs_replicas(all_rss)
    max_total = d.replicas + max_surge(d)
    if total >= max_total:
        return new_rs.replicas
    up = min(max_total - total, d.replicas - new_rs.replicas)
    return new_rs.replicas + up


class Controller:
    def __init__(self, state: ClusterState, d: Deployment) -> None:
        self.state = state
        self.d = d
        self.dirty = False  # the Deployment object itself changed

    # ----- events and RS updates ----------------------------------------------------------
    def scale_rs(self, rs: ReplicaSet, new_scale: int, operation: str) -> bool:
        d = self.d
        size_changed = rs.replicas != new_scale
        desired, maximum = str(d.replicas), str(d.replicas + max_surge(d))
        ann_changed = (
            rs.annotations.get(DESIRED) != desired or rs.annotations.get(MAX_REPLICAS) != maximum
        )
        if not (size_changed or ann_changed):
            return False
        old = rs.replicas
        rs.spec["replicas"] = new_scale
        rs.annotations[DESIRED] = desired
        rs.annotations[MAX_REPLICAS] = maximum
        if size_changed:
            rs.generation += 1
        self.state.touch(rs)
        if size_changed:
            self.state.record(
                d,
                "Normal",
                "ScalingReplicaSet",
                f"Scaled {operation} replica set {rs.name} from {old} to {new_scale}",
                SOURCE,
            )
            self.state.activity.add("controller-manager")
        return size_changed

    def scale_and_record(self, rs: ReplicaSet, new_scale: int) -> bool:
        if rs.replicas == new_scale:
            return False
        return self.scale_rs(rs, new_scale, "up" if rs.replicas < new_scale else "down")

    # ----- getAllReplicaSetsAndSyncRevision -------------------------------------------------
    def get_all(self, create: bool) -> tuple[ReplicaSet | None, list[ReplicaSet]]:
        d = self.d
        rss = [rs for rs in self.state.replicasets_of(d.uid) if rs.deleted is None]
        new_rs = find_new_rs(d, rss)
        old = [rs for rs in rss if rs is not new_rs]
        max_old = max((rs.revision for rs in old), default=0)
        new_revision = str(max_old + 1)
        if new_rs is not None:
            if self._set_new_rs_annotations(new_rs, new_revision, exists=True) or int(
                new_rs.spec.get("minReadySeconds", 0)
            ) != int(d.spec.get("minReadySeconds", 0)):
                new_rs.spec["minReadySeconds"] = int(d.spec.get("minReadySeconds", 0))
                self.state.touch(new_rs)
            if d.annotations.get(REVISION) != new_rs.annotations.get(REVISION):
                d.annotations[REVISION] = new_rs.annotations[REVISION]
                self.dirty = True
            conds = d.status.setdefault("conditions", [])
            if self.has_deadline() and get_condition(conds, "Progressing") is None:
                set_condition(
                    conds,
                    {
                        "type": "Progressing",
                        "status": "True",
                        "reason": "FoundNewReplicaSet",
                        "message": f'Found new replica set "{new_rs.name}"',
                    },
                    self.state.now,
                )
                self.dirty = True
            return new_rs, old
        if not create:
            return None, old
        template = copy.deepcopy(d.spec.get("template") or {})
        collision = int(d.status.get("collisionCount", 0))
        h = pod_template_hash(template, collision)
        template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = h
        selector = copy.deepcopy(d.spec.get("selector") or {})
        selector.setdefault("matchLabels", {})[HASH_LABEL] = h
        rs = ReplicaSet(
            name=f"{d.name}-{h}",
            namespace=d.namespace,
            labels=dict(template["metadata"]["labels"]),
            owner=OwnerRef("Deployment", d.name, d.uid),
            spec={
                "replicas": 0,
                "minReadySeconds": int(d.spec.get("minReadySeconds", 0)),
                "selector": selector,
                "template": template,
            },
        )
        if (rs.namespace, rs.name) in self.state.replicasets:
            # A hash collision with an RS of another template: bump collisionCount and retry next sync.
            d.status["collisionCount"] = collision + 1
            self.dirty = True
            self.state.enqueue("deployment", d.key)
            return None, old
        count = new_rs_new_replicas(d, [*old, rs], rs)
        rs.spec["replicas"] = count
        self._set_new_rs_annotations(rs, new_revision, exists=False)
        self.state.add(rs)
        self.state.activity.add("controller-manager")
        if count > 0:
            self.state.record(
                d,
                "Normal",
                "ScalingReplicaSet",
                f"Scaled up replica set {rs.name} from 0 to {count}",
                SOURCE,
            )
        if d.annotations.get(REVISION) != new_revision:
            d.annotations[REVISION] = new_revision
            self.dirty = True
        if self.has_deadline():
            set_condition(
                d.status.setdefault("conditions", []),
                {
                    "type": "Progressing",
                    "status": "True",
                    "reason": "NewReplicaSetCreated",
                    "message": f'Created new replica set "{rs.name}"',
                },
                self.state.now,
            )
            self.dirty = True
        return rs, old

    def _set_new_rs_annotations(self, rs: ReplicaSet, new_revision: str, exists: bool) -> bool:
        d = self.d
        changed = False
        for k, v in d.annotations.items():
            if k not in SKIP_ANNOTATIONS and rs.annotations.get(k) != v:
                rs.annotations[k] = v
                changed = True
        old_rev = rs.annotations.get(REVISION)
        old_int = int(old_rev) if old_rev and old_rev.isdigit() else 0
        if old_int < int(new_revision):
            rs.annotations[REVISION] = new_revision
            changed = True
            if old_rev:
                hist = rs.annotations.get(REVISION_HISTORY, "")
                rs.annotations[REVISION_HISTORY] = f"{hist},{old_rev}" if hist else old_rev
        if not exists:
            rs.annotations[DESIRED] = str(d.replicas)
            rs.annotations[MAX_REPLICAS] = str(d.replicas + max_surge(d))
            changed = True
        return changed

    def has_deadline(self) -> bool:
        pds = self.d.spec.get("progressDeadlineSeconds")
        return pds is not None and int(pds) != MAX_INT32

    # ----- sync / scale (scaling events and paused deployments) -------------------------------
    def is_scaling_event(self) -> bool:
        new_rs, old = self.get_all(create=False)
        for rs in active_rss([*old, new_rs]):
            desired = rs.annotations.get(DESIRED)
            if desired is not None and desired.isdigit() and int(desired) != self.d.replicas:
                return True
        return False

    def sync(self) -> None:
        new_rs, old = self.get_all(create=False)
        self.scale(new_rs, old)
        if self.d.spec.get("paused"):
            self.cleanup(old)
        self.sync_status([*old, new_rs], new_rs)

    def scale(self, new_rs: ReplicaSet | None, old: list[ReplicaSet]) -> None:
        d = self.d
        latest = self.find_active_or_latest(new_rs, old)
        if latest is not None:
            if latest.replicas != d.replicas:
                self.scale_rs(latest, d.replicas, "up" if latest.replicas < d.replicas else "down")
            return
        if self.is_saturated(new_rs):
            for rs in active_rss(old):
                self.scale_and_record(rs, 0)
            return
        if not is_rolling(d):
            return
        all_rss = active_rss([*old, new_rs])
        all_replicas = rs_replicas(all_rss)
        allowed = d.replicas + max_surge(d) if d.replicas > 0 else 0
        to_add = allowed - all_replicas
        operation = ""
        if to_add > 0:
            # ReplicaSetsBySizeNewer: bigger first, then newer first.
            all_rss.sort(key=lambda r: (-r.replicas, -r.created, r.name))
            operation = "up"
        elif to_add < 0:
            # ReplicaSetsBySizeOlder: bigger first, then older first.
            all_rss.sort(key=lambda r: (-r.replicas, r.created, r.name))
            operation = "down"
        added = 0
        sizes: dict[str, int] = {}
        for rs in all_rss:
            if to_add != 0:
                proportion = self.proportion(rs, to_add, added)
                sizes[rs.name] = rs.replicas + proportion
                added += proportion
            else:
                sizes[rs.name] = rs.replicas
        for i, rs in enumerate(all_rss):
            if i == 0 and to_add != 0:
                sizes[rs.name] = max(sizes[rs.name] + (to_add - added), 0)
            self.scale_rs(rs, sizes[rs.name], operation)

    def proportion(self, rs: ReplicaSet, to_add: int, added: int) -> int:
        """``GetProportion`` and ``getReplicaSetFraction``."""
        if rs.replicas == 0 or to_add == 0 or to_add == added:
            return 0
        d = self.d
        if d.replicas == 0:
            fraction = -rs.replicas
        else:
            deployment_replicas = d.replicas + max_surge(d)
            ann = rs.annotations.get(MAX_REPLICAS)
            annotated = int(ann) if ann and ann.isdigit() else int(d.status.get("replicas", 0))
            if annotated == 0:
                fraction = 0
            else:
                size = rs.replicas * deployment_replicas / annotated
                fraction = int(math.floor(size + 0.5)) - rs.replicas
        allowed = to_add - added
        return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)

    def find_active_or_latest(
        self, new_rs: ReplicaSet | None, old: list[ReplicaSet]
    ) -> ReplicaSet | None:
        if new_rs is None and not old:
            return None
        old_sorted = sorted(old, key=lambda r: (r.created, r.name), reverse=True)
        active = active_rss([*old_sorted, new_rs])
        if not active:
            return new_rs if new_rs is not None else old_sorted[0]
        if len(active) == 1:
            return active[0]
        return None

    def is_saturated(self, rs: ReplicaSet | None) -> bool:
        if rs is None:
            return False
        d = self.d
        desired = rs.annotations.get(DESIRED)
        return (
            desired == str(d.replicas)
            and rs.replicas == d.replicas
            and int(rs.status.get("availableReplicas", 0)) == d.replicas
        )

    # ----- rolling update (rolling.go) ------------------------------------------------------
    def rollout_rolling(self) -> None:
        new_rs, old = self.get_all(create=True)
        if new_rs is None:
            self.sync_status(list(old), None)
            return
        all_rss: list[ReplicaSet | None] = [*old, new_rs]
        if self.reconcile_new_replica_set(all_rss, new_rs):
            self.sync_rollout_status(all_rss, new_rs)
            return
        if self.reconcile_old_replica_sets(all_rss, active_rss(old), new_rs):
            self.sync_rollout_status(all_rss, new_rs)
            return
        if self.deployment_complete(self.d.status):
            self.cleanup(old)
        self.sync_rollout_status(all_rss, new_rs)

    def reconcile_new_replica_set(
        self, all_rss: list[ReplicaSet | None], new_rs: ReplicaSet
    ) -> bool:
        d = self.d
        if new_rs.replicas == d.replicas:
            return False
        if new_rs.replicas > d.replicas:
            return self.scale_and_record(new_rs, d.replicas)
        return self.scale_and_record(new_rs, new_rs_new_replicas(d, all_rss, new_rs))

    def reconcile_old_replica_sets(
        self, all_rss: list[ReplicaSet | None], old: list[ReplicaSet], new_rs: ReplicaSet
    ) -> bool:
        d = self.d
        if rs_replicas(list(old)) == 0:
            return False
        all_pods = rs_replicas(all_rss)
        min_available = d.replicas - max_unavailable(d)
        new_unavailable = new_rs.replicas - int(new_rs.status.get("availableReplicas", 0))
        max_scaled_down = all_pods - min_available - new_unavailable
        if max_scaled_down <= 0:
            return False
        cleaned = self.cleanup_unhealthy_replicas(old, max_scaled_down)
        scaled = self.scale_down_old_for_rolling_update([*old, new_rs], old)
        return cleaned + scaled > 0

    def cleanup_unhealthy_replicas(self, old: list[ReplicaSet], max_cleanup: int) -> int:
        total = 0
        for rs in sorted(old, key=lambda r: (r.created, r.name)):
            if total >= max_cleanup:
                break
            available = int(rs.status.get("availableReplicas", 0))
            if rs.replicas == 0 or rs.replicas == available:
                continue
            count = min(max_cleanup - total, rs.replicas - available)
            self.scale_and_record(rs, rs.replicas - count)
            total += count
        return total

    def scale_down_old_for_rolling_update(
        self, all_rss: list[ReplicaSet | None], old: list[ReplicaSet]
    ) -> int:
        d = self.d
        min_available = d.replicas - max_unavailable(d)
        available = rs_available(all_rss)
        if available <= min_available:
            return 0
        total_to_scale = available - min_available
        total = 0
        for rs in sorted(old, key=lambda r: (r.created, r.name)):
            if total >= total_to_scale:
                break
            if rs.replicas == 0:
                continue
            count = min(rs.replicas, total_to_scale - total)
            self.scale_and_record(rs, rs.replicas - count)
            total += count
        return total

    # ----- Recreate (recreate.go) -----------------------------------------------------------
    def rollout_recreate(self) -> None:
        new_rs, old = self.get_all(create=False)
        all_rss: list[ReplicaSet | None] = [*old, new_rs]
        scaled_down = False
        for rs in active_rss(list(old)):
            if self.scale_and_record(rs, 0):
                scaled_down = True
        if scaled_down:
            self.sync_rollout_status(all_rss, new_rs)
            return
        if self.old_pods_running(new_rs, old):
            self.sync_rollout_status(all_rss, new_rs)
            return
        if new_rs is None:
            new_rs, old = self.get_all(create=True)
            all_rss = [*old, new_rs]
        if new_rs is not None:
            self.scale_and_record(new_rs, self.d.replicas)
        if self.deployment_complete(self.d.status):
            self.cleanup(old)
        self.sync_rollout_status(all_rss, new_rs)

    def old_pods_running(self, new_rs: ReplicaSet | None, old: list[ReplicaSet]) -> bool:
        if rs_actual(list(old)) > 0:
            return True
        for rs in old:
            for pod in self.state.pods_of(rs.uid):
                if pod.phase not in ("Failed", "Succeeded"):
                    return True
        return False

    # ----- history --------------------------------------------------------------------------
    def cleanup(self, old: list[ReplicaSet]) -> None:
        limit = self.d.spec.get("revisionHistoryLimit")
        if limit is None:
            return
        alive = [rs for rs in old if rs.deleted is None]
        diff = len(alive) - int(limit)
        if diff <= 0:
            return
        alive.sort(key=lambda r: (r.revision, r.created, r.name))
        for rs in alive[:diff]:
            if int(rs.status.get("replicas", 0)) != 0 or rs.replicas != 0:
                continue
            if rs.generation > int(rs.status.get("observedGeneration", 0)):
                continue
            if self.state.pods_of(rs.uid):
                continue
            self.state.remove(rs)

    # ----- status (progress.go, sync.go) -------------------------------------------------------
    def calculate_status(
        self, all_rss: list[ReplicaSet | None], new_rs: ReplicaSet | None
    ) -> dict[str, Any]:
        d = self.d
        available = rs_available(all_rss)
        total = rs_replicas(all_rss)
        status: dict[str, Any] = {
            "observedGeneration": d.generation,
            "replicas": rs_actual(all_rss),
            "updatedReplicas": rs_actual([new_rs]),
            "readyReplicas": rs_ready(all_rss),
            "availableReplicas": available,
            "unavailableReplicas": max(total - available, 0),
            "terminatingReplicas": sum(
                int(rs.status.get("terminatingReplicas", 0)) for rs in all_rss if rs is not None
            ),
        }
        if "collisionCount" in d.status:
            status["collisionCount"] = d.status["collisionCount"]
        conditions = [dict(c) for c in d.status.get("conditions") or []]
        if available >= d.replicas - max_unavailable(d):
            set_condition(
                conditions,
                {
                    "type": "Available",
                    "status": "True",
                    "reason": "MinimumReplicasAvailable",
                    "message": "Deployment has minimum availability.",
                },
                self.state.now,
            )
        else:
            set_condition(
                conditions,
                {
                    "type": "Available",
                    "status": "False",
                    "reason": "MinimumReplicasUnavailable",
                    "message": "Deployment does not have minimum availability.",
                },
                self.state.now,
            )
        status["conditions"] = conditions
        return status

    def deployment_complete(self, status: dict[str, Any]) -> bool:
        d = self.d
        return (
            status.get("updatedReplicas", 0) == d.replicas
            and status.get("replicas", 0) == d.replicas
            and status.get("availableReplicas", 0) == d.replicas
            and status.get("observedGeneration", 0) >= d.generation
        )

    def deployment_progressing(self, new: dict[str, Any]) -> bool:
        old = self.d.status
        old_old = old.get("replicas", 0) - old.get("updatedReplicas", 0)
        new_old = new.get("replicas", 0) - new.get("updatedReplicas", 0)
        return (
            new.get("updatedReplicas", 0) > old.get("updatedReplicas", 0)
            or new_old < old_old
            or new.get("readyReplicas", 0) > old.get("readyReplicas", 0)
            or new.get("availableReplicas", 0) > old.get("availableReplicas", 0)
        )

    def deployment_timed_out(self, status: dict[str, Any]) -> bool:
        if not self.has_deadline():
            return False
        cond = get_condition(status.get("conditions"), "Progressing")
        if cond is None or cond.get("reason") == "NewReplicaSetAvailable":
            return False
        if cond.get("reason") == "ProgressDeadlineExceeded":
            return True
        return (
            cond.get("lastUpdateTime", 0) + int(self.d.spec["progressDeadlineSeconds"])
            < self.state.now
        )

    def sync_rollout_status(
        self, all_rss: list[ReplicaSet | None], new_rs: ReplicaSet | None
    ) -> None:
        d = self.d
        now = self.state.now
        new = self.calculate_status(all_rss, new_rs)
        conds = new["conditions"]
        if not self.has_deadline():
            remove_condition(conds, "Progressing")
        current = get_condition(d.status.get("conditions"), "Progressing")
        complete = (
            new["replicas"] == new["updatedReplicas"]
            and current is not None
            and current.get("reason") == "NewReplicaSetAvailable"
        )
        rs_name = new_rs.name if new_rs is not None else ""
        if self.has_deadline() and not complete:
            if self.deployment_complete(new):
                set_condition(
                    conds,
                    {
                        "type": "Progressing",
                        "status": "True",
                        "reason": "NewReplicaSetAvailable",
                        "message": f'ReplicaSet "{rs_name}" has successfully progressed.',
                    },
                    now,
                )
            elif self.deployment_progressing(new):
                cond = {
                    "type": "Progressing",
                    "status": "True",
                    "reason": "ReplicaSetUpdated",
                    "message": f'ReplicaSet "{rs_name}" is progressing.'
                    if new_rs is not None
                    else f'Deployment "{d.name}" is progressing.',
                    "lastUpdateTime": now,
                    "lastTransitionTime": now,
                }
                if current is not None:
                    if current["status"] == "True":
                        cond["lastTransitionTime"] = current.get("lastTransitionTime", now)
                    remove_condition(conds, "Progressing")
                conds.append(cond)
            elif self.deployment_timed_out(new):
                set_condition(
                    conds,
                    {
                        "type": "Progressing",
                        "status": "False",
                        "reason": "ProgressDeadlineExceeded",
                        "message": f'ReplicaSet "{rs_name}" has timed out progressing.',
                    },
                    now,
                )
        failures = [
            c
            for rs in all_rss
            if rs is not None
            for c in rs.status.get("conditions") or []
            if c["type"] == "ReplicaFailure" and c["status"] == "True"
        ]
        if failures:
            set_condition(conds, dict(failures[0]), now)
        else:
            remove_condition(conds, "ReplicaFailure")
        self._write_status(new)
        # requeueStuckDeployment: look again when the progress deadline would pass.
        cond = get_condition(conds, "Progressing")
        if (
            self.has_deadline()
            and cond is not None
            and cond.get("reason") not in ("NewReplicaSetAvailable", "ProgressDeadlineExceeded")
            and not self.deployment_complete(new)
        ):
            at = cond.get("lastUpdateTime", now) + int(d.spec["progressDeadlineSeconds"]) + 1
            self.state.set_timer(
                "deployment",
                d.key,
                at,
                label="progress deadline",
                obj=f"deployment/{d.namespace}/{d.name}",
            )
        else:
            self.state.clear_timer("deployment", d.key)

    def sync_status(self, all_rss: list[ReplicaSet | None], new_rs: ReplicaSet | None) -> None:
        self._write_status(self.calculate_status(all_rss, new_rs))

    def _write_status(self, new: dict[str, Any]) -> None:
        if new != self.d.status:
            self.d.status = new
            self.dirty = True

    def check_paused_conditions(self) -> None:
        d = self.d
        if not self.has_deadline():
            return
        conds = d.status.setdefault("conditions", [])
        cond = get_condition(conds, "Progressing")
        if cond is not None and cond.get("reason") == "ProgressDeadlineExceeded":
            return
        paused_exists = cond is not None and cond.get("reason") == "DeploymentPaused"
        if d.spec.get("paused") and not paused_exists:
            set_condition(
                conds,
                {
                    "type": "Progressing",
                    "status": "Unknown",
                    "reason": "DeploymentPaused",
                    "message": "Deployment is paused",
                },
                self.state.now,
            )
            self.dirty = True
        elif not d.spec.get("paused") and paused_exists:
            set_condition(
                conds,
                {
                    "type": "Progressing",
                    "status": "Unknown",
                    "reason": "DeploymentResumed",
                    "message": "Deployment is resumed",
                },
                self.state.now,
            )
            self.dirty = True


def sync_deployment(state: ClusterState, d: Deployment) -> None:
    c = Controller(state, d)
    if d.deleted is not None:
        new_rs, old = c.get_all(create=False)
        c.sync_status([*old, new_rs], new_rs)
    else:
        c.check_paused_conditions()
        if d.spec.get("paused") or c.is_scaling_event():
            c.sync()
        elif is_rolling(d):
            c.rollout_rolling()
        else:
            c.rollout_recreate()
    if c.dirty:
        state.touch(d)


def run(state: ClusterState) -> None:
    for key in state.take("deployment"):
        d = state.deployments.get(key)
        if d is not None:
            sync_deployment(state, d)
