"""Authorization, as the API server's RBAC authorizer answers it.

A ``ClusterState`` may carry an ``authorizer``: a function ``(verb, kind, namespace, name,
subresource)`` that raises ``ApiError`` (403) with ``forbidden()``'s words. The web app installs
one per request from the user's classroom role; the headless runner and engine tests leave it
unset (everything allowed, like a cluster-admin kubeconfig).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from kubelab.sim import kinds

from . import ApiError

if TYPE_CHECKING:
    from kubelab.sim.state import ClusterState

Authorizer = Callable[[str, str, str, str, str], None]


def forbidden(
    user: str, verb: str, kind: str, namespace: str, name: str, sub: str = ""
) -> ApiError:
    """``Error from server (Forbidden): deployments.apps "web" is forbidden: User "ana" cannot patch
    resource "deployments" in API group "apps" in the namespace "default"`` (RBAC's message; a create
    names no object, because the request URL has none)."""
    k = kinds.get(kind)
    resource, group = k.plural, k.group
    qualified = f"{resource}.{group}" if group else resource
    target = f'{qualified} "{name}"' if name and verb != "create" else qualified
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    full = f"{resource}/{sub}" if sub else resource
    return ApiError(
        f'Error from server (Forbidden): {target} is forbidden: User "{user}" cannot {verb} '
        f'resource "{full}" in API group "{group}" {scope}',
        code=403,
    )


def authorize(
    state: ClusterState, verb: str, kind: str, namespace: str, name: str, sub: str = ""
) -> None:
    fn = getattr(state, "authorizer", None)
    if fn is not None:
        fn(verb, kind, namespace, name, sub)
