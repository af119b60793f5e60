"""The simulated Kubernetes v1.34 cluster: pure Python, no Django.

Nothing here imports Django, touches a database or a channel layer, or reads the wall clock: a
driver (the web app's service layer, ``manage.py simulate``, a test) says what time it is. One
module per box of the usual architecture diagram, around the state they share:

    kinds/          the kind registry: one module per kind (namespace, node, pod, replicaset,
                    deployment, service, horizontalpodautoscaler, ingress, ingressclass, event),
                    each declaring its Kind entry (group, version, names, scope, verbs, object
                    class, printer columns, describer, browser view, controller queues, model)
    objects.py      the API objects in Kubernetes' own JSON shape (spec, status) plus ``sim``
    quantity.py     resource quantities ("250m", "128Mi") parsed as apimachinery does
    state.py        ClusterState: every object of one cluster, its indexes, timers, and what changed
    clock.py        simulated time: speed, pause, durations
    control_loop.py one tick: timer to timer, every component in order (a discrete-event simulation)
    apiserver/      kube-apiserver: safe YAML (manifests), validation, defaults, admission, apply,
                    authz (RBAC's refusals), quota (ResourceQuota, LimitRange), preview
    scheduler.py    kube-scheduler: filter, score, bind, with a decision record per attempt
    controllers/    kube-controller-manager: deployment, replicaset, node_lifecycle,
                    taint_eviction, podgc, endpoints, hpa, service_lb (the cloud's load balancers)
    kubelet.py      one per node: image pulls, containers, probes, back-off, heartbeats
    traffic.py      simulated clients, kube-proxy's choice of endpoint, the metrics behind `top`
    registry.py     the simulated image registry: which images exist and how they behave
    actions.py      kubectl's imperative commands and the instructor's node actions
    kubectl.py      the kubectl subset over any store of a cluster
    printers.py     kubectl's words: STATUS, READY, AGE, get tables, describe
    scenario.py     scenario files: nodes and timed steps, headless runs, the JSON summary
    lesson.py       a lesson's later steps on a live cluster's clock
"""

from __future__ import annotations

KUBERNETES_VERSION = "v1.34.2"
