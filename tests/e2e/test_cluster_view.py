"""The classroom view in a real browser against a live server with the real reconcile worker."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

NGINX = '[data-pod^="default/nginx-deployment-"]'


def wait_until(page: Any, js: str, timeout: float = 20000) -> None:
    """Poll a page expression (page.wait_for_function evaluates strings, which our CSP forbids)."""
    import time

    deadline = time.monotonic() + timeout / 1000
    while time.monotonic() < deadline:
        if page.evaluate(f"() => ({js})"):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"timed out waiting for {js}")


def small_pods(name: str, replicas: int, cpu: str) -> str:
    """A Deployment of many small nginx pods (app=<name>)."""
    return (
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n"
        f"  replicas: {replicas}\n  selector: {{matchLabels: {{app: {name}}}}}\n"
        f"  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      containers:\n"
        f"      - {{name: c, image: nginx, resources: {{requests: {{cpu: {cpu}}}}}}}\n"
    )


def running_nginx(page: Any) -> list[dict[str, str]]:
    return page.eval_on_selector_all(
        f'{NGINX}[data-status="Running"]',
        "els => els.map(e => ({pod: e.dataset.pod, node: e.dataset.podNode}))",
    )


def skip(page: Any, url: str, times: int = 1) -> None:
    for _ in range(times):
        page.request.post(
            url + "clock/skip/",
            headers={
                "X-CSRFToken": page.eval_on_selector("[name=csrfmiddlewaretoken]", "e => e.value"),
                "Accept": "application/json",
                "Referer": url,
            },
        )
        page.wait_for_timeout(150)


def test_apply_nginx_then_fail_a_node(kubelab_server: str, page: Any, artifacts: Path) -> None:
    """Apply the nginx example; fail the node of one pod; its replacement runs elsewhere and the old pod is Terminating."""
    page.goto(f"{kubelab_server}/c/demo/apply/")
    page.click('[data-example="nginx"]')
    page.click("[data-apply]")
    expect(page.locator("[data-result]")).to_have_text("deployment.apps/nginx-deployment created")

    cluster = f"{kubelab_server}/c/demo/"
    page.goto(cluster)
    wait_until(page, f"document.querySelectorAll('{NGINX}[data-status=\"Running\"]').length === 3")
    pods = running_nginx(page)
    assert len({p["node"] for p in pods}) == 3, pods
    victim = pods[0]
    node = page.locator(f'[data-node="{victim["node"]}"]')
    node.locator('[data-node-action="fail"]').click()
    for _ in range(20):
        if node.get_attribute("data-status") == "NotReady":
            break
        skip(page, cluster)
    expect(node).to_have_attribute("data-status", "NotReady")
    expect(node.locator("[data-countdown]")).to_contain_text(re.compile(r"\d+:\d\d"))
    page.screenshot(path=str(artifacts / "cluster-mid-failure.png"))

    old = page.locator(f'[data-pod="{victim["pod"]}"]')
    for _ in range(30):
        if old.get_attribute("data-status") == "Terminating" and len(running_nginx(page)) == 3:
            break
        skip(page, cluster)
    expect(old).to_have_attribute("data-status", "Terminating")
    wait_until(page, f"document.querySelectorAll('{NGINX}[data-status=\"Running\"]').length === 3")
    now = running_nginx(page)
    new = [p for p in now if p["pod"] != victim["pod"] and p["pod"] not in {x["pod"] for x in pods}]
    assert len(new) == 1 and new[0]["node"] != victim["node"], now
    page.screenshot(path=str(artifacts / "cluster-after-eviction.png"))
    page.locator(f'[data-pod="{new[0]["pod"]}"]').click()
    expect(page.locator("[data-describe-body]")).to_contain_text("Scheduler's decision")
    expect(page.locator("[data-describe-body]")).to_contain_text(
        f"Replaces {victim['pod'].split('/')[1]}"
    )
    page.locator(f'[data-node="{victim["node"]}"] [data-node-action="recover"]').click()


def test_yaml_error_is_marked_on_its_line(kubelab_server: str, page: Any, artifacts: Path) -> None:
    page.goto(f"{kubelab_server}/c/demo/apply/")
    page.click('[data-example="nginx"]')
    wait_until(
        page,
        "document.querySelector('.django-ace-widget') && document.querySelector('.django-ace-widget').editor",
    )
    text = page.evaluate("document.querySelector('.django-ace-widget').editor.getValue()")
    bad = text.replace("replicas: 3", "replicas: -3")
    line = bad.splitlines().index("  replicas: -3") + 1
    page.evaluate("t => document.querySelector('.django-ace-widget').editor.setValue(t, -1)", bad)
    page.click("[data-apply]")
    expect(page.locator("[data-result]")).to_contain_text(
        'The Deployment "nginx-deployment" is invalid: spec.replicas: Invalid value: -3: must be greater than or equal to 0'
    )
    expect(page.locator("[data-result]")).to_contain_text(f"at line {line}: spec.replicas")
    annotations = page.evaluate(
        "document.querySelector('.django-ace-widget').editor.getSession().getAnnotations()"
    )
    assert [a["row"] for a in annotations] == [line - 1]
    expect(page.locator(".ace_gutter-cell.ace_error")).to_have_text(str(line))
    page.screenshot(path=str(artifacts / "editor-error.png"))


def test_console_prints_kubectl_get_pods(kubelab_server: str, page: Any) -> None:
    page.goto(f"{kubelab_server}/c/demo/")
    page.click("[data-open-console]")
    page.fill("[data-console-input]", "get pods")
    page.press("[data-console-input]", "Enter")
    out = page.locator("[data-console-out]")
    expect(out).to_contain_text(re.compile(r"NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n"))
    expect(out).to_contain_text(re.compile(r"web-\w+-\w{5}\s+1/1\s+Running\s+0\s+\d+"))
    page.press("[data-console-input]", "ArrowUp")
    expect(page.locator("[data-console-input]")).to_have_value("get pods")


def test_projector_and_index_pages_have_no_errors(
    kubelab_server: str, page: Any, artifacts: Path
) -> None:
    page.goto(f"{kubelab_server}/c/demo/?projector=1")
    page.wait_for_selector('[data-node="worker-1"]')
    assert page.locator("[data-node-action]").count() == 0
    assert page.locator("[data-clock]").count() == 0
    page.screenshot(path=str(artifacts / "projector.png"))
    page.goto(f"{kubelab_server}/")
    # Straight to the demo on a laptop; once classrooms exist (other tests made one), a front page.
    if "/c/demo/" not in page.url:
        page.wait_for_selector('a[href="/join/"]')
        page.click('a[href="/c/demo/"]')
    page.wait_for_selector("[data-node]")


def test_kubectl_cli_change_reaches_open_browsers(kubelab_server: str, page: Any) -> None:
    """`manage.py kubectl` in another process writes through the services; the open page shows it."""
    import subprocess
    import sys

    from .conftest import ROOT, SERVER_ENV

    page.goto(f"{kubelab_server}/c/demo/")
    page.wait_for_selector('[data-pod^="default/web-"]')
    before = page.locator('[data-pod^="default/web-"]').count()
    r = subprocess.run(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "kubectl",
            "--cluster",
            "demo",
            "scale",
            "deployment",
            "web",
            f"--replicas={before + 2}",
        ],
        env=SERVER_ENV,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.stdout == "deployment.apps/web scaled\n", r.stderr
    wait_until(
        page,
        f'document.querySelectorAll(\'[data-pod^="default/web-"][data-status="Running"]\').length === {before + 2}',
    )


def test_editor_works_without_javascript(kubelab_server: str, chromium: Any) -> None:
    """The editor falls back to a plain textarea and a form post when JavaScript is off."""
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{kubelab_server}/c/demo/apply/?example=nginx")
    area = page.locator("textarea[name=manifest]")
    expect(area).to_be_visible()
    area.fill(area.input_value().replace("replicas: 3", "replicas: -1"))
    page.click("[data-apply]")
    expect(page.locator("[data-result]")).to_contain_text(
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0"
    )
    expect(page.locator("[data-result]")).to_contain_text("at line 8: spec.replicas")
    context.close()


def test_pending_pods_wait_in_the_queue_grouped_by_reason(
    kubelab_server: str, page: Any, artifacts: Path
) -> None:
    """Pods no node can fit wait in the scheduling queue under the scheduler's FailedScheduling
    message (one line for all of them, with how many), and the control plane's flash fades away."""
    page.goto(f"{kubelab_server}/c/demo/")
    page.wait_for_selector("[data-node]")
    page.request.post(
        f"{kubelab_server}/c/demo/apply/",
        headers={
            "X-CSRFToken": page.eval_on_selector("[name=csrfmiddlewaretoken]", "e => e.value"),
            "Accept": "application/json",
            "Referer": f"{kubelab_server}/c/demo/",
        },
        form={
            "manifest": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: huge}\nspec:\n"
            "  replicas: 3\n  selector: {matchLabels: {app: huge}}\n  template:\n"
            "    metadata: {labels: {app: huge}}\n    spec:\n      containers:\n"
            "      - {name: c, image: nginx, resources: {requests: {cpu: '64'}}}\n"
        },
    )
    queue = page.locator("[data-queue]")
    wait_until(
        page, "document.querySelectorAll('[data-queue] [data-pod^=\"default/huge-\"]').length === 3"
    )
    expect(page.locator("[data-queue-count]")).to_have_text("3")
    # kube-scheduler's message (FitError.Error(), pkg/scheduler/framework/types.go): the same for all three, so shown once.
    expect(queue.locator(".queue-item")).to_have_count(1)
    why = queue.locator(".why")
    expect(why).to_contain_text(re.compile(r"^0/\d nodes are available: .*Insufficient cpu"))
    assert why.get_attribute("data-count") == "3 pods: "
    for pod in queue.locator("[data-pod]").all():
        assert pod.get_attribute("data-status") == "Pending"
        assert pod.get_attribute("data-pod-node") == ""
    page.screenshot(path=str(artifacts / "queue.png"))
    page.wait_for_timeout(1000)
    assert page.evaluate(
        "[...document.querySelectorAll('[data-component]')]"
        ".filter(c => Date.now() - Number(c.dataset.flashed || 0) > 700)"
        ".every(c => getComputedStyle(c, '::after').opacity === '0')"
    ), "a control-plane flash did not fade"
    page.request.post(
        f"{kubelab_server}/c/demo/console/",
        headers={
            "X-CSRFToken": page.eval_on_selector("[name=csrfmiddlewaretoken]", "e => e.value"),
            "Referer": f"{kubelab_server}/c/demo/",
        },
        form={"command": "delete deployment huge"},
    )
    wait_until(page, "!document.querySelector('[data-queue] [data-pod]')")
    expect(page.locator("[data-queue-count]")).to_have_text("0")


def test_a_crowded_node_draws_its_pods_as_squares(
    kubelab_server: str, page: Any, artifacts: Path
) -> None:
    """Past 24 pods a node shows them as small squares (the whole cluster stays on one screen);
    each square is still a pod: its name in the tooltip and label, its status, a click describes it."""
    cluster = f"{kubelab_server}/c/demo/"
    page.goto(cluster)
    page.wait_for_selector("[data-node]")
    token = page.eval_on_selector("[name=csrfmiddlewaretoken]", "e => e.value")
    headers = {"X-CSRFToken": token, "Accept": "application/json", "Referer": cluster}
    tiny = small_pods("tiny", 90, "10m")
    r = page.request.post(
        cluster + "console/", form={"command": "apply -f -", "stdin": tiny}, headers=headers
    )
    assert r.json()["out"] == "deployment.apps/tiny created\n", r.json()
    page.request.post(cluster + "clock/speed/", form={"speed": "10"}, headers=headers)
    wait_until(
        page,
        'document.querySelectorAll(\'[data-pod^="default/tiny-"][data-status="Running"]\').length === 90',
        60000,
    )
    page.request.post(cluster + "clock/speed/", form={"speed": "1"}, headers=headers)
    assert page.locator(".node.dense").count() >= 1
    square = page.locator('.node.dense [data-pod^="default/tiny-"]').first
    box = square.bounding_box()
    assert box and box["width"] <= 20 and box["height"] <= 20, box
    assert square.get_attribute("data-status") == "Running"
    assert square.get_attribute("aria-label").startswith("pod tiny-")
    page.screenshot(path=str(artifacts / "dense.png"))
    square.click()
    expect(page.locator("[data-describe-body]")).to_contain_text("Scheduler's decision")
    page.request.post(
        cluster + "console/", form={"command": "delete deployment tiny"}, headers=headers
    )
    wait_until(page, "document.querySelectorAll('.node.dense').length === 0", 60000)
    # Nodes in the order people count, a new one in its place: worker-4 before worker-10 even
    # when it is added after it.
    for name in ("worker-10", "worker-4"):
        page.request.post(cluster + "nodes/add/", form={"name": name}, headers=headers)
        page.wait_for_selector(f'[data-node="{name}"]')
    order = page.eval_on_selector_all("[data-node]", "els => els.map(e => e.dataset.node)")
    assert order == ["control-plane", "worker-1", "worker-2", "worker-3", "worker-4", "worker-10"]
    for name in ("worker-10", "worker-4"):
        page.request.post(cluster + f"nodes/{name}/remove/", headers=headers)
        page.wait_for_selector(f'[data-node="{name}"]', state="detached")


def test_a_cluster_too_large_for_one_message_is_drawn_from_its_parts(
    kubelab_server: str, page: Any
) -> None:
    """Over 256 KiB a snapshot or delta comes in parts (clusters/wire.py texts; Daphne sends no
    message over 1 MiB): the page puts them together, draws every pod, and stays live."""
    cluster = f"{kubelab_server}/c/demo/"
    page.goto(cluster)
    page.wait_for_selector("[data-node]")
    token = page.eval_on_selector("[name=csrfmiddlewaretoken]", "e => e.value")
    headers = {"X-CSRFToken": token, "Accept": "application/json", "Referer": cluster}
    crowd = small_pods("crowd", 600, "1m")
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(f)))
    r = page.request.post(
        cluster + "console/", form={"command": "apply -f -", "stdin": crowd}, headers=headers
    )
    assert r.json()["out"] == "deployment.apps/crowd created\n", r.json()
    wait_until(
        page, "document.querySelectorAll('[data-pod^=\"default/crowd-\"]').length === 600", 60000
    )
    page.reload()  # a snapshot of 600 more pods: several parts
    page.wait_for_selector("[data-node]")
    wait_until(
        page, "document.querySelectorAll('[data-pod^=\"default/crowd-\"]').length === 600", 60000
    )
    expect(page.locator("[data-conn]")).to_have_text("● live")
    sizes = [len(f) for f in frames]
    assert sizes and max(sizes) <= 256 * 1024
    # The snapshot of 600 pods (~400 KiB) came as its head and at least one part.
    assert any(f.startswith('{"type":"part"') for f in frames), sorted(sizes)[-3:]
    r = page.request.post(
        cluster + "console/", form={"command": "delete deployment crowd"}, headers=headers
    )
    assert r.json()["code"] == 0, r.json()
    wait_until(
        page, "document.querySelectorAll('[data-pod^=\"default/crowd-\"]').length === 0", 60000
    )
    expect(page.locator("[data-conn]")).to_have_text("● live")
