"""The Kubernetes API over HTTP, per cluster: what real kubectl and the official clients talk to.

``/k8s/<token>/…`` (the token in the path, for plain http) or ``/k8s/…`` with
``Authorization: Bearer <token>`` (https behind a proxy). The token (``clusters.credentials``)
names the cluster and the person; the request is then answered by
``kubelab.sim.apiserver.rest`` inside ``services.api_call`` (one transaction, the person's
authorizer, one delta after commit), or, for discovery and OpenAPI, without touching the cluster.
Watches (``?watch=true``) are streamed by ``clusters.watch``.

What stays out of the access logs: the embedded server keeps none; behind a proxy, log
``$uri`` with the token cut (README, Deployment).
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from kubelab.security import redact
from kubelab.sim.apiserver import rest
from kubelab.sim.apiserver import status as st

from . import access, credentials, services

log = logging.getLogger(__name__)


def _bearer(request: HttpRequest) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def respond(r: rest.Response) -> HttpResponse:
    if isinstance(r.body, str | bytes):
        out = HttpResponse(r.body, status=r.code, content_type=r.content_type)
    else:
        out = HttpResponse(
            json.dumps(r.body, separators=(",", ":")), status=r.code, content_type=r.content_type
        )
    for k, v in r.headers.items():
        out[k] = v
    if r.warnings:
        out["Warning"] = ", ".join(
            '299 - "{}"'.format(w.replace("\\", "\\\\").replace('"', '\\"')) for w in r.warnings
        )
    out["Cache-Control"] = "no-cache, private"
    out["X-Content-Type-Options"] = "nosniff"
    return out


def status_response(s: st.Status) -> HttpResponse:
    return respond(rest.Response(s.code, s.body(), headers=s.headers))


def request_of(request: HttpRequest, path: str, prefix: str) -> rest.Request | st.Status:
    length = request.META.get("CONTENT_LENGTH") or "0"
    try:
        size = int(length)
    except ValueError:
        size = 0
    if size > rest.MAX_BODY:
        return st.too_large(rest.MAX_BODY)
    body = request.read(rest.MAX_BODY + 1)
    if len(body) > rest.MAX_BODY:
        return st.too_large(rest.MAX_BODY)
    return rest.Request(
        method=request.method or "GET",
        path=path or "/",
        query=parse_qs(request.META.get("QUERY_STRING", ""), keep_blank_values=True),
        content_type=request.META.get("CONTENT_TYPE", ""),
        accept=request.META.get("HTTP_ACCEPT", ""),
        body=body,
        server_address=request.get_host(),
        prefix=prefix,
    )


def stateless(path: str) -> bool:
    """Discovery, OpenAPI and /version: answered without the cluster's state."""
    parts = rest.split(path)
    if not parts or parts[0] in ("version", "openapi"):
        return True
    return (parts[0] == "api" and len(parts) <= 2) or (parts[0] == "apis" and len(parts) <= 3)


def _is_list(path: str) -> bool:
    try:
        r = rest.route(rest.split(path))
    except st.Status:
        return False
    return not r.name


def authenticate(request: HttpRequest, token: str | None) -> tuple[Any, access.Actor, str] | None:
    value = token or _bearer(request)
    found = credentials.resolve(value)
    if found is None:
        return None
    cluster, actor = found
    prefix = f"/k8s/{token}" if token else "/k8s"
    return cluster, actor, prefix


@csrf_exempt
def api(request: HttpRequest, token: str | None = None, path: str | None = None) -> HttpResponse:
    """Every API request of every cluster; an unexpected error is a 500 ``Status``, never a page."""
    try:
        return _api(request, token, path)
    except Exception:
        log.exception("API request %s %s failed", request.method, redact(request.path))
        return status_response(
            st.Status(
                500,
                "InternalError",
                "Internal error occurred: the KubeLab API server failed on this request; "
                "its log has the details",
                {"causes": [{"message": "see the server log"}]},
            )
        )


def _api(request: HttpRequest, token: str | None, path: str | None) -> HttpResponse:
    who = authenticate(request, token)
    if who is None:
        return status_response(st.unauthorized())
    cluster, actor, prefix = who
    req = request_of(request, path or "/", prefix)
    if isinstance(req, st.Status):
        return status_response(req)
    if rest.is_watch(req):
        from . import watch

        return watch.stream(cluster, actor, req)
    if stateless(req.path):
        return respond(rest.handle(None, req))
    if req.method == "GET" and _is_list(req.path):
        from . import watch

        watch.interest(cluster.pk)  # before the list: the watch that follows misses nothing
    try:
        return respond(services.api_call(cluster.pk, lambda s: rest.handle(s, req), actor=actor))
    except access.Forbidden as e:
        return status_response(st.Status(403, "Forbidden", str(e)))
