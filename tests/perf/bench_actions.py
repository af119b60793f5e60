"""Action response times (on demand): `.venv/bin/python tests/perf/bench_actions.py`. Prints p50/p95/max per action."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.perf.bench_live import Console, start_up, stop  # noqa: E402


def main() -> None:
    up, base = start_up(f"{tempfile.mkdtemp()}/k.sqlite3")
    try:
        c = Console(base)

        def post(path: str, data: dict[str, str] | None = None) -> float:
            req = urllib.request.Request(
                f"{base}{path}",
                data=urllib.parse.urlencode(data or {}).encode(),
                headers={
                    "X-CSRFToken": c.token,
                    "Referer": f"{base}/c/demo/",
                    "Accept": "application/json",
                },
            )
            t = time.perf_counter()
            c.opener.open(req).read()
            return (time.perf_counter() - t) * 1000

        import yaml

        nginx = yaml.safe_load((ROOT / "kubelab/scenarios/nginx.yaml").read_text())["steps"][0][
            "apply"
        ]
        actions = {
            "fail node": lambda i: post("/c/demo/nodes/worker-1/fail/"),
            "recover node": lambda i: post("/c/demo/nodes/worker-1/recover/"),
            "cordon node": lambda i: post("/c/demo/nodes/worker-2/cordon/"),
            "uncordon node": lambda i: post("/c/demo/nodes/worker-2/uncordon/"),
            "pause clock": lambda i: post("/c/demo/clock/pause/"),
            "resume clock": lambda i: post("/c/demo/clock/resume/"),
            "skip to next event": lambda i: post("/c/demo/clock/skip/"),
            "kubectl scale (console)": lambda i: post(
                "/c/demo/console/", {"command": f"scale deploy web --replicas={3 + i % 3}"}
            ),
            "kubectl get pods (console)": lambda i: post(
                "/c/demo/console/", {"command": "get pods"}
            ),
            "apply (editor)": lambda i: post(
                "/c/demo/apply/",
                {"manifest": nginx.replace("replicas: 3", f"replicas: {2 + i % 3}")},
            ),
        }
        for name, fn in actions.items():
            times = [fn(i) for i in range(20)]
            times.sort()
            print(
                f"{name:<28} p50 {statistics.median(times):6.1f} ms   p95 {times[18]:6.1f} ms   max {times[-1]:6.1f} ms"
            )
    finally:
        print(f"server stopped in {stop(up):.1f} s")


if __name__ == "__main__":
    main()
