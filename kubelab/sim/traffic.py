"""Simulated clients: load on Services, kube-proxy's choice of endpoint, and what it costs the pods.

Traffic is simulated in aggregate, one sample per simulated second — never per request — so ten
Services at 1,000 req/s cost the same as one at 1 req/s.

* **Load** is set per Service (``load`` scenario steps, ``actions.set_load``): requests per second,
  ``steady``, ``ramp`` (from ``rps`` to ``peak`` over ``duration``) or ``spike`` (``peak`` for
  ``duration``, then back to ``rps``).
* **kube-proxy (iptables mode)** sends each new connection to a uniformly random *ready*
  endpoint: rule *i* of *n* matches with probability 1/(n−i), the last always (``pkg/proxy/iptables/proxier.go``).
  Here the same chain splits a second's connections: endpoint *i* gets
  Binomial(remaining, 1/(n−i)). A Service with no ready endpoint refuses every connection.
* **A pod's service model** (KubeLab's own, not Kubernetes'): each request costs
  ``CPU_PER_REQUEST`` millicore-seconds, so a pod requesting 100m serves 100 req/s at 100% of
  its request; it can burst to its CPU limit (or ``BURST`` × its request without one); requests
  beyond that fail (HTTP 503). Each pod is a single-server queue (M/M/1) at utilisation ρ of that
  ceiling: its response time is exponential with mean ``BASE_LATENCY_MS / (1 − ρ)``, so its p50,
  p95 and p99 are ln 2, ln 20 and ln 100 times the mean. A Service's percentiles are those of the
  mix of its pods' response times, weighted by the requests each served; a tier that calls
  another adds the callee's.
* **Metrics** are what metrics-server would report: CPU averaged over a ``WINDOW`` of 15 s,
  per pod; ``kubectl top`` and the HorizontalPodAutoscaler read them.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from .controllers import service_lb
from .kinds import Pod, Service
from .objects import KObject
from .quantity import milli_value

if TYPE_CHECKING:
    from .state import ClusterState

STEP = 1.0  # simulated seconds per traffic sample
CPU_PER_REQUEST = 1.0  # millicore-seconds of CPU per request
IDLE_CPU = 1.0  # millicores a running container uses at rest
BURST = 4  # without a CPU limit, a pod may use up to this many times its request
BASE_LATENCY_MS = 5.0
MAX_LATENCY_MS = 2000.0
WINDOW = 15  # seconds of CPU samples metrics-server averages (metric resolution)
SERIES = 120  # points of per-Service history kept (two simulated minutes)
MAX_RPS = 100_000
PROFILES = ("steady", "ramp", "spike")


def rate(load: dict[str, Any], now: float) -> float:
    """Requests per second a load profile asks for at ``now``."""
    rps = float(load.get("rps", 0.0))
    peak = float(load.get("peak", rps))
    since = float(load.get("since", 0.0))
    duration = max(float(load.get("duration", 60.0)), 1e-9)
    profile = load.get("profile", "steady")
    if profile == "ramp":
        return rps + (peak - rps) * min(max((now - since) / duration, 0.0), 1.0)
    if profile == "spike":
        return peak if now - since < duration else rps
    return rps


def binomial(rng: Any, n: int, p: float) -> int:
    """Binomial(n, p): exact for small n, a normal approximation (clamped) for large n."""
    if n <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    if n < 64:
        return sum(1 for _ in range(n) if rng.random() < p)
    mean, sd = n * p, math.sqrt(n * p * (1 - p))
    return min(n, max(0, round(rng.gauss(mean, sd))))


def kube_proxy_split(rng: Any, connections: int, endpoints: int) -> list[int]:
    """How iptables' probability chain spreads ``connections`` over ``endpoints`` endpoints."""
    out = []
    remaining = connections
    for i in range(endpoints):
        k = remaining if i == endpoints - 1 else binomial(rng, remaining, 1.0 / (endpoints - i))
        out.append(k)
        remaining -= k
    return out


def ceiling_mcpu(pod: Pod) -> float:
    """The CPU a pod may use: its limit, else BURST × its (non-zero) request."""
    limit = 0
    for c in pod.spec.get("containers") or []:
        lim = ((c.get("resources") or {}).get("limits") or {}).get("cpu")
        if lim is None:
            limit = 0
            break
        limit += milli_value(lim)
    return float(limit) if limit else float(BURST * max(pod.req_cpu or pod.nz_cpu, 1))


def _set(
    state: ClusterState,
    obj: KObject,
    rps: float,
    profile: str,
    peak: float | None,
    duration: float,
    **where: str,
) -> None:
    """Validate and store a load on a Service or an Ingress (``where``: an Ingress's host, path)."""
    from .apiserver import ApiError

    if profile not in PROFILES:
        raise ApiError(
            f"error: unknown load profile {profile!r}: use {', '.join(PROFILES)}", code=400
        )
    for value in (rps, peak if peak is not None else 0.0):
        if not 0 <= value <= MAX_RPS or value != value:
            raise ApiError(
                f"error: load must be between 0 and {MAX_RPS} requests per second (KubeLab's limit)",
                code=400,
            )
    if rps == 0 and not peak:
        obj.sim.pop("load", None)
    else:
        obj.sim["load"] = {
            "rps": rps,
            "profile": profile,
            "peak": rps if peak is None else peak,
            "duration": duration,
            "since": state.now,
            **where,
        }
    state.touch(obj)
    state.enqueue("traffic", "tick")


def set_load(
    state: ClusterState,
    namespace: str,
    service: str,
    rps: float,
    *,
    profile: str = "steady",
    peak: float | None = None,
    duration: float = 60.0,
) -> list[str]:
    from .actions import not_found

    svc = state.services.get((namespace, service))
    if svc is None:
        raise not_found("Service", service)
    _set(state, svc, rps, profile, peak, duration)
    return [f"service/{service} load set to {rps:g} req/s ({profile})"]


def set_ingress_load(
    state: ClusterState,
    namespace: str,
    ingress: str,
    rps: float,
    *,
    host: str = "",
    path: str = "/",
    profile: str = "steady",
    peak: float | None = None,
    duration: float = 60.0,
) -> list[str]:
    """Clients of an Ingress host and path: the ingress controller routes them to a Service."""
    from .actions import not_found

    ing = state.ingresses.get((namespace, ingress))
    if ing is None:
        raise not_found("Ingress", ingress)
    _set(state, ing, rps, profile, peak, duration, host=host, path=path)
    return [f"ingress.networking.k8s.io/{ingress} load set to {rps:g} req/s ({profile})"]


def _host_matches(rule_host: str | None, host: str) -> bool:
    """An Ingress rule's host: none matches every request; ``*.foo.com`` matches exactly one
    more label (``bar.foo.com``, not ``baz.bar.foo.com`` nor ``foo.com``); else equality."""
    if not rule_host:
        return True
    if rule_host.startswith("*."):
        first, _, rest = host.partition(".")
        return bool(first) and rest == rule_host[2:]
    return rule_host == host


def route(ing: KObject, host: str, path: str) -> str | None:
    """The backend Service of a request, as the Ingress rules say: the rule's host, then the
    longest matching path, an Exact path winning a tie with a Prefix one (Ingress docs, "Multiple
    matches"); no match goes to the defaultBackend, or the controller's 404 (None)."""
    best: tuple[int, int, str] | None = None
    for rule in ing.spec.get("rules") or []:
        if not _host_matches(rule.get("host"), host):
            continue
        for p in (rule.get("http") or {}).get("paths") or []:
            prefix = p.get("path") or "/"
            ptype = p.get("pathType", "Prefix")
            ok = (
                path == prefix
                if ptype == "Exact"
                else (prefix == "/" or path == prefix or path.startswith(prefix.rstrip("/") + "/"))
            )
            name = ((p.get("backend") or {}).get("service") or {}).get("name")
            rank = (len(prefix), 1 if ptype == "Exact" else 0)
            if ok and name and (best is None or rank > best[:2]):
                best = (*rank, name)
    if best is None:
        default = ((ing.spec.get("defaultBackend") or {}).get("service") or {}).get("name")
        return default or None
    return best[2]


def _pods_by_ip(state: ClusterState) -> dict[tuple[str, str], Pod]:
    return {(p.namespace, p.ip): p for p in state.pods.values() if p.ip}


def run(state: ClusterState) -> None:
    """One traffic sample, when its timer fires (every simulated second while any load is set)."""
    if not state.take("traffic"):
        return
    loaded = [s for s in state.services.values() if s.sim.get("load")]
    edge = [g for g in state.ingresses.values() if g.sim.get("load")]
    routed: dict[str, float] = {}
    unrouted: dict[str, float] = {}
    for g in edge:
        load = g.sim["load"]
        backend = _edge_route(g, load)
        key = f"{g.namespace}/{backend}"
        if backend and (g.namespace, backend) in state.services:
            routed[key] = routed.get(key, 0.0) + rate(load, state.now) * STEP
            svc = state.services[(g.namespace, backend)]
            if svc not in loaded:
                loaded.append(svc)
        else:
            unrouted[f"{g.namespace}/{g.name}"] = rate(load, state.now) * STEP
    pods_m: dict[str, Any] = state.metrics.setdefault("pods", {})
    svc_m: dict[str, Any] = state.metrics.setdefault("services", {})
    now = state.now
    last = state.metrics.get("at")
    if last is not None and now - last < STEP - 1e-9:
        _schedule(state, last + STEP)
        return
    state.metrics["at"] = now
    by_ip = _pods_by_ip(state) if loaded else {}
    served: dict[str, float] = {}
    summary: dict[str, Any] = {}
    # Clients' load, then the calls each tier makes to the next (todo-ui → todo-api → todo-db):
    # Services in dependency order, each one's demand = its clients + what its callers served.
    order, calls = _call_graph(state, loaded, by_ip)
    demand = {key: rate(svc.sim["load"], now) * STEP for key, svc in order if svc.sim.get("load")}
    for key, extra in routed.items():
        demand[key] = demand.get(key, 0.0) + extra
    for key, svc in order:
        expected = demand.get(key, 0.0)
        n = int(expected)
        if state.rng.random() < expected - n:
            n += 1
        result = _serve(state, svc, n, by_ip, served, svc_m, now)
        summary[key] = result
        for dep in calls.get(key, ()):
            demand[dep] = demand.get(dep, 0.0) + result["ok"]
    # A request fails when a call it makes fails; its latency includes the calls'.
    for key, _svc in reversed(order):
        deps = [summary[d] for d in calls.get(key, ()) if d in summary]
        if not deps:
            continue
        res = summary[key]
        survive = 1.0
        for d in deps:
            total = d["ok"] + d["failed"]
            survive *= d["ok"] / total if total else 1.0
        lost = res["ok"] * (1 - survive)
        res["ok"] -= lost
        res["failed"] += lost
        for p in ("p50", "p95", "p99"):
            res[p] = min(round(res[p] + sum(d[p] for d in deps), 1), MAX_LATENCY_MS)
        res["calls"] = calls[key]
    for key, res in summary.items():
        res["rps"] = res["ok"] / STEP
        res["errors"] = res["failed"] / STEP
        svc_m[key][-1][1:] = [
            round(res["ok"]),
            round(res["failed"]),
            res["p95"],
            res["p50"],
            res["p99"],
        ]
    # Every running pod has a CPU sample (idle ones too): what `kubectl top` shows.
    alive = set()
    for pod in state.pods.values():
        if pod.phase != "Running" or pod.deleted is not None:
            continue
        alive.add(pod.uid)
        cpu = IDLE_CPU * len(pod.spec.get("containers") or [1]) + served.get(pod.uid, 0.0)
        samples = pods_m.setdefault(pod.uid, [])
        samples.append([round(now, 3), round(cpu, 1)])
        del samples[:-WINDOW]
    for uid in [u for u in pods_m if u not in alive]:
        del pods_m[uid]
    for key in [k for k in svc_m if k not in summary and not _exists(state, k)]:
        del svc_m[key]
    for g in edge:
        key = f"{g.namespace}/{g.name}"
        load = g.sim["load"]
        backend = _edge_route(g, load)
        res = summary.get(f"{g.namespace}/{backend}") if backend else None
        summary[f"ingress:{key}"] = {
            "backend": backend,
            "unclaimed": not service_lb.claims(g),
            "rps": res["rps"] if res else 0.0,
            "errors": res["errors"] if res else unrouted.get(key, 0.0) / STEP,
            "p50": res["p50"] if res else 0.0,
            "p95": res["p95"] if res else 0.0,
            "p99": res["p99"] if res else 0.0,
            "split": {},
        }
    state.traffic = summary
    state.traffic_changed = bool(summary)
    if loaded or edge or state.hpas:  # otherwise a quiet cluster stays free (no timer)
        _schedule(state, now + STEP)


def _edge_route(g: KObject, load: dict[str, Any]) -> str | None:
    """The Service the ingress controller sends these clients to; None is its 404 (no rule
    matches, or the Ingress is of a class no controller here serves)."""
    if not service_lb.claims(g):
        return None
    return route(g, load.get("host", ""), load.get("path", "/"))


def _exists(state: ClusterState, key: str) -> bool:
    ns, _, name = key.partition("/")
    return (ns, name) in state.services


def _schedule(state: ClusterState, at: float) -> None:
    state.set_timer("traffic", "tick", at)


HOST = re.compile(
    r"(?:^|[/@\s=])([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)*)(?::\d+)?(?=[/\s]|$)"
)


def dependencies(pod: Pod, services: dict[tuple[str, str], Service]) -> list[str]:
    """Services a pod calls, from the addresses in its environment (``http://todo-api:8080``,
    ``postgres://…@todo-db:5432/todo``): names resolved as cluster DNS resolves them."""
    found: list[str] = []
    for c in pod.spec.get("containers") or []:
        for env in c.get("env") or []:
            value = env.get("value")
            if not isinstance(value, str):
                continue
            for host in HOST.findall(value):
                parts = host.split(".")
                ns = parts[1] if len(parts) > 1 else pod.namespace
                if len(parts) > 2 and parts[2:] not in (["svc"], ["svc", "cluster", "local"]):
                    continue
                key = f"{ns}/{parts[0]}"
                if (ns, parts[0]) in services and key not in found:
                    found.append(key)
    return found


def _endpoint_pods(svc: Service, by_ip: dict[tuple[str, str], Pod]) -> list[Pod]:
    pods: list[Pod] = []
    for ep in svc.sim.get("endpoints") or []:
        pod = by_ip.get((svc.namespace, ep.rsplit(":", 1)[0]))
        if pod is not None and pod not in pods:
            pods.append(pod)
    return pods


def _call_graph(
    state: ClusterState, loaded: list[Service], by_ip: dict[tuple[str, str], Pod]
) -> tuple[list[tuple[str, Service]], dict[str, list[str]]]:
    """Services reachable from the loaded ones, callers before callees (cycles cut)."""
    calls: dict[str, list[str]] = {}
    found: dict[str, Service] = {}
    stack = [f"{s.namespace}/{s.name}" for s in loaded]
    while stack:
        key = stack.pop()
        if key in found:
            continue
        ns, _, name = key.partition("/")
        svc = state.services.get((ns, name))
        if svc is None:
            continue
        found[key] = svc
        deps: list[str] = []
        for pod in _endpoint_pods(svc, by_ip):
            for d in dependencies(pod, state.services):
                if d != key and d not in deps:
                    deps.append(d)
        calls[key] = deps
        stack.extend(deps)
    order: list[str] = []
    marks: dict[str, int] = {}

    def visit(k: str) -> None:  # depth-first, post-order: a callee after all its callers
        if marks.get(k):
            return
        marks[k] = 1
        for d in calls.get(k, ()):
            visit(d)
        marks[k] = 2
        order.append(k)

    for k in found:
        visit(k)
    order.reverse()
    return [(k, found[k]) for k in order], calls


def _serve(
    state: ClusterState,
    svc: Service,
    n: int,
    by_ip: dict[tuple[str, str], Pod],
    served: dict[str, float],
    svc_m: dict[str, Any],
    now: float,
) -> dict[str, Any]:
    pods: list[Pod] = []
    for ep in svc.sim.get("endpoints") or []:
        pod = by_ip.get((svc.namespace, ep.rsplit(":", 1)[0]))
        if pod is not None and pod not in pods:
            pods.append(pod)
    ok = errors = refused = 0
    lat_weights: list[tuple[float, int]] = []
    split: dict[str, int] = {}
    if not pods:
        refused = n
    else:
        for pod, k in zip(pods, kube_proxy_split(state.rng, n, len(pods)), strict=True):
            split[pod.name] = k
            ceiling = ceiling_mcpu(pod)
            already = served.get(pod.uid, 0.0)  # another Service may send to the same pod
            room = max((ceiling - IDLE_CPU - already) / CPU_PER_REQUEST * STEP, 0.0)
            done = min(k, int(room))
            served[pod.uid] = already + done * CPU_PER_REQUEST / STEP
            ok += done
            errors += k - done
            rho = min((served[pod.uid] + IDLE_CPU) / ceiling, 0.999)
            lat_weights.append((min(BASE_LATENCY_MS / (1 - rho), MAX_LATENCY_MS), done))
    p50, p95, p99 = _quantiles(lat_weights)
    # [time, served, failed, p95, p50, p99]: p95 third, where the series always had it.
    point = [round(now, 3), ok, errors + refused, round(p95, 1), round(p50, 1), round(p99, 1)]
    series = svc_m.setdefault(f"{svc.namespace}/{svc.name}", [])
    series.append(point)
    del series[:-SERIES]
    return {
        "ok": float(ok),
        "failed": float(errors + refused),
        "refused": refused / STEP,
        "p50": round(p50, 1),
        "p95": round(p95, 1),
        "p99": round(p99, 1),
        "split": split,
    }


def _quantiles(
    weighted: list[tuple[float, int]], qs: tuple[float, ...] = (0.5, 0.95, 0.99)
) -> list[float]:
    """Percentiles of a mix of exponential response times (pod mean, requests it served).

    Pods with about the same mean (two significant figures) are pooled, so 500 pods cost about
    as much as a few; each percentile is found by bisection on the mix's distribution function."""
    pooled: dict[float, int] = {}
    for mean, w in weighted:
        if w > 0:
            key = float(f"{mean:.2g}")
            pooled[key] = pooled.get(key, 0) + w
    total = sum(pooled.values())
    if not total:
        return [0.0 for _ in qs]
    mix = [(m, w / total) for m, w in pooled.items()]

    def cdf(x: float) -> float:
        return sum(f * (1.0 - math.exp(-x / m)) for m, f in mix)

    out = []
    for q in qs:
        lo, hi = 0.0, MAX_LATENCY_MS  # beyond it, the client has given up (a timeout)
        if cdf(hi) < q:
            out.append(MAX_LATENCY_MS)
            continue
        for _ in range(22):  # 2 s / 2^22: well under the 0.1 ms shown
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if cdf(mid) < q else (lo, mid)
        out.append(hi)
    return out


def pod_cpu(state: ClusterState, pod: Pod, idle_default: bool = False) -> float | None:
    """The pod's CPU over the metrics window (millicores), or None while it has no sample.

    With ``idle_default`` a running pod without samples (no load anywhere, so the sampler is off)
    reports its idle usage — what `kubectl top` shows on a quiet cluster."""
    samples = state.metrics.get("pods", {}).get(pod.uid)
    if not samples:
        if idle_default and pod.phase == "Running" and pod.deleted is None:
            return IDLE_CPU * len(pod.spec.get("containers") or [1])
        return None
    return sum(c for _, c in samples) / len(samples)


def pod_memory(pod: Pod) -> int:
    """Working set (bytes): the memory request, else 8Mi per container (a simulated figure)."""
    return pod.req_mem or 8 * 2**20 * len(pod.spec.get("containers") or [1])


def ensure_running(state: ClusterState) -> None:
    """Start the sampler when pods run (so `kubectl top` and the HPA have numbers)."""
    if ("traffic", "tick") not in state.timers and not state.queues["traffic"]:
        state.enqueue("traffic", "tick")
