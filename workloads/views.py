"""The YAML editor: apply, preview and delete manifests through the service layer."""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml
from django import forms
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_POST
from django_ace import AceWidget

from clusters import services
from clusters.access import Actor
from clusters.models import Cluster
from clusters.views import SCENARIOS_DIR, with_actor
from kubelab.security import rate_limited
from kubelab.sim import actions, kinds
from kubelab.sim.apiserver import ApiError
from kubelab.sim.apiserver.manifests import MAX_MANIFEST_BYTES, load_documents
from kubelab.sim.apiserver.preview import preview


class ManifestForm(forms.Form):
    manifest = forms.CharField(
        required=False,
        strip=False,
        widget=AceWidget(
            mode="yaml",
            theme="github",
            width="100%",
            height="520px",
            tabsize=2,
            showprintmargin=False,
            useworker=False,
            toolbar=False,
            useStrictCSP=True,
        ),
    )
    namespace = forms.CharField(required=False, initial="default", max_length=63)


GALLERY_ORDER = [
    "nginx",
    "deploy-and-scale",
    "rolling-update",
    "guestbook",
    "todo-app",
    "ingress-routing",
    "stuck-rollout",
    "bad-image",
    "unschedulable",
    "node-failure",
    "drain",
    "demo",
]


@cache
def examples() -> list[dict[str, str]]:
    """The gallery: the manifests of the bundled lessons (their first apply step)."""
    out = []
    paths = sorted(
        SCENARIOS_DIR.glob("*.yaml"),
        key=lambda p: (GALLERY_ORDER.index(p.stem) if p.stem in GALLERY_ORDER else 99, p.stem),
    )
    for path in paths:
        data = yaml.safe_load(path.read_text())
        first = next((s["apply"] for s in data.get("steps") or [] if "apply" in s), None)
        if first:
            out.append(
                {
                    "id": path.stem,
                    "title": path.stem.replace("-", " "),
                    "description": " ".join(str(data.get("description", "")).split()),
                    "yaml": first,
                }
            )
    return out


def _manifest(request: HttpRequest) -> tuple[str | None, HttpResponse | None]:
    """The posted manifest, or a 413 answer when it is over the limit."""
    text = request.POST.get("manifest", "")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_MANIFEST_BYTES:
        message = (
            f"error: STDIN is too large: {size / 1048576:.1f} MiB (KubeLab accepts at most 1 MiB per apply, "
            f"max-manifest-bytes={MAX_MANIFEST_BYTES})"
        )
        return None, _error_json(ApiError(message, code=413), request)
    return text, None


def _error_json(e: ApiError, request: HttpRequest | None = None) -> JsonResponse:
    """The API server's answer as JSON with its HTTP status. The page's own scripts ask for 200
    (the status goes in the body) so that a refused manifest is not logged as a failed load."""
    status = e.code if 400 <= e.code < 600 else 400
    body = {"ok": False, "error": e.message, "line": e.line, "field": e.field, "status": status}
    if request is not None and request.headers.get("X-KubeLab-UI"):
        status = 200
    return JsonResponse(body, status=status)


@require_http_methods(["GET", "POST"])
@rate_limited("applies", "MAX_APPLIES_PER_MINUTE")
@with_actor
def apply_page(request: HttpRequest, cluster: Cluster, actor: Actor) -> HttpResponse:
    wants_json = "application/json" in request.headers.get("Accept", "")
    result: dict[str, Any] | None = None
    status = 200
    if request.method == "POST":
        form = ManifestForm(request.POST)
        text, too_big = _manifest(request)
        if too_big is not None:
            if wants_json:
                return too_big
            result = {
                "ok": False,
                "error": "error: the manifest is larger than 1 MiB (max-manifest-bytes)",
            }
            status = 413
        else:
            namespace = request.POST.get("namespace") or actor.namespace or "default"
            try:
                lines = services.manifests_apply(
                    cluster_id=cluster.pk, text=text or "", namespace=namespace, actor=actor
                )
                result = {"ok": True, "lines": lines}
            except ApiError as e:
                if wants_json:
                    return _error_json(e, request)
                result = {"ok": False, "error": e.message, "line": e.line, "field": e.field}
                status = e.code if 400 <= e.code < 600 else 400
            if wants_json:
                return JsonResponse(result)
    else:
        first = examples()[0]["yaml"] if examples() else ""
        form = ManifestForm(
            initial={
                "manifest": request.GET.get("example")
                and next(
                    (x["yaml"] for x in examples() if x["id"] == request.GET["example"]), first
                )
                or first
            }
        )
    if result is not None:
        if result["ok"]:
            result["text"] = "\n".join(result["lines"])
        else:
            where = (
                f"\n  at line {result['line']}"
                + (f": {result['field']}" if result.get("field") else "")
                if result.get("line")
                else ""
            )
            result["text"] = result["error"] + where
    return render(
        request,
        "workloads/apply.html",
        {
            "cluster": cluster,
            "form": form,
            "result": result,
            "examples": examples(),
            "actor": actor,
            "namespace": request.POST.get("namespace") or actor.namespace or "default",
        },
        status=status,
    )


@require_POST
@rate_limited("previews", "MAX_PREVIEWS_PER_MINUTE")
@with_actor
def apply_preview(request: HttpRequest, cluster: Cluster, actor: Actor) -> HttpResponse:
    text, too_big = _manifest(request)
    if too_big is not None:
        return too_big
    namespace = request.POST.get("namespace") or actor.namespace or "default"
    try:
        changes = services.cluster_query(
            cluster.pk, lambda st: preview(st, text or "", namespace=namespace), actor=actor
        )
    except ApiError as e:
        return _error_json(e, request)
    return JsonResponse({"ok": True, "changes": changes})


@require_POST
@rate_limited("applies", "MAX_APPLIES_PER_MINUTE")
@with_actor
def delete_manifests(request: HttpRequest, cluster: Cluster, actor: Actor) -> HttpResponse:
    """``kubectl delete -f``: delete every object the manifest names (missing ones are reported)."""
    text, too_big = _manifest(request)
    if too_big is not None:
        return too_big
    namespace = request.POST.get("namespace") or actor.namespace or "default"
    try:
        docs = load_documents(text or "")
    except ApiError as e:
        return _error_json(e, request)
    targets = []
    for d in docs:
        kind = d.data.get("kind")
        meta = d.data.get("metadata") if isinstance(d.data.get("metadata"), dict) else {}
        known = kinds.find(kind) if isinstance(kind, str) else None
        if known is None or not known.applicable or not meta.get("name"):
            return JsonResponse(
                {
                    "ok": False,
                    "error": f"error: cannot delete {kind or 'an object without kind'}: KubeLab deletes {', '.join(k.kind for k in kinds.applicable())} by name",
                    "line": d.line,
                    "field": "kind",
                },
                status=400,
            )
        targets.append((kind, str(meta.get("namespace") or namespace), str(meta["name"])))

    def run(state: Any) -> list[str]:
        lines = []
        for kind, ns, name in targets:
            try:
                lines += actions.delete(state, kind, ns, name)
            except ApiError as e:
                lines.append(e.message)
        return lines

    lines = services.cluster_mutate(cluster.pk, run, actor=actor)
    ok = not any(line.startswith("Error") for line in lines)
    return JsonResponse({"ok": ok, "lines": lines})
