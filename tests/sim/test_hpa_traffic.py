"""Traffic (kube-proxy, pod service model, metrics) and the HorizontalPodAutoscaler — engine only."""

from __future__ import annotations

import random

import pytest

from kubelab.sim import traffic
from kubelab.sim.apiserver.apply import apply_text
from kubelab.sim.control_loop import advance
from kubelab.sim.controllers.hpa import PodSample, replicas_for_cpu
from kubelab.sim.kubectl import LocalApi, run

from .helpers import cluster, deployment_yaml

NOW = 10_000.0


def pods(usages, requests=None, ready=None, start=NOW - 3600):  # type: ignore[no-untyped-def]
    requests = requests or [1000] * len(usages)
    ready = ready or [True] * len(usages)
    return [
        PodSample(
            f"p{i}",
            requests[i],
            u,
            ready=ready[i],
            start=start,
            ready_changed=start,
            sampled_at=NOW,
        )
        for i, u in enumerate(usages)
    ]


# ----- pkg/controller/podautoscaler/replica_calculator_test.go -----------------------------------
def test_replica_calc_scale_up() -> None:
    # TestReplicaCalcScaleUp: 3 pods, 1 CPU each, usage 300/500/700m, target 30% → 50%, 5 replicas.
    assert replicas_for_cpu(3, 30, pods([300, 500, 700]), NOW) == (5, 50)


def test_replica_calc_scale_up_unready_less_scale() -> None:
    # …ScaleUpUnreadyLessScale: the first pod unready → utilisation 60 (ready pods only), and it
    # counts as 0 on the scale-up: 4 replicas, not 6.
    ps = pods([300, 500, 700], ready=[False, True, True], start=NOW - 60)
    assert replicas_for_cpu(3, 30, ps, NOW) == (4, 60)


def test_replica_calc_scale_down_ignores_unready_pods() -> None:
    # …ScaleDownIgnoresUnreadyPods: 5 pods, last 2 unready, usage 100/300/500/250/250, target 50
    # → utilisation 30, 2 replicas.
    ps = pods([100, 300, 500, 250, 250], ready=[True, True, True, False, False], start=NOW - 60)
    assert replicas_for_cpu(5, 50, ps, NOW) == (2, 30)


def test_replica_calc_tolerance() -> None:
    # …Tolerance: requests 0.9/1.0/1.1, usage 1010/1030/1020, target 100 → 102%, stays at 3.
    ps = pods([1010, 1030, 1020], requests=[900, 1000, 1100])
    assert replicas_for_cpu(3, 100, ps, NOW) == (3, 102)


def test_missing_metrics_count_as_target_on_scale_down() -> None:
    # Missing pods count as max(100, target)% of their request on a scale-down.
    ps = pods([100, 100, None])  # type: ignore[list-item]
    # ready pods: 10% of target 50 → ratio 0.2; the missing pod at 100% → (100+100+1000)/3000 = 40%
    # → ratio 0.8 → ceil(0.8 × 3) = 3: no change (the fallback keeps it from shrinking too far).
    assert replicas_for_cpu(3, 50, ps, NOW) == (3, 10)


# ----- kube-proxy ------------------------------------------------------------------------------------
CHI2_3DF_999 = 16.27  # chi-square, 3 degrees of freedom, p = 0.001


def chi2(counts: list[int]) -> float:
    expected = sum(counts) / len(counts)
    return sum((c - expected) ** 2 / expected for c in counts)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kube_proxy_spreads_connections_uniformly(seed: int) -> None:
    # kube-proxy, pkg/proxy/iptables/proxier.go: iptables rule i matches with probability 1/(n−i): each new connection
    # goes to a uniformly random endpoint (not round-robin).
    rng = random.Random(seed)
    counts = [0, 0, 0, 0]
    for _ in range(10_000):
        for i, k in enumerate(traffic.kube_proxy_split(rng, 1, 4)):
            counts[i] += k
    assert sum(counts) == 10_000
    assert chi2(counts) < CHI2_3DF_999, counts
    # Batched per second (the simulation's path): same distribution.
    batched = [0, 0, 0, 0]
    for _ in range(100):
        for i, k in enumerate(traffic.kube_proxy_split(rng, 100, 4)):
            batched[i] += k
    assert sum(batched) == 10_000 and chi2(batched) < CHI2_3DF_999, batched


SERVICE = """apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
"""


def web_cluster(replicas: int = 4):  # type: ignore[no-untyped-def]
    st = cluster()
    apply_text(st, deployment_yaml(replicas=replicas, cpu="100m"))
    apply_text(st, SERVICE)
    advance(st, 60)
    return st


def test_not_ready_pods_get_no_traffic_and_no_endpoints_refuse() -> None:
    from kubelab.sim import actions

    st = web_cluster(4)
    assert len(st.services[("default", "web")].sim["endpoints"]) == 4
    traffic.set_load(st, "default", "web", 400)
    node = next(iter(st.pods.values())).node_name
    actions.fail_node(st, node)  # its pods turn not ready after the 40 s grace period
    advance(st, st.now + 60)
    lost = {p.name for p in st.pods.values() if p.node_name == node}
    summary = st.traffic["default/web"]
    assert lost and not lost & set(summary["split"])
    assert len(summary["split"]) == 4 - len(lost)
    assert summary["errors"] == 0 and 350 < summary["rps"] < 450
    # A selector that matches nothing: every connection refused.
    apply_text(st, SERVICE.replace("app: web", "app: nothing").replace("name: web", "name: lost"))
    traffic.set_load(st, "default", "lost", 50)
    advance(st, st.now + 5)
    lost = st.traffic["default/lost"]
    assert lost["rps"] == 0 and lost["refused"] == lost["errors"] and 30 < lost["errors"] < 70


def test_load_turns_into_cpu_and_kubectl_top() -> None:
    st = web_cluster(2)
    traffic.set_load(st, "default", "web", 100)
    advance(st, st.now + 30)
    out = run(LocalApi(st), "top pods").out.splitlines()
    assert out[0].split() == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    cpus = [int(line.split()[1].rstrip("m")) for line in out[1:] if line.startswith("web-")]
    assert len(cpus) == 2 and all(40 <= c <= 62 for c in cpus), out  # ~50 req/s each + 1m idle
    nodes = run(LocalApi(st), "top nodes").out.splitlines()
    assert nodes[0].split() == ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]


def test_overload_fails_requests_and_raises_latency() -> None:
    st = web_cluster(1)
    traffic.set_load(st, "default", "web", 1000)  # ceiling 4 × 100m = 399 req/s
    advance(st, st.now + 10)
    s = st.traffic["default/web"]
    assert 390 <= s["rps"] <= 400 and s["errors"] >= 550 and s["p95"] > 100


HPA = """apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 10
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
"""


def test_hpa_scales_to_the_predicted_count_and_down_only_after_stabilisation() -> None:
    # pkg/controller/podautoscaler: sync every 15 s (config/v1alpha1/defaults.go), ceil(current ×
    # usage/target) (replica_calculator.go), scale-down stabilised over 300 s (horizontal.go).
    st = web_cluster(2)
    apply_text(st, HPA)
    traffic.set_load(st, "default", "web", 100)  # 50 req/s per pod ≈ 51% of 100m: within tolerance
    advance(st, st.now + 400)
    d = st.deployments[("default", "web")]
    assert d.replicas == 2
    hpa = st.hpas[("default", "web")]
    assert hpa.status["currentMetrics"][0]["resource"]["current"]["averageUtilization"] in (
        50,
        51,
        52,
    )
    table = run(LocalApi(st), "get hpa").out.splitlines()
    assert table[0].split() == [
        "NAME",
        "REFERENCE",
        "TARGETS",
        "MINPODS",
        "MAXPODS",
        "REPLICAS",
        "AGE",
    ]
    assert "Deployment/web" in table[1] and "cpu: 5" in table[1] and "%/50%" in table[1]

    traffic.set_load(st, "default", "web", 200)  # doubled: ~101% → ceil(2 × 101/50) = 5
    # The 15 s metrics window fills while the HPA syncs (2 → 3 on a half-full window, then 5).
    advance(st, st.now + 60)
    assert d.replicas == 5
    assert ev_messages(st)[-1] == (
        "New size: 5; reason: cpu resource utilization (percentage of request) above target"
    )
    advance(st, st.now + 600)
    settled = d.replicas
    assert settled in (4, 5)  # 200 req/s over 4–5 pods sits within tolerance of 50%

    traffic.set_load(st, "default", "web", 0)
    dropped = st.now
    advance(st, dropped + 280)
    assert d.replicas == settled  # the highest recommendation of the last 300 s still holds
    advance(st, dropped + 340)
    assert d.replicas == 2
    assert ev_messages(st)[-1] == "New size: 2; reason: All metrics below target"
    text = run(LocalApi(st), "describe hpa web").out
    assert "Reference:" in text and "Deployment/web" in text
    assert "resource cpu on pods  (as a percentage of request):" in text
    assert "ScalingActive" in text and "ValidMetricFound" in text


def ev_messages(st):  # type: ignore[no-untyped-def]
    return [
        e.message
        for e in sorted(st.events.values(), key=lambda e: e.seq)
        if e.reason == "SuccessfulRescale"
    ]


def test_kubectl_autoscale_creates_the_hpa() -> None:
    st = web_cluster(2)
    r = run(LocalApi(st), "autoscale deployment web --min=2 --max=6 --cpu-percent=60")
    assert r.out == "horizontalpodautoscaler.autoscaling/web autoscaled\n", r.err
    hpa = st.hpas[("default", "web")]
    assert hpa.spec["maxReplicas"] == 6 and hpa.spec["minReplicas"] == 2
    assert run(LocalApi(st), "autoscale deployment web --max=6").err.startswith(
        'Error from server (AlreadyExists): horizontalpodautoscalers.autoscaling "web" already exists'
    )


def test_hpa_validation_in_kubectl_words() -> None:
    st = web_cluster(1)
    r = run(LocalApi(st), "apply -f -", stdin=HPA.replace("maxReplicas: 10", "maxReplicas: 1"))
    assert r.code == 1
    assert (
        'The HorizontalPodAutoscaler "web" is invalid: spec.maxReplicas: Invalid value: 1: '
        "must be greater than or equal to `minReplicas`" in r.err
    )


def test_todo_app_requests_hop_between_tiers_and_a_backend_failure_shows_in_the_ui() -> None:
    # The seed's todo app: UI → http://todo-api:8080 → postgres://…@todo-db:5432 (from each
    # Deployment's env). Load on the UI reaches every tier; without the API, the UI's requests fail.
    from pathlib import Path

    from kubelab.sim import actions
    from kubelab.sim.scenario import load_scenario, run_scenario

    text = (Path(__file__).resolve().parents[2] / "kubelab/scenarios/todo-app.yaml").read_text()
    st = run_scenario(load_scenario(text), until=120)
    traffic.set_load(st, "default", "todo-ui", 40)
    advance(st, st.now + 10)
    ui, api, db = (st.traffic[f"default/todo-{t}"] for t in ("ui", "api", "db"))
    assert ui["calls"] == ["default/todo-api"] and api["calls"] == ["default/todo-db"]
    assert 30 <= ui["rps"] <= 50 and ui["errors"] == 0
    assert api["rps"] == ui["rps"] and db["rps"] == api["rps"]
    assert ui["p95"] >= api["p95"] >= db["p95"] > 0  # a request waits for the tiers behind it
    for name in {p.node_name for p in st.pods.values() if p.name.startswith("todo-api-")}:
        actions.fail_node(st, name)
    advance(st, st.now + 60)  # past the 40 s grace period: the API pods leave the endpoints
    assert st.services[("default", "todo-api")].sim["endpoints"] == []
    ui = st.traffic["default/todo-ui"]
    assert ui["errors"] > 30 and ui["rps"] < 5


def test_load_balancer_is_pending_then_gets_an_address() -> None:
    # kubectl get svc: EXTERNAL-IP <pending> until status.loadBalancer.ingress has an address
    # (printService, pkg/printers/internalversion/printers.go); the service controller's events say so.
    st = cluster()
    apply_text(st, SERVICE.replace("spec:\n", "spec:\n  type: LoadBalancer\n"))
    advance(st, st.now + 1)
    row = run(LocalApi(st), "get svc web").out.splitlines()[1].split()
    assert row[1] == "LoadBalancer" and row[3] == "<pending>" and row[4].startswith("80:3")
    advance(st, st.now + 5)
    row = run(LocalApi(st), "get svc web").out.splitlines()[1].split()
    assert row[3] == "198.51.100.1"
    reasons = [e.reason for e in sorted(st.events.values(), key=lambda e: e.seq)]
    assert reasons[-2:] == ["EnsuringLoadBalancer", "EnsuredLoadBalancer"]


INGRESS = """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop}
spec:
  ingressClassName: nginx
  rules:
  - host: shop.example
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
      - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
"""


def test_ingress_routes_by_host_and_path_and_shows_its_address() -> None:
    st = web_cluster(2)
    apply_text(st, deployment_yaml(name="api", replicas=2, cpu="100m"))
    apply_text(st, SERVICE.replace("web", "api"))
    apply_text(st, INGRESS)
    advance(st, st.now + 30)
    rows = run(LocalApi(st), "get ingress").out.splitlines()
    assert rows[0].split() == ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]
    assert rows[1].split()[:5] == ["shop", "nginx", "shop.example", "198.51.100.254", "80"]
    traffic.set_ingress_load(st, "default", "shop", 60, host="shop.example", path="/api/todos")
    advance(st, st.now + 5)
    assert st.traffic["ingress:default/shop"]["backend"] == "api"
    assert 45 <= st.traffic["default/api"]["rps"] <= 75 and "default/web" not in st.traffic
    traffic.set_ingress_load(st, "default", "shop", 60, host="other.example", path="/")
    advance(st, st.now + 3)
    assert st.traffic["ingress:default/shop"]["backend"] is None  # no rule: the controller's 404


def test_ingress_validation_in_kubectl_words() -> None:
    st = cluster()
    r = run(LocalApi(st), "apply -f -", stdin=INGRESS.replace("pathType: Prefix, ", "", 1))
    assert r.code == 1 and (
        'The Ingress "shop" is invalid: spec.rules[0].http.paths[0].pathType: Required value: '
        "pathType must be specified" in r.err
    ), r.err


def test_describe_ingress_in_kubectl_layout() -> None:
    """`kubectl describe ingress` (kubectl describe.go describeIngressV1, run through Go's
    tabwriter): each backend as svc:port with the Service's ready endpoints on that port (three,
    then "+ N more..."), TLS lines, a missing Service as kubectl's error, the controller's events."""
    st = web_cluster(4)
    tls = INGRESS.replace(
        "  rules:", "  tls:\n  - {hosts: [shop.example], secretName: shop-tls}\n  rules:"
    )
    apply_text(st, tls)
    advance(st, st.now + 30)
    eps = sorted(
        (p for p in st.pods.values() if p.ready),
        key=lambda p: tuple(map(int, p.ip.split("."))),
    )
    first3 = ",".join(f"{p.ip}:80" for p in eps[:3])
    text = run(LocalApi(st), "describe ingress shop").out
    assert text.splitlines() == [
        "Name:             shop",
        "Labels:           <none>",
        "Namespace:        default",
        "Address:          198.51.100.254",
        "Ingress Class:    nginx",
        "Default backend:  <default>",
        "TLS:",
        "  shop-tls terminates shop.example",
        "Rules:",
        "  Host          Path  Backends",
        "  ----          ----  --------",
        "  shop.example  ",
        f"                /      web:80 ({first3} + 1 more...)",
        '                /api   api:80 (<error: services "api" not found>)',
        "Annotations:    <none>",
        "Events:",
        "  Type    Reason  Age   From                      Message",
        "  ----    ------  ----  ----                      -------",
        "  Normal  Sync    30s   nginx-ingress-controller  Scheduled for sync",
    ]


def test_tabwrite_aligns_per_block_like_go() -> None:
    """Go's text/tabwriter: a line without a cell in a column ends that column's block."""
    from kubelab.sim.printers import tabwrite

    assert tabwrite(["a:\t1", "long key:\t2", "break", "b:\t3"]).splitlines() == [
        "a:         1",
        "long key:  2",
        "break",
        "b:  3",
    ]


def test_latency_percentiles_of_a_single_server_queue() -> None:
    """Each pod is an M/M/1 queue: response time exponential with mean L, so p50 = L·ln 2,
    p95 = L·ln 20, p99 = L·ln 100; a Service's are those of its pods' mix, by requests served."""
    from kubelab.sim.traffic import _quantiles

    p50, p95, p99 = _quantiles([(10.0, 100)])
    assert (round(p50, 2), round(p95, 2), round(p99, 2)) == (6.93, 29.96, 46.05)
    # Half the requests on a pod at mean 10 ms, half on one at 100 ms: the median sits between,
    # the tail belongs to the slow pod.
    p50, p95, p99 = _quantiles([(10.0, 50), (100.0, 50)])
    assert 10 < p50 < 60 and 230 < p95 < 240 and 390 < p99 < 400
    assert _quantiles([]) == [0.0, 0.0, 0.0]


def test_service_reports_p50_p95_p99() -> None:
    st = web_cluster(2)
    traffic.set_load(st, "default", "web", 100)
    advance(st, st.now + 5)
    s = st.traffic["default/web"]
    assert 0 < s["p50"] < s["p95"] < s["p99"]
    # kept as a short time series: [time, served, failed, p95, p50, p99] per simulated second
    series = st.metrics["services"]["default/web"]
    assert len(series) >= 4 and all(len(p) == 6 and p[4] <= p[3] <= p[5] for p in series)


def test_ingress_class_decides_which_controller_serves_an_ingress() -> None:
    """The cluster's one IngressClass is ingress-nginx's `nginx` (not the default class). Since
    ingress-nginx 1.0 an Ingress without a class, or of another class, is ignored: no ADDRESS, no
    Sync event, and its clients get the controller's 404. The legacy annotation still counts;
    both annotation and field on create is refused (networking validation, ValidateIngressCreate)."""
    st = web_cluster(2)
    api = LocalApi(st)
    out = run(api, "get ingressclass").out.splitlines()
    assert out[0].split() == ["NAME", "CONTROLLER", "PARAMETERS", "AGE"]
    assert out[1].split()[:3] == ["nginx", "k8s.io/ingress-nginx", "<none>"]
    assert "Controller:   k8s.io/ingress-nginx" in run(api, "describe ingressclass nginx").out
    r = run(api, "delete ingressclass nginx")
    assert r.code == 1 and "cannot be deleted" in r.err
    apply_text(st, INGRESS.replace("  ingressClassName: nginx\n", "").replace("shop", "plain"))
    apply_text(st, INGRESS.replace("ingressClassName: nginx", "ingressClassName: traefik"))
    legacy = INGRESS.replace("  ingressClassName: nginx\n", "").replace(
        "metadata: {name: shop}",
        "metadata: {name: legacy, annotations: {kubernetes.io/ingress.class: nginx}}",
    )
    apply_text(st, legacy)
    advance(st, st.now + 30)
    rows = {r.split()[0]: r.split() for r in run(api, "get ingress").out.splitlines()[1:]}
    assert rows["legacy"][3] == "198.51.100.254"
    assert rows["plain"][1] == "<none>" and rows["plain"][3] == "80"  # ADDRESS empty
    assert rows["shop"][1] == "traefik" and rows["shop"][3] == "80"
    assert "Events:           <none>" not in run(api, "describe ingress plain").out
    assert run(api, "describe ingress plain").out.rstrip().endswith("Events:          <none>")
    traffic.set_ingress_load(st, "default", "shop", 50, host="shop.example", path="/")
    advance(st, st.now + 3)
    t = st.traffic["ingress:default/shop"]
    assert t["backend"] is None and t["unclaimed"] and t["errors"] > 40 and t["rps"] == 0
    both = INGRESS.replace(
        "metadata: {name: shop}",
        "metadata: {name: both, annotations: {kubernetes.io/ingress.class: nginx}}",
    )
    r = run(api, "apply -f -", stdin=both)
    assert r.code == 1 and (
        'The Ingress "both" is invalid: annotations.kubernetes.io/ingress.class: Invalid value: '
        '"nginx": can not be set when the class field is also set' in r.err
    ), r.err
    assert ("default", "both") not in st.ingresses


def test_ingress_routing_lesson_plays_as_described() -> None:
    """The ingress-routing lesson: /api/cart reaches the api Service through the controller; the
    Ingress that arrives without a class never gets an address and its clients get 404."""
    from pathlib import Path

    from kubelab.sim.scenario import load_scenario, run_scenario

    text = (
        Path(__file__).resolve().parents[2] / "kubelab/scenarios/ingress-routing.yaml"
    ).read_text()
    st = run_scenario(load_scenario(text), until=120)
    shop, blog = st.traffic["ingress:default/shop"], st.traffic["ingress:default/blog"]
    assert shop["backend"] == "api" and shop["rps"] > 40 and shop["errors"] == 0
    assert blog["backend"] is None and blog["unclaimed"] and blog["errors"] > 10
    rows = {r.split()[0]: r for r in run(LocalApi(st), "get ingress").out.splitlines()[1:]}
    assert "198.51.100.254" in rows["shop"] and "198.51.100.254" not in rows["blog"]


def test_an_ingressclass_cannot_be_applied() -> None:
    st = cluster()
    r = run(
        LocalApi(st),
        "apply -f -",
        stdin="apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: traefik}\n"
        "spec: {controller: traefik.io/ingress-controller}\n",
    )
    assert r.code == 1 and "IngressClasses are not created or changed here" in r.err
    assert "at line 2: kind" in r.err
    assert list(st.ingress_classes) == ["nginx"]


def test_ingress_path_and_host_matching_follow_the_ingress_rules() -> None:
    """Ingress docs: the longest matching path wins, an Exact path beats a Prefix one of the same
    length; `/foo` as a Prefix matches `/foo/bar` but not `/foobar`; `*.foo.com` matches one
    label more (`bar.foo.com`), not `baz.bar.foo.com` nor `foo.com`; no match: defaultBackend."""
    from kubelab.sim.kinds import Ingress
    from kubelab.sim.traffic import route

    def backend(svc: str, path: str, ptype: str = "Prefix") -> dict:
        return {"path": path, "pathType": ptype, "backend": {"service": {"name": svc}}}

    ing = Ingress(
        name="shop",
        namespace="default",
        spec={
            "defaultBackend": {"service": {"name": "fallback"}},
            "rules": [
                {
                    "host": "shop.example",
                    "http": {
                        "paths": [
                            backend("web", "/"),
                            backend("api-prefix", "/api"),
                            backend("api-exact", "/api", "Exact"),
                            backend("foo", "/foo"),
                        ]
                    },
                },
                {"host": "*.foo.com", "http": {"paths": [backend("wild", "/")]}},
            ],
        },
    )
    assert route(ing, "shop.example", "/api") == "api-exact"
    assert route(ing, "shop.example", "/api/cart") == "api-prefix"
    assert route(ing, "shop.example", "/foo/bar") == "foo"
    assert route(ing, "shop.example", "/foobar") == "web"
    assert route(ing, "bar.foo.com", "/x") == "wild"
    assert route(ing, "baz.bar.foo.com", "/x") == "fallback"
    assert route(ing, "foo.com", "/x") == "fallback"


@pytest.mark.parametrize(
    ("host", "detail"),
    [
        ("Bad_Host", "a lowercase RFC 1123 subdomain must consist of"),
        ("f*.bar.com", "a wildcard DNS-1123 subdomain must start with '*.'"),
        ("10.0.0.1", "must be a DNS name, not an IP address"),
    ],
)
def test_ingress_host_validation_in_kubectl_words(host: str, detail: str) -> None:
    """networking validation (validateIngressRules): a host is a DNS subdomain, a wildcard one
    (`*.` then a subdomain), never an IP address."""
    st = cluster()
    bad = INGRESS.replace("host: shop.example", f"host: '{host}'")
    r = run(LocalApi(st), "apply -f -", stdin=bad)
    assert r.code == 1 and (
        f'The Ingress "shop" is invalid: spec.rules[0].host: Invalid value: "{host}": {detail}'
        in r.err
    ), r.err
    assert not st.ingresses
    ok = run(
        LocalApi(st), "apply -f -", stdin=INGRESS.replace("host: shop.example", "host: '*.example'")
    )
    assert ok.code == 0, ok.err
