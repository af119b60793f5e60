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
