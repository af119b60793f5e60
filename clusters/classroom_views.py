"""Classrooms: instructors sign in and create them, students join with a code, the projector watches.

Views translate HTTP to the service layer (the package clusters/services/), which checks every Actor again.
"""

from __future__ import annotations

from typing import Any

import segno
from django import forms
from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kubelab.security import rate_limited
from kubelab.sim.apiserver import ApiError
from kubelab.sim.scenario import load_scenario

from . import access, services
from .models import Classroom, Cluster
from .views import SCENARIOS_DIR, _answer, scenario_names, with_actor


class ClassroomForm(forms.Form):
    title = forms.CharField(max_length=200)
    scenario = forms.ChoiceField(choices=())
    workers = forms.IntegerField(
        min_value=1, max_value=50, required=False, help_text="blank: the scenario's nodes"
    )
    worker_cpu = forms.CharField(max_length=20, required=False, initial="4")
    worker_memory = forms.CharField(max_length=20, required=False, initial="8Gi")
    quota_pods = forms.IntegerField(
        min_value=0, max_value=1000, initial=10, label="pods per student"
    )
    quota_cpu = forms.CharField(max_length=20, initial="2", label="CPU requests per student")
    quota_memory = forms.CharField(
        max_length=20, initial="4Gi", label="memory requests per student"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scenario"].choices = [(s, s) for s in scenario_names()]
        self.fields["scenario"].initial = "demo" if "demo" in scenario_names() else None


class JoinForm(forms.Form):
    code = forms.CharField(max_length=12, label="Join code")
    name = forms.CharField(max_length=services.MAX_DISPLAY_NAME, label="Your name")


def signup_enabled() -> bool:
    return bool(getattr(settings, "KUBELAB_SIGNUP", False))


@require_http_methods(["GET", "POST"])
@rate_limited("signup", "MAX_ACTIONS_PER_MINUTE")
def signup(request: HttpRequest) -> HttpResponse:
    """Instructor sign-up (``KUBELAB_SIGNUP=0`` switches it off; ``createsuperuser`` always works)."""
    if not signup_enabled():
        return render(request, "classrooms/signup_closed.html", status=403)
    form = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user)
        return redirect("classrooms")
    return render(request, "registration/signup.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def classrooms(request: HttpRequest) -> HttpResponse:
    """The instructor's classrooms, and the form for a new one."""
    form = ClassroomForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        text = (SCENARIOS_DIR / f"{d['scenario']}.yaml").read_text()
        try:
            classroom = services.classroom_create(
                owner=request.user,
                title=d["title"],
                scenario_text=text,
                workers=d["workers"],
                worker_cpu=d["worker_cpu"] or None,
                worker_memory=d["worker_memory"] or None,
                quota_pods=d["quota_pods"],
                quota_cpu=d["quota_cpu"],
                quota_memory=d["quota_memory"],
            )
        except services.ServiceError as e:
            error = str(e)
        else:
            return redirect("dashboard", slug=classroom.cluster.slug)
    mine = Classroom.objects.select_related("cluster")
    if not request.user.is_superuser:
        mine = mine.filter(owner=request.user)
    return render(
        request,
        "classrooms/list.html",
        {"form": form, "classrooms": mine, "error": error},
        status=400 if error or form.errors else 200,
    )


def _join_url(request: HttpRequest, classroom: Classroom) -> str:
    return request.build_absolute_uri(reverse("join-code", args=[classroom.join_code]))


def _qr_svg(url: str) -> str:
    return segno.make(url, error="m").svg_inline(scale=4, border=2, dark="#111", light="#fff")


@require_GET
@with_actor
def dashboard(request: HttpRequest, cluster: Cluster, actor: access.Actor) -> HttpResponse:
    """The instructor's dashboard: join code and QR, roster, lesson steps, classroom settings."""
    classroom = Classroom.objects.filter(cluster=cluster).first()
    if classroom is None:
        raise Http404("this cluster is not a classroom")
    actor.require_operate("open the dashboard")
    roster = services.roster(cluster.pk, actor=actor)
    try:
        steps = load_scenario(cluster.scenario, "scenario").steps if cluster.scenario else []
    except ValueError:
        steps = []
    join_url = _join_url(request, classroom)
    projector_url = request.build_absolute_uri(
        reverse("projector", args=[classroom.projector_token])
    )
    context = {
        "cluster": cluster,
        "classroom": classroom,
        "roster": roster,
        "steps": [
            {"index": s.index, "at": s.at, "kind": s.kind, "summary": _step_summary(s)}
            for s in steps
        ],
        "join_url": join_url,
        "qr": mark_safe(_qr_svg(join_url)),  # segno's own SVG markup, no user input in it
        "projector_url": projector_url,
    }
    if request.headers.get("HX-Request") and request.GET.get("part") == "roster":
        return render(request, "classrooms/_roster.html", context)
    return render(request, "classrooms/dashboard.html", context)


def _step_summary(step: Any) -> str:
    a = step.args
    if step.kind == "apply":
        return "apply a manifest"
    if step.kind == "node":
        return f"{a.get('action')} node {a.get('name')}"
    if step.kind == "scale":
        return f"scale {a.get('deployment')} to {a.get('replicas')}"
    if step.kind == "set-image":
        return f"set image {a.get('deployment')} {a.get('container')}={a.get('image')}"
    if step.kind == "delete":
        return f"delete {a.get('kind')} {a.get('name')}"
    return f"rollout undo {a.get('deployment')}"


def _classroom_of(cluster: Cluster) -> Classroom:
    classroom = Classroom.objects.filter(cluster=cluster).first()
    if classroom is None:
        raise Http404("this cluster is not a classroom")
    return classroom


@require_POST
@rate_limited("actions", "MAX_ACTIONS_PER_MINUTE")
@with_actor
def classroom_settings(request: HttpRequest, cluster: Cluster, actor: access.Actor) -> HttpResponse:
    """Close/reopen, anonymise or not, and the students' quota."""
    classroom = _classroom_of(cluster)
    p = request.POST
    kwargs: dict[str, Any] = {}
    if "closed" in p:
        kwargs["closed"] = p["closed"] == "1"
    if "anonymise" in p:
        kwargs["anonymise"] = p["anonymise"] == "1"
    try:
        if p.get("quota_pods"):
            kwargs["quota_pods"] = int(p["quota_pods"])
        if p.get("quota_cpu"):
            kwargs["quota_cpu"] = p["quota_cpu"].strip()
        if p.get("quota_memory"):
            kwargs["quota_memory"] = p["quota_memory"].strip()
    except ValueError:
        return _answer(request, False, "error: the pod quota must be a whole number", 400)
    try:
        c = services.classroom_update(classroom_id=classroom.pk, actor=actor, **kwargs)
    except services.ServiceError as e:
        return _answer(request, False, str(e), 400)
    return _answer(
        request,
        True,
        f"classroom {'closed' if c.closed else 'open'}; "
        f"{'students anonymised' if c.anonymise else 'students named'}; quota "
        f"pods={c.quota_pods}, requests.cpu={c.quota_cpu}, requests.memory={c.quota_memory}",
    )


@require_POST
@with_actor
def classroom_delete(request: HttpRequest, cluster: Cluster, actor: access.Actor) -> HttpResponse:
    classroom = _classroom_of(cluster)
    services.classroom_delete(classroom_id=classroom.pk, actor=actor)
    if "application/json" in request.headers.get("Accept", ""):
        return _answer(request, True, f"classroom {classroom.title} deleted")
    return redirect("classrooms")


@require_POST
@rate_limited("actions", "MAX_ACTIONS_PER_MINUTE")
@with_actor
def student_remove(
    request: HttpRequest, cluster: Cluster, actor: access.Actor, member: int
) -> HttpResponse:
    _classroom_of(cluster)
    try:
        out = services.student_remove(cluster_id=cluster.pk, membership_id=member, actor=actor)
    except services.ServiceError as e:
        return _answer(request, False, str(e), 404)
    return _answer(request, True, out)


@require_POST
@rate_limited("actions", "MAX_ACTIONS_PER_MINUTE")
@with_actor
def announce(request: HttpRequest, cluster: Cluster, actor: access.Actor) -> HttpResponse:
    _classroom_of(cluster)
    text = services.classroom_announce(
        cluster_id=cluster.pk, text=request.POST.get("text", ""), actor=actor
    )
    return _answer(request, True, f"announced: {text}" if text else "announcement cleared")


@require_POST
@rate_limited("actions", "MAX_ACTIONS_PER_MINUTE")
@with_actor
def step_run(
    request: HttpRequest, cluster: Cluster, actor: access.Actor, index: int
) -> HttpResponse:
    try:
        lines = services.scenario_step_run(cluster_id=cluster.pk, index=index, actor=actor)
    except services.ServiceError as e:
        return _answer(request, False, str(e), 400)
    except ApiError as e:
        return _answer(request, False, e.message, e.code if 400 <= e.code < 600 else 400)
    return _answer(request, True, "\n".join(lines))


@require_http_methods(["GET", "POST"])
@rate_limited("joins", "MAX_JOINS_PER_MINUTE")
def join(request: HttpRequest, code: str = "") -> HttpResponse:
    """Students join with the code on the projector and the name the class should see."""
    form = JoinForm(request.POST or None, initial={"code": code})
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            member = services.student_join(
                code=form.cleaned_data["code"], display_name=form.cleaned_data["name"]
            )
        except services.ServiceError as e:
            error = str(e)
        else:
            request.session.cycle_key()
            access.remember(request.session, access.SESSION_STUDENT, member.cluster_id, member.pk)
            return redirect("cluster", slug=member.cluster.slug)
    return render(
        request,
        "classrooms/join.html",
        {"form": form, "error": error, "code": code},
        status=400 if error or form.errors else 200,
    )


@require_GET
def projector(request: HttpRequest, token: str) -> HttpResponse:
    """The projector link: view only, no sign-in (the token is the secret)."""
    classroom = get_object_or_404(
        Classroom.objects.select_related("cluster"), projector_token=token
    )
    access.remember(request.session, access.SESSION_PROJECTOR, classroom.cluster_id, token)
    return redirect(reverse("cluster", args=[classroom.cluster.slug]) + "?projector=1")
