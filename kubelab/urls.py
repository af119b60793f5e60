from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, re_path

from clusters import apiserver

urlpatterns = [
    # The Kubernetes API of a cluster: the token in the path (plain http), or a bearer token.
    re_path(r"^k8s/(?P<token>kl-[A-Za-z0-9-]+)(?P<path>/.*)?$", apiserver.api),
    re_path(r"^k8s(?P<path>/.*)?$", apiserver.api),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("clusters.urls")),
    path("", include("workloads.urls")),  # after clusters.urls: the order the paths had there
]
