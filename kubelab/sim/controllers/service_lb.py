"""The cloud controller's service controller: a LoadBalancer Service gets an external address.

Like a cloud (or kind's cloud-provider-kind, MetalLB), it takes a moment: the Service shows
``EXTERNAL-IP <pending>`` while the controller records ``Normal EnsuringLoadBalancer "Ensuring
load balancer"``; ``PROVISION_SECONDS`` later the address (from a documentation range, so it can
never be mistaken for a real one) is in ``status.loadBalancer.ingress`` and ``Normal
EnsuredLoadBalancer "Ensured load balancer"`` follows (event reasons of upstream's
``service_controller.go``).
"""

from __future__ import annotations

import ipaddress
import uuid

from kubelab.sim.kinds import IngressClass, Service
from kubelab.sim.objects import KObject
from kubelab.sim.state import ClusterState

SOURCE = "service-controller"
PROVISION_SECONDS = 3.0
POOL = ipaddress.ip_network("198.51.100.0/24")  # TEST-NET-2 (RFC 5737)


def _address(state: ClusterState) -> str | None:
    used = {
        i.get("ip")
        for s in state.services.values()
        for i in (s.status.get("loadBalancer") or {}).get("ingress") or []
    }
    for host in POOL.hosts():
        if str(host) not in used and str(host) != INGRESS_CONTROLLER_IP:
            return str(host)
    return None


def sync(state: ClusterState, svc: Service) -> None:
    lb = svc.status.get("loadBalancer") or {}
    if svc.spec.get("type") != "LoadBalancer":
        if lb.get("ingress"):
            svc.status = {"loadBalancer": {}}
            state.touch(svc)
        return
    if lb.get("ingress"):
        return
    started = svc.sim.get("lbSince")
    if started is None:
        svc.sim["lbSince"] = state.now
        state.record(svc, "Normal", "EnsuringLoadBalancer", "Ensuring load balancer", SOURCE)
        state.touch_quiet(svc)
        state.set_timer("lb", svc.key, state.now + PROVISION_SECONDS)
        return
    if state.now + 1e-9 < started + PROVISION_SECONDS:
        state.set_timer("lb", svc.key, started + PROVISION_SECONDS)
        return
    ip = _address(state)
    if ip is None:
        state.record(
            svc,
            "Warning",
            "SyncLoadBalancerFailed",
            "Error syncing load balancer: no addresses left in the pool",
            SOURCE,
        )
        return
    svc.status = {"loadBalancer": {"ingress": [{"ip": ip, "ipMode": "VIP"}]}}
    svc.sim.pop("lbSince", None)
    state.touch(svc)
    state.record(svc, "Normal", "EnsuredLoadBalancer", "Ensured load balancer", SOURCE)


INGRESS_CONTROLLER_IP = str(POOL[-2])  # the ingress controller's own LoadBalancer address
INGRESS_SOURCE = "nginx-ingress-controller"
# ingress-nginx as its Helm chart installs it: IngressClass "nginx", not marked as the default.
INGRESS_CLASS = "nginx"
INGRESS_CONTROLLER = "k8s.io/ingress-nginx"
LEGACY_CLASS_ANNOTATION = "kubernetes.io/ingress.class"


def ingress_class(state: ClusterState) -> IngressClass:
    """The IngressClass installed with the controller, as old as the cluster's oldest node."""
    born = min((n.created for n in state.nodes.values()), default=0.0)
    return IngressClass(
        name=INGRESS_CLASS,
        uid=str(uuid.uuid5(uuid.NAMESPACE_URL, "kubelab:ingressclass/nginx")),
        resource_version=1,
        created=born,
        labels={
            "app.kubernetes.io/component": "controller",
            "app.kubernetes.io/name": "ingress-nginx",
        },
        spec={"controller": INGRESS_CONTROLLER},
    )


def claims(ing: KObject) -> bool:
    """Whether ingress-nginx serves this Ingress: its class is ``nginx`` (or, with no class field,
    the legacy ``kubernetes.io/ingress.class: nginx`` annotation). Since ingress-nginx 1.0 an
    Ingress without a class is ignored (``--watch-ingress-without-class`` is off by default): it
    gets no address, and requests for its hosts get the controller's 404."""
    cls = ing.spec.get("ingressClassName")
    if cls is None:
        cls = ing.annotations.get(LEGACY_CLASS_ANNOTATION)
    return cls == INGRESS_CLASS


def sync_ingress(state: ClusterState, ing: KObject) -> None:
    """The ingress controller at the cluster's edge picks the Ingress up and publishes its address
    (only an Ingress of its class: others it leaves alone)."""
    if not claims(ing):
        return
    want = {"loadBalancer": {"ingress": [{"ip": INGRESS_CONTROLLER_IP}]}}
    if ing.status == want:
        return
    ing.status = want
    state.touch_quiet(ing)
    state.record(ing, "Normal", "Sync", "Scheduled for sync", INGRESS_SOURCE)


def run(state: ClusterState) -> None:
    for key in state.take("lb"):
        if isinstance(key, tuple) and len(key) == 3 and key[0] == "ingress":
            ing = state.ingresses.get((key[1], key[2]))
            if ing is not None:
                sync_ingress(state, ing)
            continue
        svc = state.services.get(key)
        if svc is not None:
            sync(state, svc)
