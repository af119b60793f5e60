"""The YAML editor's pages, included from ``kubelab.urls`` (workloads depends on clusters, never back)."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("c/<slug:slug>/apply/", views.apply_page, name="apply"),
    path("c/<slug:slug>/apply/preview/", views.apply_preview, name="apply-preview"),
    path("c/<slug:slug>/apply/delete/", views.delete_manifests, name="apply-delete"),
]
