from __future__ import annotations

from django.urls import path

from . import classroom_views as cv
from . import views

urlpatterns = [
    path("", views.index, name="index"),
    path("join/", cv.join, name="join"),
    path("join/<str:code>/", cv.join, name="join-code"),
    path("p/<str:token>/", cv.projector, name="projector"),
    path("classrooms/", cv.classrooms, name="classrooms"),
    path("accounts/signup/", cv.signup, name="signup"),
    path("c/<slug:slug>/dashboard/", cv.dashboard, name="dashboard"),
    path("c/<slug:slug>/classroom/", cv.classroom_settings, name="classroom-settings"),
    path("c/<slug:slug>/classroom/delete/", cv.classroom_delete, name="classroom-delete"),
    path("c/<slug:slug>/announce/", cv.announce, name="announce"),
    path("c/<slug:slug>/steps/<int:index>/run/", cv.step_run, name="step-run"),
    path("c/<slug:slug>/students/<int:member>/remove/", cv.student_remove, name="student-remove"),
    path("c/<slug:slug>/", views.cluster_view, name="cluster"),
    path("c/<slug:slug>/state.json", views.cluster_state, name="cluster-state"),
    path("c/<slug:slug>/describe/<str:kind>/<str:name>/", views.describe, name="describe"),
    path(
        "c/<slug:slug>/describe/<str:kind>/<str:namespace>/<str:name>/",
        views.describe,
        name="describe-ns",
    ),
    path("c/<slug:slug>/nodes/add/", views.node_add, name="node-add"),
    path("c/<slug:slug>/nodes/<str:name>/<str:action>/", views.node_action, name="node-action"),
    path(
        "c/<slug:slug>/pods/<str:namespace>/<str:name>/delete/", views.pod_delete, name="pod-delete"
    ),
    path("c/<slug:slug>/clock/<str:action>/", views.clock, name="clock"),
    path(
        "c/<slug:slug>/services/<str:namespace>/<str:name>/load/",
        views.service_load,
        name="service-load",
    ),
    path(
        "c/<slug:slug>/ingresses/<str:namespace>/<str:name>/load/",
        views.service_load,
        name="ingress-load",
    ),
    path("c/<slug:slug>/reset/", views.cluster_reset, name="reset"),
    path("c/<slug:slug>/console/", views.console, name="console"),
    path("c/<slug:slug>/kubeconfig/", views.kubeconfig, name="kubeconfig"),
    # The YAML editor's pages (c/<slug>/apply/…) are in workloads/urls.py: workloads imports
    # clusters, never the other way round.
]
