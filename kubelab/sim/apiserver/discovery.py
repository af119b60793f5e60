"""API discovery as kube-apiserver v1.34 publishes it, built from the kind registry.

- ``/version``: ``version.Info`` (``k8s.io/apimachinery/pkg/version/types.go``). The kubectl on
  a teaching machine is often a dispatcher that runs the bundled kubectl matching the server's
  minor version, so this answer decides which kubectl runs.
- Legacy discovery: ``/api`` (``APIVersions``), ``/apis`` (``APIGroupList``), ``/api/v1`` and
  ``/apis/<group>/<version>`` (``APIResourceList``, subresources as ``pods/eviction``).
- Aggregated discovery (``apidiscovery.k8s.io/v2``, ``APIGroupDiscoveryList``): what kubectl
  asks for first. Its Content-Type must be exactly ``AGGREGATED_TYPE`` or kubectl misreads it.

Every group, version, resource, verb, short name and category comes from ``kubelab.sim.kinds``;
the subresources' response kinds are upstream's (``SUBRESOURCES``).
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

from kubelab.sim import KUBERNETES_VERSION, kinds

AGGREGATED_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

# Subresource → (group, version, kind, verbs) of what it answers; None: the parent's own kind.
SUBRESOURCES: dict[str, tuple[str, str, str, tuple[str, ...]] | None] = {
    "status": None,
    "scale": ("autoscaling", "v1", "Scale", ("get", "patch", "update")),
    "eviction": ("policy", "v1", "Eviction", ("create",)),
    "binding": ("", "v1", "Binding", ("create",)),
    "log": ("", "v1", "Pod", ("get",)),
    "exec": ("", "v1", "PodExecOptions", ("create", "get")),
    "attach": ("", "v1", "PodAttachOptions", ("create", "get")),
    "portforward": ("", "v1", "PodPortForwardOptions", ("create", "get")),
    "proxy": ("", "v1", "NodeProxyOptions", ("create", "delete", "get", "patch", "update")),
    "finalize": None,
}
_STATUS_VERBS = ("get", "patch", "update")


def version_info() -> dict[str, Any]:
    """``GET /version`` (``version.Info``)."""
    major, minor = KUBERNETES_VERSION.lstrip("v").split(".")[:2]
    return {
        "major": major,
        "minor": minor,
        "emulationMajor": major,
        "emulationMinor": minor,
        "minCompatibilityMajor": major,
        "minCompatibilityMinor": str(int(minor) - 1),
        "gitVersion": KUBERNETES_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.24.9",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def group_versions() -> dict[str, list[str]]:
    """Group → its served versions, in registry order ("" is the core group)."""
    out: dict[str, list[str]] = {}
    for k in kinds.all_kinds():
        versions = out.setdefault(k.group, [])
        if k.version not in versions:
            versions.append(k.version)
    return out


def served(group: str, version: str) -> bool:
    return version in group_versions().get(group, [])


def kinds_of(group: str, version: str) -> list[kinds.Kind]:
    return [k for k in kinds.all_kinds() if k.group == group and k.version == version]


def api_versions(server_address: str) -> dict[str, Any]:
    """``GET /api``."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _group(name: str, versions: list[str]) -> dict[str, Any]:
    gvs = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": gvs, "preferredVersion": gvs[0]}


def api_group_list() -> dict[str, Any]:
    """``GET /apis``."""
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group(g, vs) for g, vs in group_versions().items() if g],
    }


def api_group(name: str) -> dict[str, Any] | None:
    """``GET /apis/<group>``."""
    versions = group_versions().get(name)
    if not name or not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}


def _storage_hash(k: kinds.Kind) -> str:
    # Upstream: base64 of the first 8 bytes of sha256("<group>/<version>/<kind>") of the storage
    # version (pkg/endpoints/discovery/storageversionhash.go).
    import base64

    digest = hashlib.sha256(f"{k.group}/{k.version}/{k.kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


def _sub_kind(k: kinds.Kind, sub: str) -> tuple[str, str, str, tuple[str, ...]]:
    target = SUBRESOURCES.get(sub)
    if target is None:
        return (k.group, k.version, k.kind, ("update",) if sub == "finalize" else _STATUS_VERBS)
    return target


@functools.cache
def resource_list(group: str, version: str) -> dict[str, Any] | None:
    """``GET /api/v1`` or ``GET /apis/<group>/<version>`` (``APIResourceList``)."""
    if not served(group, version):
        return None
    resources: list[dict[str, Any]] = []
    for k in kinds_of(group, version):
        entry: dict[str, Any] = {
            "name": k.plural,
            "singularName": k.singular,
            "namespaced": k.namespaced,
            "kind": k.kind,
            "verbs": sorted(k.verbs),
        }
        if k.short_names:
            entry["shortNames"] = list(k.short_names)
        if k.categories:
            entry["categories"] = list(k.categories)
        entry["storageVersionHash"] = _storage_hash(k)
        resources.append(entry)
        for sub in k.subresources:
            g, v, kind, verbs = _sub_kind(k, sub)
            sub_entry: dict[str, Any] = {
                "name": f"{k.plural}/{sub}",
                "singularName": "",
                "namespaced": k.namespaced,
            }
            if (g, v) != (k.group, k.version):
                sub_entry["group"], sub_entry["version"] = g, v
            sub_entry.update({"kind": kind, "verbs": sorted(verbs)})
            resources.append(sub_entry)
    gv = f"{group}/{version}" if group else version
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv,
        "resources": resources,
    }


def _aggregated_resource(k: kinds.Kind) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": k.plural,
        "responseKind": {"group": k.group, "version": k.version, "kind": k.kind},
        "scope": "Namespaced" if k.namespaced else "Cluster",
        "singularResource": k.singular,
        "verbs": sorted(k.verbs),
    }
    if k.short_names:
        entry["shortNames"] = list(k.short_names)
    if k.categories:
        entry["categories"] = list(k.categories)
    subs = []
    for sub in k.subresources:
        g, v, kind, verbs = _sub_kind(k, sub)
        subs.append(
            {
                "subresource": sub,
                "responseKind": {"group": g, "version": v, "kind": kind},
                "verbs": sorted(verbs),
            }
        )
    if subs:
        entry["subresources"] = subs
    return entry


@functools.cache
def aggregated(core: bool) -> dict[str, Any]:
    """``GET /api`` or ``GET /apis`` with the aggregated discovery Accept type."""
    items = []
    for group, versions in group_versions().items():
        if bool(group) == core:
            continue
        items.append(
            {
                "metadata": {"name": group, "creationTimestamp": None},
                "versions": [
                    {
                        "version": v,
                        "resources": [_aggregated_resource(k) for k in kinds_of(group, v)],
                        "freshness": "Current",
                    }
                    for v in versions
                ],
            }
        )
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    }
