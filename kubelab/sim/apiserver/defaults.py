"""API defaulting (``pkg/apis/*/v1/defaults.go``): what ``kubectl get -o yaml`` shows you did not write."""

from __future__ import annotations

from typing import Any


def default_probe(p: dict[str, Any]) -> None:
    p.setdefault("timeoutSeconds", 1)
    p.setdefault("periodSeconds", 10)
    p.setdefault("successThreshold", 1)
    p.setdefault("failureThreshold", 3)
    if "httpGet" in p:
        p["httpGet"].setdefault("path", "/")
        p["httpGet"].setdefault("scheme", "HTTP")


def default_container(c: dict[str, Any]) -> None:
    image = str(c.get("image") or "")
    if "imagePullPolicy" not in c:
        last = image.rsplit("/", 1)[-1]
        if "@" in image:
            c["imagePullPolicy"] = "IfNotPresent"
        elif ":" not in last or last.endswith(":latest"):
            c["imagePullPolicy"] = "Always"
        else:
            c["imagePullPolicy"] = "IfNotPresent"
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    c.setdefault("resources", {})
    for p in c.get("ports") or []:
        p.setdefault("protocol", "TCP")
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        if isinstance(c.get(probe), dict):
            default_probe(c[probe])


def default_pod_spec(spec: dict[str, Any]) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    for c in spec.get("initContainers") or []:
        default_container(c)
    for c in spec.get("containers") or []:
        default_container(c)
    for t in spec.get("tolerations") or []:
        if t.get("operator") is None and t.get("key"):
            t["operator"] = "Equal"


def default_deployment(spec: dict[str, Any]) -> None:
    spec.setdefault("replicas", 1)
    strategy = spec.setdefault("strategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        ru = strategy.setdefault("rollingUpdate", {})
        ru.setdefault("maxSurge", "25%")
        ru.setdefault("maxUnavailable", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    template = spec.setdefault("template", {})
    template.setdefault("metadata", {})
    default_pod_spec(template.setdefault("spec", {}))


def default_replicaset(spec: dict[str, Any]) -> None:
    spec.setdefault("replicas", 1)
    template = spec.setdefault("template", {})
    template.setdefault("metadata", {})
    default_pod_spec(template.setdefault("spec", {}))


def default_service(spec: dict[str, Any]) -> None:
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    spec.setdefault("internalTrafficPolicy", "Cluster")
    if spec["type"] in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    for p in spec.get("ports") or []:
        p.setdefault("protocol", "TCP")
        p.setdefault("targetPort", p.get("port"))


DEFAULT_CPU_UTILIZATION = 80  # autoscaling/v2 defaults.go: DefaultCPUUtilization


def default_hpa(spec: dict[str, Any]) -> None:
    """autoscaling/v2 ``SetDefaults_HorizontalPodAutoscaler``: minReplicas 1, and with no metrics
    CPU utilisation at 80%. ``behavior`` stays unset (the controller applies its defaults)."""
    spec.setdefault("minReplicas", 1)
    if not spec.get("metrics"):
        spec["metrics"] = [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {
                        "type": "Utilization",
                        "averageUtilization": DEFAULT_CPU_UTILIZATION,
                    },
                },
            }
        ]
