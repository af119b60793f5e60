"""Who may do what to a cluster: one place that turns a request's user and session into an Actor.

Roles, from most to least powerful:

* ``instructor`` — the classroom's owner (or a superuser); on a cluster without a classroom (the
  demo) any staff user, and any visitor while ``KUBELAB_OPEN_SANDBOX`` is on (development).
* ``student`` — joined this classroom with its code; reads the cluster, writes only in their own
  namespace (enforced by the simulated API server's authorizer, so every door agrees: the editor,
  the console, the pod buttons, the WebSocket).
* ``projector`` — opened the classroom's projector link: sees everything, changes nothing.
* ``visitor`` — anyone on a cluster without a classroom when the sandbox is closed: read only.
* ``none`` — everyone else: not even the page.

The service layer takes an Actor on every call and checks it; views only ask for one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from kubelab.sim import kinds
from kubelab.sim.apiserver.authz import Authorizer, forbidden

from .models import Classroom, Cluster, Membership

log = logging.getLogger(__name__)

SESSION_STUDENT = "kubelab.students"  # {cluster id: membership id}
SESSION_PROJECTOR = "kubelab.projectors"  # {cluster id: projector token}
ADMIN_USER = "kubernetes-admin"


class Forbidden(Exception):
    """The actor may not do this (HTTP 403, WebSocket close 4403)."""

    status = 403


@dataclass(frozen=True)
class Actor:
    role: str  # instructor | student | projector | visitor | none
    user: str  # the name RBAC messages use
    namespace: str = ""
    membership_id: int | None = None
    anonymise: bool = False  # a student who may read only their own namespace
    closed: bool = False  # the classroom is closed: students read only

    @property
    def can_view(self) -> bool:
        return self.role != "none"

    @property
    def can_operate(self) -> bool:
        """Nodes, the clock, reset, the roster: the instructor's controls."""
        return self.role == "instructor"

    @property
    def can_write(self) -> bool:
        """Apply/delete/scale somewhere (the authorizer says where)."""
        return self.role == "instructor" or (self.role == "student" and not self.closed)

    @property
    def can_console(self) -> bool:
        return self.role in ("instructor", "student", "visitor")

    def require_view(self) -> None:
        if not self.can_view:
            raise Forbidden("you are not a member of this classroom")

    def require_operate(self, what: str) -> None:
        if not self.can_operate:
            log.warning("refused %s to %s (%s)", what, self.user, self.role)
            raise Forbidden(f"forbidden: only the instructor can {what}")


OPERATOR = Actor("instructor", ADMIN_USER)  # manage.py commands: the operator's own shell


def resolve(cluster: Cluster, user: Any, session: Any) -> Actor:
    """The Actor for a request or WebSocket scope (``user`` may be anonymous, ``session`` None)."""
    classroom = Classroom.objects.filter(cluster=cluster).first()
    authenticated = bool(getattr(user, "is_authenticated", False))
    if classroom is None:
        if authenticated and (user.is_staff or user.is_superuser):
            return Actor("instructor", user.get_username())
        if getattr(settings, "KUBELAB_OPEN_SANDBOX", False):
            return OPERATOR
        return Actor("visitor", "system:anonymous")
    if authenticated and (user.pk == classroom.owner_id or user.is_superuser):
        return Actor("instructor", user.get_username())
    if session is not None:
        mid = (session.get(SESSION_STUDENT) or {}).get(str(cluster.pk))
        if mid is not None:
            m = Membership.objects.filter(pk=mid, cluster=cluster).first()
            if m is not None:
                return student_actor(m, classroom)
        token = (session.get(SESSION_PROJECTOR) or {}).get(str(cluster.pk))
        if token and token == classroom.projector_token:
            return Actor("projector", "system:projector")
    return Actor("none", "system:anonymous")


def student_actor(m: Membership, classroom: Classroom) -> Actor:
    """The Actor of a classroom's student (the page's session and the API's token agree)."""
    return Actor(
        "student",
        m.namespace,
        namespace=m.namespace,
        membership_id=m.pk,
        anonymise=classroom.anonymise,
        closed=classroom.closed,
    )


def remember(session: Any, key: str, cluster_id: int, value: Any) -> None:
    grants = dict(session.get(key) or {})
    grants[str(cluster_id)] = value
    session[key] = grants


def authorizer(actor: Actor) -> Authorizer | None:
    """The simulated API server's authorizer for this actor (None: cluster-admin)."""
    if actor.role == "instructor":
        return None

    def check(verb: str, kind: str, namespace: str, name: str, sub: str) -> None:
        read = verb in ("get", "list", "watch")
        if actor.role == "student":
            namespaced = kinds.get(kind).namespaced
            if kind == "Namespace":
                own = name == actor.namespace
            else:
                own = namespaced and bool(namespace) and namespace == actor.namespace
            # The cluster's shared objects (nodes, the IngressClass) are readable by every student.
            shared = not namespaced and kind != "Namespace"
            if read and (own or shared or not actor.anonymise):
                return
            if not read and own and namespaced and not actor.closed:
                return
        elif read and actor.role in ("visitor", "projector"):
            return
        log.warning(
            "refused %s %s %s/%s to %s (%s)", verb, kind, namespace, name, actor.user, actor.role
        )
        raise forbidden(actor.user, verb, kind, namespace, name, sub)

    return check
