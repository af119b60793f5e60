"""Browser benchmark (on demand): `.venv/bin/python tests/perf/bench_browser.py`. Prints figures.

1. frames per second and script time per frame in headless Chromium while 500 pods are rescheduled
   at once (a `rollout restart` with maxSurge 100%: 500 new pods fly from the queue to nodes, 500 old
   ones terminate);
2. JS heap after one simulated minute and after one simulated hour of churn at 60x (scaling and node
   failures), each measured after a forced garbage collection.

The server, its simulation and the browser share this machine's CPUs, as they do here.
Options: KUBELAB_BENCH_NO_TRAFFIC=1 (skip the traffic phase), KUBELAB_BENCH_NO_HEAP=1 (skip the
hour of churn), KUBELAB_BENCH_SHOT=FILE (a screenshot 1.5 s into the reschedule),
KUBELAB_TRACE=1 (where the renderer's main thread spent the reschedule, and what it repainted),
KUBELAB_PROFILE=1 (the JavaScript functions that took the most time).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.perf.bench_live import Console, start_up, stop  # noqa: E402

SCENARIO = "name: big\nseed: 3\nnodes:\n" + "".join(
    f"  - {{name: worker-{i}, cpu: '32', memory: 64Gi, pods: 250}}\n" for i in range(1, 7)
)
BIG = """apiVersion: apps/v1
kind: Deployment
metadata: {name: big}
spec:
  replicas: 500
  strategy: {rollingUpdate: {maxSurge: '100%', maxUnavailable: 0}}
  selector: {matchLabels: {app: big}}
  template:
    metadata: {labels: {app: big}}
    spec:
      containers: [{name: c, image: "nginx:1.27", resources: {requests: {cpu: 10m, memory: 16Mi}}}]
"""
FRAME_PROBE = """() => { window.__frames = []; const f = (t) => { window.__frames.push(t); requestAnimationFrame(f); }; requestAnimationFrame(f); }"""


def traffic_phase(page: Any, post: Any) -> None:
    """2,000 req/s on a Service over the 500 pods: dots and sparklines drawing; fps measured."""
    post(
        "/c/demo/apply/",
        {
            "manifest": "apiVersion: v1\nkind: Service\nmetadata: {name: big}\nspec:\n"
            "  selector: {app: big}\n  ports: [{port: 80}]\n"
        },
    )
    post("/c/demo/services/default/big/load/", {"rps": "2000"})
    time.sleep(4)
    page.evaluate("() => { window.__frames = []; }")
    time.sleep(8)
    frames = page.evaluate("window.__frames")
    span = (frames[-1] - frames[0]) / 1000 if len(frames) > 1 else 1
    shown = page.evaluate(
        "document.querySelector('[data-traffic=\"default/big\"]')?.dataset.trafficRps + ' req/s shown, '"
        " + document.querySelectorAll('.req-dot').length"
    )
    print(
        f"traffic, 2,000 req/s over 500 pods (dots and sparklines): "
        f"{(len(frames) - 1) / span:.1f} fps over {span:.1f} s ({shown} dots in flight)"
    )
    post("/c/demo/services/default/big/load/", {"rps": "0"})
    time.sleep(2)


def print_trace(trace: dict[str, Any]) -> None:
    """KUBELAB_TRACE=1: where the renderer's main thread spent the reschedule (top-level tasks)."""
    import collections

    events = trace["traceEvents"]
    main = collections.Counter(
        (e["pid"], e["tid"]) for e in events if e.get("name") == "FunctionCall"
    ).most_common(1)
    if not main:
        return
    pid, tid = main[0][0]
    took: collections.Counter[str] = collections.Counter()
    for e in events:
        if e.get("ph") == "X" and (e["pid"], e["tid"]) == (pid, tid) and "dur" in e:
            took[e["name"]] += e["dur"] / 1000
    for name, ms in took.most_common(12):
        print(f"    {ms:8.1f} ms  {name}")
    painted: collections.Counter[str] = collections.Counter()
    npaint: collections.Counter[str] = collections.Counter()
    for e in events:
        if e.get("name") == "Paint" and (e["pid"], e["tid"]) == (pid, tid) and "dur" in e:
            d = e.get("args", {}).get("data", {})
            k = f"{d.get('nodeName', '?')} {d.get('clip', '')[:8]}"
            painted[k] += e["dur"] / 1000
            npaint[k] += 1
    for name, ms in painted.most_common(4):
        print(f"    paint {ms:8.1f} ms  {npaint[name]:4d}x {name}")
    mine = sorted(
        (e for e in events if e.get("ph") == "X" and (e["pid"], e["tid"]) == (pid, tid)),
        key=lambda e: e["ts"],
    )
    names = {
        (e["pid"], e["tid"]): e["args"]["name"]
        for e in events
        if e.get("ph") == "M" and e.get("name") == "thread_name"
    }
    per_thread: collections.Counter[str] = collections.Counter()
    for e in events:
        if e.get("ph") == "X" and "dur" in e:
            per_thread[f"{names.get((e['pid'], e['tid']), '?')}:{e['name']}"] += e["dur"] / 1000
    for name, ms in per_thread.most_common(25):
        if not name.startswith("CrRendererMain"):
            print(f"    {ms:8.1f} ms  {name}")
    frames = [e for e in mine if e["name"] in ("RunTask", "ThreadControllerImpl::RunTask")]
    print(
        "    task names:",
        collections.Counter(e["name"] for e in mine if e.get("dur", 0) > 30_000).most_common(6),
    )
    for task in (e for e in frames if e.get("dur", 0) > 30_000):
        inside: collections.Counter[str] = collections.Counter()
        for e in mine:
            if task["ts"] < e["ts"] < task["ts"] + task["dur"] and e["name"] != "RunTask":
                inside[e["name"]] += e.get("dur", 0) / 1000
        top = ", ".join(f"{n} {ms:.0f}" for n, ms in inside.most_common(6))
        print(f"    long task {task['dur'] / 1000:.0f} ms: {top}")


def main() -> None:
    from playwright.sync_api import sync_playwright

    tmp = tempfile.mkdtemp()
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp}/k.sqlite3")
    (Path(tmp) / "big.yaml").write_text(SCENARIO)
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], env=env, cwd=ROOT, check=True
    )
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "create_cluster",
            "demo",
            "--scenario",
            f"{tmp}/big.yaml",
        ],
        env=env,
        cwd=ROOT,
        check=True,
    )
    up, base = start_up(f"{tmp}/k.sqlite3")
    try:
        console = Console(base)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=[
                    "--no-sandbox",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                ],
            )
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            page.goto(f"{base}/c/demo/")
            page.wait_for_selector("[data-node]")
            import json
            import urllib.parse
            import urllib.request

            def post(path: str, data: dict[str, str]) -> None:
                req = urllib.request.Request(
                    f"{base}{path}",
                    data=urllib.parse.urlencode(data).encode(),
                    headers={
                        "X-CSRFToken": console.token,
                        "Referer": f"{base}/c/demo/",
                        "Accept": "application/json",
                    },
                )
                console.opener.open(req).read()

            post("/c/demo/apply/", {"manifest": BIG})
            post("/c/demo/clock/speed/", {"speed": "10"})
            deadline = (
                time.monotonic() + 120
            )  # polled: page.wait_for_function evaluates strings, which the CSP forbids
            while (
                page.evaluate(
                    "() => document.querySelectorAll('[data-pod][data-status=\"Running\"]').length"
                )
                < 500
            ):
                assert time.monotonic() < deadline, "500 pods did not start"
                time.sleep(0.5)
            post("/c/demo/clock/speed/", {"speed": "1"})
            time.sleep(2)

            def metrics() -> dict[str, float]:
                return {
                    m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]
                }

            page.evaluate(FRAME_PROBE)
            time.sleep(3)
            idle_frames = page.evaluate("window.__frames")
            idle_fps = (len(idle_frames) - 1) / ((idle_frames[-1] - idle_frames[0]) / 1000)
            print(
                f"idle page with 500 pods (baseline of this headless, software-rendered Chromium): {idle_fps:.1f} fps"
            )
            # Traffic: 2,000 req/s on a Service over the 500 pods, dots and sparklines drawing.
            # (KUBELAB_BENCH_NO_TRAFFIC=1 leaves it out, to time the reschedule without a Service.)
            if not os.environ.get("KUBELAB_BENCH_NO_TRAFFIC"):
                traffic_phase(page, post)
            m0 = metrics()
            page.evaluate("() => { window.__frames = []; }")
            if os.environ.get("KUBELAB_PROFILE"):
                cdp.send("Profiler.enable")
                cdp.send("Profiler.start")
            if os.environ.get("KUBELAB_TRACE"):
                browser.start_tracing(page=page, categories=["devtools.timeline"])
            console.run("rollout restart deployment/big")
            if os.environ.get("KUBELAB_BENCH_SHOT"):  # a look at the page mid-reschedule
                time.sleep(1.5)
                page.screenshot(path=os.environ["KUBELAB_BENCH_SHOT"])
                time.sleep(4.5)
            else:
                time.sleep(6)
            if os.environ.get("KUBELAB_TRACE"):
                print_trace(json.loads(browser.stop_tracing()))
            if os.environ.get("KUBELAB_PROFILE"):
                prof = cdp.send("Profiler.stop")["profile"]
                import collections

                self_time = collections.Counter()
                nodes = {n["id"]: n for n in prof["nodes"]}
                dt = dict(zip(prof["samples"], prof["timeDeltas"], strict=False))
                counts = collections.Counter(prof["samples"])
                interval = (
                    (prof["endTime"] - prof["startTime"]) / max(len(prof["samples"]), 1) / 1000
                )
                for nid, c in counts.items():
                    f = nodes[nid]["callFrame"]
                    self_time[
                        f"{f['functionName'] or '(anon)'} {f['url'].rsplit('/', 1)[-1]}:{f['lineNumber']}"
                    ] += c * interval
                for k, v in self_time.most_common(15):
                    print(f"    {v:8.1f} ms  {k}")
                _ = dt
            frames = page.evaluate("window.__frames")
            m1 = metrics()
            span = (frames[-1] - frames[0]) / 1000 if len(frames) > 1 else 1
            fps = (len(frames) - 1) / span
            gaps = sorted(b - a for a, b in zip(frames, frames[1:], strict=False))
            script_ms = (m1["ScriptDuration"] - m0["ScriptDuration"]) * 1000
            layout_ms = (m1["LayoutDuration"] - m0["LayoutDuration"]) * 1000 + (
                m1["RecalcStyleDuration"] - m0["RecalcStyleDuration"]
            ) * 1000
            print(
                f"500 pods rescheduled at once: {fps:.1f} fps over {span:.1f} s, worst frame gap {gaps[-1]:.0f} ms, "
                f"p95 frame gap {gaps[int(len(gaps) * 0.95)]:.0f} ms; script {script_ms / max(len(frames) - 1, 1):.2f} ms/frame, "
                f"style+layout {layout_ms / max(len(frames) - 1, 1):.2f} ms/frame"
            )
            renders = page.evaluate("window.__kubelabRenders || []")
            worst = sorted(renders, key=lambda r: -r[0])[:3]
            print(
                "    slowest renders (ms, changed objects):", [(round(a, 1), b) for a, b in worst]
            )
            running = page.eval_on_selector_all(
                '[data-pod][data-status="Running"]', "e => e.length"
            )
            print(f"    after the restart: {running} pods Running in the page")

            if os.environ.get("KUBELAB_BENCH_NO_HEAP"):
                return
            # Heap over an hour of simulated churn at 60x.
            post("/c/demo/clock/speed/", {"speed": "60"})
            console.run("scale deployment big --replicas=120")
            time.sleep(3)

            def heap() -> float:
                cdp.send("HeapProfiler.enable")
                cdp.send("HeapProfiler.collectGarbage")
                return metrics()["JSHeapUsedSize"] / 1e6

            start = time.monotonic()
            minute_heap = None
            k = 0
            while (
                time.monotonic() - start < 62
            ):  # 62 s of wall time at 60x = about one simulated hour
                k += 1
                console.run(f"scale deployment big --replicas={100 + (k % 5) * 10}")
                if k % 6 == 0:
                    post(f"/c/demo/nodes/worker-{1 + k % 6}/fail/", {})
                if k % 6 == 3:
                    for i in range(1, 7):
                        post(f"/c/demo/nodes/worker-{i}/recover/", {})
                if minute_heap is None and time.monotonic() - start > 1.5:
                    minute_heap = heap()
                time.sleep(1)
            hour_heap = heap()
            dom = page.evaluate("document.getElementsByTagName('*').length")
            print(
                f"JS heap after ~1 simulated minute {minute_heap:.2f} MB, after ~1 simulated hour {hour_heap:.2f} MB "
                f"({(hour_heap / minute_heap - 1) * 100:+.1f}%); DOM elements at the end: {dom}"
            )
            _ = json
            browser.close()
    finally:
        stop(up)


if __name__ == "__main__":
    main()
