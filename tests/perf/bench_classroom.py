"""Classroom load test (on demand): `.venv/bin/python tests/perf/bench_classroom.py [--students 300] [--soak 0]`.

On the embedded default (`manage.py up`, SQLite, in-memory channel layer) it plays a lesson:
an instructor signs up and creates a classroom over HTTP (20 workers of 4 CPU); N students join
with the code, each opens the cluster's WebSocket with their own session, and within one minute
each applies a 2-replica Deployment in their namespace; then the instructor fails a node and
speeds the clock up until every evicted pod has been replaced. Printed: p95/max apply latency,
p95 commit→student-socket delta latency, errors, and whether every student's pods ended Running.
`--soak SECONDS` then keeps the class busy (re-applies, scaling, node fail/recover) for that long
and reports latency and the server's memory (RSS) over time.
"""

from __future__ import annotations

import argparse
import asyncio
import http.cookiejar
import json
import random
import re
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.perf.bench_live import pct, start_up, stop  # noqa: E402

WALL = re.compile(r'"serverWall":([0-9.]+)')
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
"""


class Browser:
    """One person's browser: a cookie jar, the CSRF token, form posts like the pages make."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.csrf = ""

    def get(self, path: str) -> str:
        html = self.opener.open(self.base + path, timeout=30).read().decode()
        m = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        if m:
            self.csrf = m.group(1)
        return html

    def post(self, path: str, data: dict[str, str], json_answer: bool = True) -> tuple[int, str]:
        req = urllib.request.Request(
            self.base + path,
            data=urllib.parse.urlencode({**data, "csrfmiddlewaretoken": self.csrf}).encode(),
            headers={
                "X-CSRFToken": self.csrf,
                "Referer": self.base + path,
                **({"Accept": "application/json"} if json_answer else {}),
            },
        )
        try:
            with self.opener.open(req, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def cookie(self, name: str) -> str:
        return next((c.value for c in self.jar if c.name == name), "")


async def _sockets(
    port: int, slug: str, sessions: list[str], seconds: float, ready: str, stop_file: str
) -> dict:
    import websockets

    lat: list[float] = []
    sizes: list[int] = []
    errors: list[str] = []
    connected = 0

    async def one(session: str) -> None:
        nonlocal connected
        try:
            async with websockets.connect(
                f"ws://127.0.0.1:{port}/ws/clusters/{slug}/",
                origin=f"http://127.0.0.1:{port}",
                additional_headers={"Cookie": f"sessionid={session}"},
                max_size=2**25,
                open_timeout=60,
            ) as ws:
                first = json.loads(await ws.recv())
                if first.get("type") != "snapshot":
                    errors.append(f"first message {first.get('type')}")
                connected += 1
                if connected == len(sessions):
                    Path(ready).write_text("ok")
                deadline = time.monotonic() + seconds
                while time.monotonic() < deadline and not Path(stop_file).exists():
                    try:
                        raw = await asyncio.wait_for(ws.recv(), timeout=0.5)
                    except TimeoutError:
                        continue
                    now = time.time()
                    # The measuring side must not steal the server's CPU: read the send time
                    # from the head of the frame instead of parsing every delta.
                    if raw.startswith('{"type":"delta"') and '"upserts":[]' not in raw:
                        wall = WALL.search(raw, 0, 200)
                        if wall:
                            lat.append((now - float(wall.group(1))) * 1000)
                            sizes.append(len(raw))
        except Exception as e:  # counted: a student whose socket failed
            errors.append(f"{type(e).__name__}: {e}")

    await asyncio.gather(*(one(s) for s in sessions))
    return {"lat": lat, "errors": errors, "sizes": sizes}


def _socket_process(args: tuple) -> dict:
    return asyncio.run(_sockets(*args))


def rss_mb(pid: int) -> float:
    total = 0
    for p in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def _children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=300)
    ap.add_argument("--window", type=float, default=60.0, help="seconds over which students apply")
    ap.add_argument("--soak", type=float, default=0.0, help="seconds of continued activity")
    ap.add_argument("--procs", type=int, default=4, help="client processes for the sockets")
    args = ap.parse_args()
    n = args.students
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start_up(f"{tmp}/kubelab.sqlite3")
        port = int(base.rsplit(":", 1)[1])
        try:
            run(base, port, n, args, tmp, proc.pid)
        finally:
            print(f"server stopped in {stop(proc):.1f} s")


def run(base: str, port: int, n: int, args: argparse.Namespace, tmp: str, pid: int) -> None:
    teacher = Browser(base)
    teacher.get("/accounts/signup/")
    status, _ = teacher.post(
        "/accounts/signup/",
        {"username": "teacher", "password1": "kube-lab-2026!", "password2": "kube-lab-2026!"},
        json_answer=False,
    )
    teacher.get("/classrooms/")
    status, _ = teacher.post(
        "/classrooms/",
        {
            "title": "Load test",
            "scenario": "demo",
            "workers": "20",
            "worker_cpu": "4",
            "worker_memory": "8Gi",
            "quota_pods": "10",
            "quota_cpu": "2",
            "quota_memory": "4Gi",
        },
        json_answer=False,
    )
    classrooms = teacher.get("/classrooms/")
    slug = re.search(r'href="/c/([^/]+)/dashboard/"', classrooms).group(1)
    dash = teacher.get(f"/c/{slug}/dashboard/")
    code = re.search(r"data-join-code>([A-Z0-9]+)<", dash).group(1)
    print(f"classroom {slug}, join code {code}, server RSS {rss_mb(pid):.0f} MB")

    # ----- students join -----
    students: list[Browser] = []
    join_lat: list[float] = []
    errors: list[str] = []

    def join(i: int) -> Browser | None:
        b = Browser(base)
        b.get(f"/join/{code}/")
        t = time.perf_counter()
        st, body = b.post("/join/", {"code": code, "name": f"Student {i:03d}"}, json_answer=False)
        join_lat.append((time.perf_counter() - t) * 1000)
        if st != 200 or "sessionid" not in {c.name for c in b.jar}:
            errors.append(f"join {i}: HTTP {st}")
            return None
        b.get(f"/c/{slug}/apply/")  # the editor page: its CSRF token
        return b

    t0 = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        students = [b for b in pool.map(join, range(n)) if b is not None]
    print(
        f"{len(students)}/{n} students joined in {time.perf_counter() - t0:.1f} s "
        f"(join p95 {pct(join_lat, 95):.0f} ms), server RSS {rss_mb(pid):.0f} MB"
    )

    # ----- every student watches -----
    procs = min(args.procs, len(students))
    sessions = [b.cookie("sessionid") for b in students]
    chunks = [sessions[i::procs] for i in range(procs)]
    ready = [f"{tmp}/ready{i}" for i in range(procs)]
    stop_file = f"{tmp}/stop"
    seconds = args.window + 240 + args.soak
    pool_p = Pool(procs)
    result = pool_p.map_async(
        _socket_process,
        [(port, slug, chunks[i], seconds, ready[i], stop_file) for i in range(procs)],
    )
    deadline = time.monotonic() + 120
    while not all(Path(r).exists() for r in ready) and time.monotonic() < deadline:
        time.sleep(0.2)
    print(f"{sum(Path(r).exists() for r in ready)}/{procs} socket groups connected")

    # ----- each student applies within the window -----
    apply_lat: list[float] = []
    lock = threading.Lock()
    start = time.monotonic()
    rng = random.Random(1)
    offsets = sorted(rng.uniform(0, args.window) for _ in students)

    def apply(i: int) -> None:
        delay = start + offsets[i] - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        t = time.perf_counter()
        st, body = students[i].post(
            f"/c/{slug}/apply/", {"manifest": DEPLOYMENT.format(replicas=2)}
        )
        ms = (time.perf_counter() - t) * 1000
        with lock:
            apply_lat.append(ms)
            if st != 200 or json.loads(body).get("lines") != ["deployment.apps/web created"]:
                errors.append(f"apply {i}: HTTP {st} {body[:120]}")

    with ThreadPoolExecutor(32) as pool:
        list(pool.map(apply, range(len(students))))
    print(
        f"{len(apply_lat)} applies in {time.monotonic() - start:.1f} s: p50 {pct(apply_lat, 50):.0f} ms, "
        f"p95 {pct(apply_lat, 95):.0f} ms, max {max(apply_lat):.0f} ms; server RSS {rss_mb(pid):.0f} MB"
    )

    # ----- the instructor fails a node, then lets time run until the pods are replaced -----
    teacher.get(f"/c/{slug}/")
    t = time.perf_counter()
    st, body = teacher.post(f"/c/{slug}/nodes/worker-2/fail/", {})
    print(f"instructor fails worker-2: HTTP {st} in {(time.perf_counter() - t) * 1000:.0f} ms")
    time.sleep(5)
    teacher.post(f"/c/{slug}/clock/speed/", {"speed": "60"})
    ok_by = None
    for _ in range(90):
        time.sleep(1)
        snap = json.loads(teacher.opener.open(f"{base}/c/{slug}/state.json", timeout=30).read())
        if _all_running(snap, len(students)):
            ok_by = snap["time"]
            break
    teacher.post(f"/c/{slug}/clock/speed/", {"speed": "1"})
    print(
        "every student's pods Running again"
        + (f" at simulated {ok_by:.0f} s" if ok_by else ": NO (timed out)")
    )

    if args.soak:
        soak(teacher, students, slug, args.soak, pid, errors)

    Path(stop_file).write_text("stop")
    parts = result.get(timeout=seconds + 120)
    pool_p.close()
    lat = [x for p in parts for x in p["lat"]]
    sock_errors = [e for p in parts for e in p["errors"]]
    sizes = [x for p in parts for x in p["sizes"]]
    print(
        f"delta latency to {len(students)} student sockets: {len(lat)} deliveries, "
        f"p50 {pct(lat, 50):.0f} ms, p95 {pct(lat, 95):.0f} ms, max {max(lat or [0]):.0f} ms; "
        f"delta size p50 {pct(sizes, 50) / 1024:.1f} KiB, p95 {pct(sizes, 95) / 1024:.1f} KiB"
    )
    print(f"errors: {len(errors)} HTTP, {len(sock_errors)} WebSocket")
    for e in (errors + sock_errors)[:10]:
        print("  ", e)


def _all_running(snap: dict, students: int) -> bool:
    pods = [
        o
        for o in snap["objects"]
        if o["kind"] == "Pod" and o["namespace"].startswith("student-") and not o.get("deleted")
    ]
    deps = [
        o
        for o in snap["objects"]
        if o["kind"] == "Deployment" and o["namespace"].startswith("student-")
    ]
    return (
        len(deps) == students
        and len(pods) == 2 * students
        and all(p["status"] == "Running" and p["node"] != "worker-2" for p in pods)
    )


def soak(
    teacher: Browser,
    students: list[Browser],
    slug: str,
    seconds: float,
    pid: int,
    errors: list[str],
) -> None:
    """Keep the class busy: students rescale and re-apply, the instructor fails and recovers nodes."""
    rng = random.Random(2)
    lat: list[float] = []
    end = time.monotonic() + seconds
    next_report = time.monotonic() + 60
    failed = False
    while time.monotonic() < end:
        b = rng.choice(students)
        t = time.perf_counter()
        st, body = b.post(
            f"/c/{slug}/apply/", {"manifest": DEPLOYMENT.format(replicas=rng.randint(1, 4))}
        )
        lat.append((time.perf_counter() - t) * 1000)
        if st != 200:
            errors.append(f"soak apply: HTTP {st} {body[:100]}")
        if rng.random() < 0.02:
            teacher.post(f"/c/{slug}/nodes/worker-3/{'recover' if failed else 'fail'}/", {})
            failed = not failed
        if time.monotonic() > next_report:
            print(
                f"  soak: {len(lat)} applies, p95 {pct(lat, 95):.0f} ms, server RSS {rss_mb(pid):.0f} MB"
            )
            next_report += 60
        time.sleep(0.2)
    if failed:
        teacher.post(f"/c/{slug}/nodes/worker-3/recover/", {})
    print(
        f"soak done: {len(lat)} applies, p95 {pct(lat, 95):.0f} ms, server RSS {rss_mb(pid):.0f} MB"
    )


if __name__ == "__main__":
    main()
