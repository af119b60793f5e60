"""The cluster view and the instructor's controls. Views only translate HTTP to services.

Until the classrooms issue adds roles, every visitor of the local demo acts as the instructor.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.middleware import HtmxDetails

from kubelab.security import rate_limited
from kubelab.sim import printers
from kubelab.sim.apiserver import ApiError
from kubelab.sim.kubectl import run as kubectl_run

from . import services, store
from .kubectl_api import ServiceApi
from .models import Cluster

SCENARIOS_DIR = Path(__file__).resolve().parent.parent / "kubelab" / "scenarios"
MAX_CONSOLE_COMMAND = 2000


class HtmxHttpRequest(HttpRequest):
    # django-stubs' pattern for attributes added by middleware.
    htmx: HtmxDetails


def scenario_names() -> list[str]:
    return sorted(p.stem for p in SCENARIOS_DIR.glob("*.yaml"))


def _answer(request: HttpRequest, ok: bool, output: str, status: int = 200) -> HttpResponse:
    """JSON for the page's scripts, plain text otherwise (a form without JavaScript gets redirected)."""
    if "application/json" in request.headers.get("Accept", ""):
        # The page's own scripts get 200 with the status in the body: a refusal is an answer, not a failed load.
        ui = bool(request.headers.get("X-KubeLab-UI"))
        return JsonResponse(
            {"ok": ok, "output": output, "status": status}, status=200 if ui else status
        )
    if (
        request.method == "POST"
        and "text/html" in request.headers.get("Accept", "")
        and request.POST.get("next")
    ):
        nxt = request.POST["next"]
        if nxt.startswith("/") and not nxt.startswith("//"):
            return redirect(nxt)
    return HttpResponse(output, status=status, content_type="text/plain; charset=utf-8")


def _api_error(request: HttpRequest, e: ApiError) -> HttpResponse:
    status = e.code if 400 <= e.code < 600 else 400
    return _answer(request, False, e.message, status)


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    clusters = Cluster.objects.all()
    if len(clusters) == 1:
        return redirect("cluster", slug=clusters[0].slug)
    return render(request, "index.html", {"clusters": clusters})


@require_GET
def cluster_view(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, slug=slug)
    projector = request.GET.get("projector") == "1"
    return render(
        request,
        "clusters/cluster.html",
        {"cluster": cluster, "projector": projector, "scenarios": scenario_names()},
    )


KIND_WORDS = {
    "pod": "Pod",
    "node": "Node",
    "deployment": "Deployment",
    "replicaset": "ReplicaSet",
    "service": "Service",
    "namespace": "Namespace",
}


@require_GET
def describe(
    request: HtmxHttpRequest, slug: str, kind: str, name: str, namespace: str = ""
) -> HttpResponse:
    cluster = get_object_or_404(Cluster, slug=slug)
    k = KIND_WORDS.get(kind)
    if k is None:
        raise Http404("unknown kind")

    def read(state: Any) -> dict[str, Any]:
        obj = state.get(k, namespace or "default", name)
        if obj is None:
            raise Http404(f"{kind} {name} not found")
        out: dict[str, Any] = {
            "text": printers.describe(state, k, namespace or "default", name),
            "decision": None,
        }
        if k == "Pod":
            out["decision"] = state.decisions.get(obj.uid) or store.decision_for(
                cluster.pk, obj.uid
            )
            out["replaces"] = obj.sim.get("replaces")
        return out

    data = services.cluster_query(cluster.pk, read)
    decision = data["decision"]
    plugins = [
        "NodeResourcesFit",
        "NodeResourcesBalancedAllocation",
        "TaintToleration",
        "NodeAffinity",
        "PodTopologySpread",
        "ImageLocality",
    ]
    rows = []
    if decision:
        for n in decision["nodes"]:
            rows.append(
                {
                    "node": n["node"],
                    "filter": n.get("filter"),
                    "reasons": ", ".join(n.get("reasons") or []),
                    "cells": [(n.get("scores") or {}).get(p, "") for p in plugins],
                    "total": n.get("total"),
                    "winner": n["node"] == decision.get("winner"),
                }
            )
        rows.sort(
            key=lambda r: (not r["winner"], r["filter"] is not None, -(r["total"] or 0), r["node"])
        )
    context = {
        "cluster": cluster,
        "kind": kind,
        "name": name,
        "namespace": namespace,
        "text": data["text"],
        "decision": decision,
        "rows": rows,
        "plugins": ["Fit", "Balanced", "Taint", "Affinity", "Spread", "Image"],
        "replaces": data.get("replaces"),
    }
    return render(request, "clusters/describe.html", context)


@require_POST
@rate_limited("actions", "MAX_ACTIONS_PER_MINUTE")
def node_action(request: HttpRequest, slug: str, name: str, action: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, slug=slug)
    try:
        lines = services.node_action(cluster_id=cluster.pk, node=name, action=action)
    except ApiError as e:
        return _api_error(request, e)
    except services.ServiceError as e:
        return _answer(request, False, str(e), 400)
    return _answer(request, True, "\n".join(lines))


@require_POST
@rate_limited("actions", "MAX_ACTIONS_PER_MINUTE")
def node_add(request: HttpRequest, slug: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, slug=slug)
    name = request.POST.get("name", "").strip()
    labels: dict[str, str] = {}
    taints: list[dict[str, str]] = []
    try:
        for item in filter(None, (x.strip() for x in request.POST.get("labels", "").split(","))):
            k, _, v = item.partition("=")
            labels[k.strip()] = v.strip()
        for item in filter(None, (x.strip() for x in request.POST.get("taints", "").split(","))):
            kv, _, effect = item.rpartition(":")
            k, _, v = kv.partition("=")
            taints.append(
                {"key": k.strip(), "value": v.strip(), "effect": effect.strip() or "NoSchedule"}
            )
        pods = int(request.POST.get("pods") or 110)
        lines = services.node_add(
            cluster_id=cluster.pk,
            name=name,
            cpu=request.POST.get("cpu") or "4",
            memory=request.POST.get("memory") or "8Gi",
            pods=pods,
            labels=labels,
            taints=taints,
        )
    except ApiError as e:
        return _api_error(request, e)
    except ValueError:
        return _answer(request, False, "error: pods must be a whole number", 400)
    return _answer(request, True, "\n".join(lines))


@require_POST
@rate_limited("actions", "MAX_ACTIONS_PER_MINUTE")
def pod_delete(request: HttpRequest, slug: str, namespace: str, name: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, slug=slug)
    result = kubectl_run(ServiceApi(cluster.pk), ["delete", "pod", name, "-n", namespace])
    return _answer(
        request, result.code == 0, result.text.rstrip("\n"), 200 if result.code == 0 else 404
    )


@require_POST
@rate_limited("actions", "MAX_ACTIONS_PER_MINUTE")
def clock(request: HttpRequest, slug: str, action: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, slug=slug)
    try:
        if action in ("pause", "resume"):
            services.clock_set(cluster_id=cluster.pk, paused=action == "pause")
            return _answer(request, True, "paused" if action == "pause" else "resumed")
        if action == "speed":
            try:
                speed = float(request.POST.get("speed", ""))
            except ValueError:
                return _answer(request, False, "speed must be a number", 400)
            services.clock_set(cluster_id=cluster.pk, speed=speed)
            return _answer(request, True, f"speed {speed:g}x")
        if action in ("step", "skip"):
            t = services.clock_advance(cluster_id=cluster.pk, mode=action)
            return _answer(request, True, f"simulated time {printers.human_duration(t)}")
    except services.ServiceError as e:
        return _answer(request, False, str(e), 400)
    raise Http404("unknown clock action")


@require_POST
@rate_limited("actions", "MAX_ACTIONS_PER_MINUTE")
def cluster_reset(request: HttpRequest, slug: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, slug=slug)
    scenario = request.POST.get("scenario", "")
    text = None
    if scenario:
        if scenario not in scenario_names():
            return _answer(request, False, f"unknown scenario {scenario!r}", 400)
        text = (SCENARIOS_DIR / f"{scenario}.yaml").read_text()
    try:
        services.cluster_reset(cluster_id=cluster.pk, scenario_text=text)
    except services.ServiceError as e:
        return _answer(request, False, str(e), 400)
    return _answer(request, True, f"cluster reset{' to ' + scenario if scenario else ''}")


@require_POST
@rate_limited("actions", "MAX_ACTIONS_PER_MINUTE")
def console(request: HttpRequest, slug: str) -> HttpResponse:
    """One kubectl command from the in-page console (the same subset as `manage.py kubectl`)."""
    cluster = get_object_or_404(Cluster, slug=slug)
    command = request.POST.get("command", "")
    if len(command) > MAX_CONSOLE_COMMAND:
        return JsonResponse(
            {
                "code": 1,
                "out": "",
                "err": f"error: command longer than {MAX_CONSOLE_COMMAND} characters",
            },
            status=413,
        )
    result = kubectl_run(ServiceApi(cluster.pk), command, stdin=request.POST.get("stdin") or None)
    return JsonResponse({"code": result.code, "out": result.out, "err": result.err})


@require_GET
def cluster_state(request: HttpRequest, slug: str) -> HttpResponse:
    """The snapshot the WebSocket sends first, over HTTP (for tools and tests)."""
    cluster = get_object_or_404(Cluster, slug=slug)
    return HttpResponse(
        json.dumps(services.cluster_snapshot(cluster.pk)), content_type="application/json"
    )
