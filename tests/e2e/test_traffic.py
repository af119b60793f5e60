"""Traffic in the browser: request dots travel to the backend pod; when its only node fails, the
Service loses its endpoint and the error counter climbs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .test_cluster_view import skip, wait_until

SOLO = """apiVersion: apps/v1
kind: Deployment
metadata: {name: solo}
spec:
  replicas: 1
  selector: {matchLabels: {app: solo}}
  template:
    metadata: {labels: {app: solo}}
    spec:
      containers:
      - {name: nginx, image: "nginx:1.27", ports: [{containerPort: 80}], resources: {requests: {cpu: 100m}}}
---
apiVersion: v1
kind: Service
metadata: {name: solo}
spec:
  selector: {app: solo}
  ports: [{port: 80, targetPort: 80}]
"""


def post(page: Any, url: str, data: dict[str, str]) -> dict[str, Any]:
    token = page.eval_on_selector("[name=csrfmiddlewaretoken]", "e => e.value")
    r = page.request.post(
        url,
        form=data,
        headers={"X-CSRFToken": token, "Accept": "application/json", "Referer": url},
    )
    return r.json()


def test_traffic_dots_and_errors_when_the_only_backend_fails(
    kubelab_server: str, page: Any, artifacts: Path
) -> None:
    cluster = f"{kubelab_server}/c/demo/"
    page.goto(cluster)
    out = post(page, cluster + "console/", {"command": "apply -f -", "stdin": SOLO})
    assert out["code"] == 0, out
    wait_until(
        page,
        """document.querySelector('[data-pod^="default/solo-"][data-status="Running"]') !== null""",
        40000,
    )
    res = post(page, cluster + "services/default/solo/load/", {"rps": "50"})
    assert res["ok"], res
    # Dots appear on their way to the pod, and the Service shows its rate.
    wait_until(page, "document.querySelectorAll('.req-dot').length > 0", 20000)
    wait_until(
        page,
        """Number(document.querySelector('[data-traffic="default/solo"]')?.dataset.trafficRps || 0) > 20""",
    )
    page.screenshot(path=str(artifacts / "traffic.png"))
    errors_before = int(
        page.get_attribute('[data-traffic="default/solo"]', "data-traffic-errors") or 0
    )
    node = page.get_attribute('[data-pod^="default/solo-"]', "data-pod-node")
    page.locator(f'[data-node="{node}"] [data-node-action="fail"]').click()
    # "Next event" jumps to the node's grace period (40 s): it turns NotReady, the pod leaves the
    # endpoints, and the Service refuses connections until the pod is evicted five minutes later.
    for _ in range(6):
        skip(page, cluster)
        if page.get_attribute(f'[data-node="{node}"]', "data-status") != "Ready":
            break
    wait_until(
        page,
        """document.querySelector('[data-traffic="default/solo"]').innerText.includes('connection refused')""",
        40000,
    )
    wait_until(
        page,
        """Number(document.querySelector('[data-traffic="default/solo"]').dataset.trafficErrors) > """
        + str(errors_before + 20),
        40000,
    )
    page.screenshot(path=str(artifacts / "traffic-failing.png"))
    page.locator(f'[data-node="{node}"] [data-node-action="recover"]').click()
    post(page, cluster + "services/default/solo/load/", {"rps": "0"})


def test_requests_come_in_at_the_edge_and_hop_between_tiers(
    kubelab_server: str, page: Any, artifacts: Path
) -> None:
    """The seed's todo app behind an Ingress: the instructor sets clients on the Ingress from the
    ingress controller's box at the cluster's edge; dots travel controller → todo-ui, and each UI
    pod's call goes on to todo-api, whose pods call todo-db (the call graph from their env)."""
    import yaml

    from .conftest import ROOT

    steps = yaml.safe_load((ROOT / "kubelab/scenarios/todo-app.yaml").read_text())["steps"]
    manifests = steps[0]["apply"] + (
        "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: todo}\nspec:\n"
        "  ingressClassName: nginx\n  rules:\n  - host: todo.example\n    http:\n      paths:\n"
        "      - {path: /, pathType: Prefix, backend: {service: {name: todo-ui, port: {number: 80}}}}\n"
    )
    cluster = f"{kubelab_server}/c/demo/"
    page.goto(cluster)
    out = post(page, cluster + "console/", {"command": "apply -f -", "stdin": manifests})
    assert out["code"] == 0, out
    post(page, cluster + "clock/speed/", {"speed": "10"})
    wait_until(
        page,
        'document.querySelectorAll(\'[data-pod^="default/todo-"][data-status="Running"]:not(.notready)\').length === 5',
        60000,
    )
    post(page, cluster + "clock/speed/", {"speed": "1"})
    edge = page.locator("[data-edge]")
    edge.locator('[data-open="ingress/default/todo"]').wait_for()
    assert "198.51.100.254" in edge.inner_text()
    form = edge.locator("form.load-form")
    form.locator("input[name=rps]").fill("40")
    form.locator("select[name=host]").select_option("todo.example")
    form.locator("button").click()
    wait_until(
        page,
        """Number(document.querySelector('[data-traffic="ingress:default/todo"]')?.dataset.trafficRps || 0) > 20""",
        20000,
    )
    for callee in ("default/todo-ui", "default/todo-api", "default/todo-db"):
        wait_until(
            page, f"document.querySelector('.req-dot[data-hop=\"{callee}\"]') !== null", 20000
        )
    text = page.inner_text('[data-traffic="default/todo-ui"]')
    assert "p50" in text and "p95" in text and "p99" in text, text
    page.screenshot(path=str(artifacts / "traffic-tiers.png"))
    form = page.locator("[data-edge] form.load-form")
    form.locator("input[name=rps]").fill("0")
    form.locator("button").click()
    post(page, cluster + "console/", {"command": "delete ingress todo"})
