"""The cluster view and the instructor's controls. Views only translate HTTP to services.

Every view asks ``access.resolve`` who is asking and hands that Actor to the services, which
decide (see clusters/access.py); a refusal is a 403 in kubectl's or plain words.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.middleware import HtmxDetails

from kubelab.security import rate_limited
from kubelab.sim import kinds, printers
from kubelab.sim.apiserver import ApiError
from kubelab.sim.apiserver.authz import authorize
from kubelab.sim.kubectl import run as kubectl_run

from . import access, credentials, services, store
from .kubectl_api import ServiceApi
from .models import Classroom, Cluster, Membership

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


def with_actor(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Look up the cluster and the Actor; refuse those who may not even look (403 / 404)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
        cluster = get_object_or_404(Cluster, slug=slug)
        actor = access.resolve(cluster, request.user, request.session)
        if not actor.can_view:
            if request.method == "GET" and "text/html" in request.headers.get("Accept", ""):
                return render(request, "clusters/forbidden.html", {"cluster": cluster}, status=403)
            return _answer(request, False, "error: you are not a member of this classroom", 403)
        try:
            return view(request, cluster, actor, *args, **kwargs)
        except access.Forbidden as e:
            return _answer(request, False, str(e), 403)

    return wrapper


def _status_of(result: Any) -> int:
    """The HTTP status behind a kubectl answer (kubectl prints it as ``Error from server (X)``)."""
    if result.code == 0:
        return 200
    for word, status in (("(Forbidden)", 403), ("(NotFound)", 404), ("(Conflict)", 409)):
        if word in result.err:
            return status
    return 400


def _api_error(request: HttpRequest, e: ApiError) -> HttpResponse:
    status = e.code if 400 <= e.code < 600 else 400
    return _answer(request, False, e.message, status)


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The demo (straight to it on a laptop), a join form for students, a way in for instructors."""
    sandboxes = list(Cluster.objects.filter(classroom__isnull=True))
    if len(sandboxes) == 1 and not Classroom.objects.exists():
        return redirect("cluster", slug=sandboxes[0].slug)
    return render(request, "index.html", {"clusters": sandboxes})


@require_GET
@with_actor
def cluster_view(request: HtmxHttpRequest, cluster: Cluster, actor: access.Actor) -> HttpResponse:
    projector = request.GET.get("projector") == "1" or actor.role == "projector"
    classroom = Classroom.objects.filter(cluster=cluster).first()
    member = None
    if actor.membership_id is not None:
        member = Membership.objects.filter(pk=actor.membership_id).first()
    return render(
        request,
        "clusters/cluster.html",
        {
            "cluster": cluster,
            "projector": projector,
            "scenarios": scenario_names(),
            "actor": actor,
            "classroom": classroom,
            "member": member,
            "controls": actor.can_operate and not projector,
        },
    )


@require_GET
@with_actor
def describe(
    request: HtmxHttpRequest,
    cluster: Cluster,
    actor: access.Actor,
    kind: str,
    name: str,
    namespace: str = "",
) -> HttpResponse:
    entry = kinds.resolve(kind)
    if entry is None or entry.describe is None:
        raise Http404("unknown kind")
    k = entry.kind

    def read(state: Any) -> dict[str, Any]:
        authorize(state, "get", k, kinds.namespace_of(k, namespace or "default"), name)
        obj = state.get(k, namespace or "default", name)
        if obj is None:
            raise Http404(f"{kind} {name} not found")
        out: dict[str, Any] = {
            "text": kinds.describe(state, k, namespace or "default", name),
            "decision": None,
        }
        if k == "Pod":
            out["decision"] = state.decisions.get(obj.uid) or store.decision_for(
                cluster.pk, obj.uid
            )
            out["replaces"] = obj.sim.get("replaces")
        return out

    try:
        data = services.cluster_query(cluster.pk, read, actor=actor)
    except ApiError as e:
        return _api_error(request, e)
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
        "can_delete": actor.can_operate
        or (actor.role == "student" and actor.can_write and namespace == actor.namespace),
    }
    return render(request, "clusters/describe.html", context)


@require_POST
@rate_limited("actions", "MAX_ACTIONS_PER_MINUTE")
@with_actor
def node_action(
    request: HttpRequest, cluster: Cluster, actor: access.Actor, name: str, action: str
) -> HttpResponse:
    try:
        lines = services.node_action(cluster_id=cluster.pk, node=name, action=action, actor=actor)
    except ApiError as e:
        return _api_error(request, e)
    except services.ServiceError as e:
        return _answer(request, False, str(e), 400)
    return _answer(request, True, "\n".join(lines))


@require_POST
@rate_limited("actions", "MAX_ACTIONS_PER_MINUTE")
@with_actor
def node_add(request: HttpRequest, cluster: Cluster, actor: access.Actor) -> HttpResponse:
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
            actor=actor,
        )
    except ApiError as e:
        return _api_error(request, e)
    except ValueError:
        return _answer(request, False, "error: pods must be a whole number", 400)
    return _answer(request, True, "\n".join(lines))


@require_POST
@rate_limited("actions", "MAX_ACTIONS_PER_MINUTE")
@with_actor
def service_load(
    request: HttpRequest, cluster: Cluster, actor: access.Actor, namespace: str, name: str
) -> HttpResponse:
    """Set the simulated clients of a Service (or, under ``ingresses/``, of an Ingress host and
    path): requests per second and a profile."""
    p = request.POST
    kind = (
        "Ingress"
        if request.resolver_match and request.resolver_match.url_name == "ingress-load"
        else "Service"
    )
    host, path = p.get("host", ""), p.get("path") or "/"
    if len(host) > 253 or len(path) > 1024 or not path.startswith("/"):
        return _answer(
            request, False, "error: host must be a DNS name and path must start with /", 400
        )
    try:
        rps = float(p.get("rps", ""))
        peak = float(p["peak"]) if p.get("peak") else None
        duration = float(p.get("duration") or 60)
    except ValueError:
        return _answer(request, False, "error: rps, peak and duration must be numbers", 400)
    if not 1 <= duration <= 3600:
        return _answer(request, False, "error: duration must be between 1 and 3600 seconds", 400)
    try:
        lines = services.service_load(
            cluster_id=cluster.pk,
            namespace=namespace,
            service=name,
            rps=rps,
            profile=p.get("profile") or "steady",
            peak=peak,
            duration=duration,
            actor=actor,
            kind=kind,
            host=host,
            path=path,
        )
    except ApiError as e:
        return _api_error(request, e)
    return _answer(request, True, "\n".join(lines))


@require_POST
@rate_limited("actions", "MAX_ACTIONS_PER_MINUTE")
@with_actor
def pod_delete(
    request: HttpRequest, cluster: Cluster, actor: access.Actor, namespace: str, name: str
) -> HttpResponse:
    result = kubectl_run(ServiceApi(cluster.pk, actor), ["delete", "pod", name, "-n", namespace])
    return _answer(request, result.code == 0, result.text.rstrip("\n"), _status_of(result))


@require_POST
@rate_limited("actions", "MAX_ACTIONS_PER_MINUTE")
@with_actor
def clock(request: HttpRequest, cluster: Cluster, actor: access.Actor, action: str) -> HttpResponse:
    try:
        if action in ("pause", "resume"):
            services.clock_set(cluster_id=cluster.pk, paused=action == "pause", actor=actor)
            return _answer(request, True, "paused" if action == "pause" else "resumed")
        if action == "speed":
            try:
                speed = float(request.POST.get("speed", ""))
            except ValueError:
                return _answer(request, False, "speed must be a number", 400)
            services.clock_set(cluster_id=cluster.pk, speed=speed, actor=actor)
            return _answer(request, True, f"speed {speed:g}x")
        if action in ("step", "skip"):
            t = services.clock_advance(cluster_id=cluster.pk, mode=action, actor=actor)
            return _answer(request, True, f"simulated time {printers.human_duration(t)}")
    except services.ServiceError as e:
        return _answer(request, False, str(e), 400)
    raise Http404("unknown clock action")


@require_POST
@rate_limited("actions", "MAX_ACTIONS_PER_MINUTE")
@with_actor
def cluster_reset(request: HttpRequest, cluster: Cluster, actor: access.Actor) -> HttpResponse:
    scenario = request.POST.get("scenario", "")
    text = None
    if scenario:
        if scenario not in scenario_names():
            return _answer(request, False, f"unknown scenario {scenario!r}", 400)
        text = (SCENARIOS_DIR / f"{scenario}.yaml").read_text()
    try:
        services.cluster_reset(cluster_id=cluster.pk, scenario_text=text, actor=actor)
    except services.ServiceError as e:
        return _answer(request, False, str(e), 400)
    return _answer(request, True, f"cluster reset{' to ' + scenario if scenario else ''}")


@require_POST
@rate_limited("actions", "MAX_ACTIONS_PER_MINUTE")
@with_actor
def console(request: HttpRequest, cluster: Cluster, actor: access.Actor) -> HttpResponse:
    """One kubectl command from the in-page console (the same subset as `manage.py kubectl`)."""
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
    if not actor.can_console:
        raise access.Forbidden("forbidden: the projector view has no console")
    result = kubectl_run(
        ServiceApi(cluster.pk, actor),
        command,
        stdin=request.POST.get("stdin") or None,
        namespace=actor.namespace or "default",
    )
    return JsonResponse({"code": result.code, "out": result.out, "err": result.err})


@require_GET
@with_actor
def cluster_state(request: HttpRequest, cluster: Cluster, actor: access.Actor) -> HttpResponse:
    """The snapshot the WebSocket sends first, over HTTP (for tools and tests)."""
    return HttpResponse(
        json.dumps(services.cluster_snapshot(cluster.pk, actor=actor)),
        content_type="application/json",
    )


@require_GET
@with_actor
def kubeconfig(request: HttpRequest, cluster: Cluster, actor: access.Actor) -> HttpResponse:
    """ "Use your own kubectl": the kubeconfig of the person looking, and how to use it."""
    token = credentials.token_for(cluster, actor, request.user)
    if token is None:
        raise access.Forbidden("forbidden: this view has no kubeconfig")
    namespace = actor.namespace or "default"
    user = actor.user or access.ADMIN_USER
    server = request.build_absolute_uri("/").rstrip("/")
    text = credentials.kubeconfig(cluster, server, token, user, namespace)
    filename = f"kubelab-{cluster.slug}.kubeconfig"
    if request.GET.get("download"):
        response = HttpResponse(text, content_type="application/yaml")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response
    return render(
        request,
        "clusters/kubeconfig.html",
        {
            "cluster": cluster,
            "actor": actor,
            "filename": filename,
            "read_only": not actor.can_write,
            "namespace": namespace,
        },
    )
