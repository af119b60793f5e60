"""The instructor's controls over HTTP: each answers in kubectl's words and changes only what it says."""

from __future__ import annotations

import pytest
from django.test import Client

from clusters import services
from clusters.access import OPERATOR

pytestmark = pytest.mark.django_db(transaction=True)
JSON = {"HTTP_ACCEPT": "application/json"}


def nodes(cluster_id: int) -> dict[str, object]:
    return services.cluster_query(
        cluster_id, lambda st: {n.name: n for n in st.nodes.values()}, actor=OPERATOR
    )


def test_add_node_with_labels_and_taints(demo_cluster):
    r = Client().post(
        "/c/demo/nodes/add/",
        {
            "name": "gpu-1",
            "cpu": "8",
            "memory": "16Gi",
            "labels": "zone=b, disk=ssd",
            "taints": "gpu=true:NoSchedule",
        },
        **JSON,
    )
    assert r.json() == {"ok": True, "output": "node/gpu-1 added", "status": 200}
    node = nodes(demo_cluster.pk)["gpu-1"]
    assert node.labels["zone"] == "b" and node.labels["disk"] == "ssd"
    assert node.taints == [{"key": "gpu", "value": "true", "effect": "NoSchedule"}]
    assert node.alloc_cpu == 8000
    r = Client().post("/c/demo/nodes/add/", {"name": "Bad_Name"}, **JSON)
    assert r.status_code == 422 and "a lowercase RFC 1123 subdomain" in r.json()["output"]


def test_node_actions_and_unknown_ones(demo_cluster):
    c = Client()
    assert (
        c.post("/c/demo/nodes/worker-1/cordon/", **JSON).json()["output"]
        == "node/worker-1 cordoned"
    )
    assert (
        c.post("/c/demo/nodes/worker-1/drain/", **JSON)
        .json()["output"]
        .endswith("node/worker-1 drained")
    )
    r = c.post("/c/demo/nodes/worker-1/explode/", **JSON)
    assert r.status_code == 400 and "unknown node action" in r.json()["output"]
    r = c.post("/c/demo/nodes/nope/fail/", **JSON)
    assert (
        r.status_code == 404
        and r.json()["output"] == 'Error from server (NotFound): nodes "nope" not found'
    )
    assert c.get("/c/demo/nodes/worker-1/fail/").status_code == 405


def test_delete_pod_from_the_panel(demo_cluster):
    name = services.cluster_query(
        demo_cluster.pk, lambda st: next(iter(st.pods.values())).name, actor=OPERATOR
    )
    r = Client().post(f"/c/demo/pods/default/{name}/delete/", **JSON)
    assert r.json()["output"] == f'pod "{name}" deleted'
    r = Client().post("/c/demo/pods/default/nope/delete/", **JSON)
    assert (
        r.json()["ok"] is False
        and r.json()["output"] == 'Error from server (NotFound): pods "nope" not found'
    )


def test_clock_and_reset(demo_cluster):
    c = Client()
    assert c.post("/c/demo/clock/speed/", {"speed": "10"}, **JSON).json()["output"] == "speed 10x"
    r = c.post("/c/demo/clock/speed/", {"speed": "fast"}, **JSON)
    assert r.status_code == 400
    r = c.post("/c/demo/clock/speed/", {"speed": "100"}, **JSON)
    assert r.status_code == 400 and "speed must be between 0.25x and 60x" in r.json()["output"]
    assert (
        c.post("/c/demo/reset/", {"scenario": "guestbook"}, **JSON).json()["output"]
        == "cluster reset to guestbook"
    )
    kinds = services.cluster_query(
        demo_cluster.pk, lambda st: sorted(d.name for d in st.deployments.values()), actor=OPERATOR
    )
    assert kinds == ["frontend", "redis-follower", "redis-leader"]
    assert c.post("/c/demo/reset/", {"scenario": "../etc/passwd"}, **JSON).status_code == 400


def test_describe_fragment_and_console(demo_cluster):
    c = Client()
    pod = services.cluster_query(
        demo_cluster.pk, lambda st: next(iter(st.pods.values())).name, actor=OPERATOR
    )
    html = c.get(f"/c/demo/describe/pod/default/{pod}/").content.decode()
    assert "Scheduler's decision" in html and "kubectl describe pod" in html
    assert c.get("/c/demo/describe/widget/x/").status_code == 404
    out = c.post("/c/demo/console/", {"command": "get nodes"}).json()
    assert out["code"] == 0 and out["out"].startswith(
        "NAME            STATUS   ROLES           AGE"
    )
    assert c.post("/c/demo/console/", {"command": "x" * 3000}).status_code == 413


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
"""


def test_clients_on_a_service_and_an_ingress(demo_cluster):
    """The instructor's load controls: a Service's clients, an Ingress host and path's clients;
    bad numbers, unknown objects and a path that is not a path are refused and change nothing."""
    c = Client()
    r = c.post("/c/demo/services/default/web/load/", {"rps": "50"}, **JSON)
    assert r.json()["output"] == "service/web load set to 50 req/s (steady)"
    c.post("/c/demo/console/", {"command": "apply -f -", "stdin": INGRESS}, **JSON)
    r = c.post(
        "/c/demo/ingresses/default/shop/load/",
        {"rps": "30", "host": "shop.example", "path": "/cart", "profile": "spike", "peak": "90"},
        **JSON,
    )
    assert r.json()["output"] == "ingress.networking.k8s.io/shop load set to 30 req/s (spike)"

    def loads(st):
        return (
            st.services[("default", "web")].sim.get("load"),
            st.ingresses[("default", "shop")].sim.get("load"),
        )

    before = services.cluster_query(demo_cluster.pk, loads, actor=OPERATOR)
    assert before[0]["rps"] == 50
    assert (before[1]["host"], before[1]["path"], before[1]["peak"]) == (
        "shop.example",
        "/cart",
        90,
    )
    for url, data, status, words in [
        ("/c/demo/services/default/web/load/", {"rps": "lots"}, 400, "must be numbers"),
        ("/c/demo/services/default/web/load/", {"rps": "-5"}, 400, "between 0 and"),
        (
            "/c/demo/services/default/web/load/",
            {"rps": "5", "profile": "zigzag"},
            400,
            "unknown load profile",
        ),
        ("/c/demo/services/default/nope/load/", {"rps": "5"}, 404, 'services "nope" not found'),
        (
            "/c/demo/ingresses/default/shop/load/",
            {"rps": "5", "path": "cart"},
            400,
            "path must start with /",
        ),
        ("/c/demo/ingresses/default/nope/load/", {"rps": "5"}, 404, '"nope" not found'),
    ]:
        r = c.post(url, data, **JSON)
        assert r.status_code == status and words in r.json()["output"], (url, data, r.json())
    assert services.cluster_query(demo_cluster.pk, loads, actor=OPERATOR) == before


def test_editor_urls_keep_their_names_and_live_in_workloads():
    """The editor's routes are workloads' own (workloads imports clusters, never the reverse)."""
    import ast
    from pathlib import Path

    from django.urls import resolve, reverse

    import clusters.urls

    for name, path in (
        ("apply", "/c/demo/apply/"),
        ("apply-preview", "/c/demo/apply/preview/"),
        ("apply-delete", "/c/demo/apply/delete/"),
    ):
        assert reverse(name, args=["demo"]) == path
        assert resolve(path).func.__module__ == "workloads.views"
    # No module of clusters imports workloads (the store finds models through the kind registry).
    package = Path(clusters.urls.__file__).parent
    modules = sorted(package.rglob("*.py"))
    assert len(modules) > 10
    for module in modules:
        tree = ast.parse(module.read_text())
        imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
            a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
        }
        assert not [m for m in imported if m.split(".")[0] == "workloads"], module
