"""API credentials: a per-person secret for a cluster's Kubernetes API, and the kubeconfig with it.

kubectl sends no bearer token over plain ``http://`` (the embedded default), so the secret is in
the server URL's path: ``http://host/k8s/<token>``. Over https (behind a TLS proxy) the same token
is also accepted as ``Authorization: Bearer <token>`` on ``https://host/k8s``.

A token names its cluster and who it stands for, and carries an HMAC of that (``salted_hmac`` with
the SECRET_KEY), so nothing is stored:

- ``kl-<cluster>-a-<mac>``: the cluster's administrator (``kubernetes-admin``, as kubeadm names it);
- ``kl-<cluster>-u<user>-<mac>``: an instructor (still the classroom's owner, a superuser, or on a
  cluster without a classroom a staff user);
- ``kl-<cluster>-s<membership>-<mac>``: a student (the membership's id and namespace are in the
  MAC: removing the student revokes it at once, a new join gets a new one);
- ``kl-<cluster>-p-<mac>``: the projector (read only; the MAC covers the projector token, so
  rotating the projector link revokes it);
- ``kl-<cluster>-v-<mac>``: a visitor of a cluster without a classroom (read only, or the
  administrator while ``KUBELAB_OPEN_SANDBOX`` is on, as on the page).

Every request resolves its token to the same ``Actor`` the web pages use (``clusters.access``), so
the API goes through the same authorizer as every other door.
"""

from __future__ import annotations

import hmac
import re
from typing import Any

import yaml
from django.contrib.auth import get_user_model
from django.utils.crypto import salted_hmac

from .access import OPERATOR, Actor, student_actor
from .models import Classroom, Cluster, Membership

PREFIX = "kl-"
_TOKEN = re.compile(r"^kl-(\d+)-([aupvs])(\d*)-([0-9a-f]{40})$")


def _mac(cluster: Cluster, who: str, extra: str = "") -> str:
    value = f"{cluster.pk}:{cluster.created_at.isoformat()}:{who}:{extra}"
    return salted_hmac("kubelab.api-token", value, algorithm="sha256").hexdigest()[:40]


def _extra(cluster: Cluster, role: str, ident: str) -> str | None:
    """What else the MAC covers for this role (None: the role cannot hold a token now)."""
    if role == "s":
        m = Membership.objects.filter(pk=ident or 0, cluster=cluster).first()
        return None if m is None else m.namespace
    if role == "p":
        classroom = Classroom.objects.filter(cluster=cluster).first()
        return None if classroom is None else classroom.projector_token
    return ""


def token(cluster: Cluster, role: str, ident: int | str = "") -> str:
    """The token for ``role`` (a, u, s, p, v) and its id (the user's or the membership's)."""
    extra = _extra(cluster, role, str(ident))
    if extra is None:
        raise ValueError(f"no {role} {ident} in cluster {cluster.slug}")
    who = f"{role}{ident}"
    return f"{PREFIX}{cluster.pk}-{who}-{_mac(cluster, who, extra)}"


def resolve(value: str) -> tuple[Cluster, Actor] | None:
    """The cluster and Actor a token stands for, or None (HTTP 401)."""
    m = _TOKEN.match(value or "")
    if m is None:
        return None
    cluster_pk, role, ident, mac = m.groups()
    cluster = Cluster.objects.filter(pk=int(cluster_pk)).first()
    if cluster is None:
        return None
    extra = _extra(cluster, role, ident)
    if extra is None or not hmac.compare_digest(mac, _mac(cluster, f"{role}{ident}", extra)):
        return None
    actor = _actor(cluster, role, ident)
    return None if actor is None else (cluster, actor)


def _actor(cluster: Cluster, role: str, ident: str) -> Actor | None:
    from django.conf import settings

    classroom = Classroom.objects.filter(cluster=cluster).first()
    if role == "a":
        return OPERATOR
    if role == "u":
        user = get_user_model().objects.filter(pk=ident or 0, is_active=True).first()
        if user is None:
            return None
        if classroom is None:
            ok = user.is_staff or user.is_superuser
        else:
            ok = user.pk == classroom.owner_id or user.is_superuser
        return Actor("instructor", user.get_username()) if ok else None
    if role == "s":
        m = Membership.objects.filter(pk=ident, cluster=cluster).first()
        if m is None or classroom is None:
            return None
        return student_actor(m, classroom)
    if role == "p":
        return Actor("projector", "system:projector") if classroom is not None else None
    if role == "v":
        if classroom is not None:
            return None
        if getattr(settings, "KUBELAB_OPEN_SANDBOX", False):
            return OPERATOR
        return Actor("visitor", "system:anonymous")
    return None


def token_for(cluster: Cluster, actor: Actor, user: Any = None) -> str | None:
    """The token for the person a page is showing (None: they get no kubeconfig)."""
    if actor.role == "student" and actor.membership_id is not None:
        return token(cluster, "s", actor.membership_id)
    if actor.role == "instructor":
        if user is not None and getattr(user, "is_authenticated", False):
            return token(cluster, "u", user.pk)
        return token(cluster, "v")  # the open sandbox's visitor, who is its administrator
    if actor.role == "projector":
        return token(cluster, "p")
    if actor.role == "visitor":
        return token(cluster, "v")
    return None


def kubeconfig(
    cluster: Cluster, server: str, tok: str, user: str, namespace: str = "default"
) -> str:
    """A kubeconfig for one person: the token in the server URL (plain http) and as a bearer
    token (https)."""
    base = server.rstrip("/")
    context = f"{user}@{cluster.slug}"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster.slug, "cluster": {"server": f"{base}/k8s/{tok}"}}],
        "users": [{"name": user, "user": {"token": tok}}],
        "contexts": [
            {
                "name": context,
                "context": {"cluster": cluster.slug, "user": user, "namespace": namespace},
            }
        ],
        "current-context": context,
        "preferences": {},
    }
    return yaml.safe_dump(config, sort_keys=False)
