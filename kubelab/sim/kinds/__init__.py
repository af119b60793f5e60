"""The kind registry: one ``Kind`` entry per API kind, the one place a kind is declared.

Each kind has a module here (``pod.py``, ``deployment.py`` …) holding its object class and its
entry: what API discovery publishes (group, version, kind, plural, singular, short names,
categories, scope, verbs, subresources), kubectl's printer columns and describer, the browser's
view of it, the controller queues a change to it feeds, its defaulting and validation hooks, and
the Django model that stores it. Everything else asks the registry instead of switching on kind
names: apply and authorization (``get``, ``resolve``), ``kubectl get``/``describe`` (``rows``,
``describe``), the browser's wire format (``Kind.view``), state indexing and controller queues
(``Kind.enqueue``, ``Kind.index`` …) and the database store (``Kind.model``).

Adding a kind: a module here with its class and ``register(Kind(...))``, its import at the bottom
of this file, and (if it is stored) a model subclass of ``clusters.models.ObjectRow`` with its
migration.

The registry imports nothing that imports ``ClusterState`` at module level: ``state.py`` reads it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubelab.sim import printers
from kubelab.sim.objects import KObject

if TYPE_CHECKING:
    from kubelab.sim.state import ClusterState

# The verbs kube-apiserver serves for an ordinary namespaced resource (discovery's "verbs").
ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class Column:
    """A printer column (``metav1.TableColumnDefinition``): priority 1 shows only with ``-o wide``."""

    name: str
    type: str = "string"
    format: str = ""
    description: str = ""
    priority: int = 0


Row = Callable[[Any, float], list[str]]


@dataclass(eq=False)
class Kind:
    kind: str
    version: str
    plural: str
    group: str = ""
    singular: str = ""
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    namespaced: bool = True
    verbs: tuple[str, ...] = ALL_VERBS
    subresources: tuple[str, ...] = ()
    cls: type[KObject] | None = None
    # Where a ClusterState keeps the objects (an attribute name), and the model that stores them
    # ("app_label.Model"); None for kinds that live elsewhere (events, the built-in IngressClass).
    store: str | None = None
    model: str | None = None
    row_columns: dict[str, Callable[[Any], Any]] = field(default_factory=dict)
    # kubectl get: the column definitions and one function that prints every cell of a row.
    columns: tuple[Column, ...] = ()
    row: Row | None = None
    items: Callable[[ClusterState], Iterable[Any]] | None = None  # default: the store's values
    sort_key: Callable[[Any], Any] = lambda o: (o.namespace, o.name)
    describe: Callable[[ClusterState, Any], str] | None = None
    # The browser's fields beyond the common ones (clusters.wire.view).
    view: Callable[[Any, float], dict[str, Any]] | None = None
    # The controller queues a change to an object feeds (informer event handlers), index upkeep.
    feeds: tuple[str, ...] = ()
    enqueue: Callable[[ClusterState, Any], None] | None = None
    index: Callable[[ClusterState, Any], None] | None = None
    unindex: Callable[[ClusterState, Any], None] | None = None
    on_remove: Callable[[ClusterState, Any], None] | None = None
    # The API server's defaulting (of a whole object dict) and validation (field errors).
    default: Callable[[dict[str, Any]], None] | None = None
    validate: Callable[..., None] | None = None
    # The registry strategy (pkg/registry/<group>/<kind>/strategy.go): checks only on create
    # (of the manifest's labels, annotations, spec), what may not change on update, a spec
    # made ready for an update, what create sets (status, admission), and the allocators
    # (a Service's IPs and node ports) run for every change before anything is written.
    validate_create: Callable[[dict[str, Any]], list[Any]] | None = None
    validate_update: Callable[[Any, dict[str, Any]], list[Any]] | None = None
    prepare_update: Callable[[dict[str, Any]], None] | None = None
    prepare_create: Callable[[ClusterState, Any], None] | None = None
    allocate: Callable[[ClusterState, str, str, dict[str, Any], Any], None] | None = None
    name_rule: str = "subdomain"  # subdomain | label | dns1035: how metadata.name is checked
    # Whether `kubectl apply` may create and change it here; if not, what to say instead.
    applicable: bool = True
    refusal: str = ""
    built_in_by: str = ""  # a built-in object comes with this and is not deleted
    # The API: the fields a fieldSelector may name beyond metadata.name and metadata.namespace
    # (upstream's field label conversions): selector field → (its path in the object's JSON, the
    # value when unset); and the object as JSON when it is not a KObject.
    fields: dict[str, tuple[str, str]] = field(default_factory=dict)
    manifest: Callable[[Any, float, float | None], dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        if not self.singular:
            self.singular = self.kind.lower()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def resource(self) -> str:
        """The plural with its group, as errors name it: ``deployments.apps``, ``pods``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def kubectl_name(self) -> str:
        """What ``kubectl apply``/``delete`` print: ``deployment.apps/web``, ``pod/web``."""
        return f"{self.singular}.{self.group}" if self.group else self.singular

    def objects(self, state: ClusterState) -> Iterable[Any]:
        if self.items is not None:
            return self.items(state)
        return state.store(self.kind).values()

    def key(self, namespace: str, name: str) -> Any:
        return (namespace, name) if self.namespaced else name

    def selectable(self) -> dict[str, tuple[str, str]]:
        """The fields a fieldSelector may name (``metadata.name`` and ``metadata.namespace`` for
        every kind, as ``generic.ObjectMetaFieldsSet``), with their JSON paths and defaults."""
        out = {
            "metadata.name": ("metadata.name", ""),
            "metadata.namespace": ("metadata.namespace", ""),
        }
        out.update(self.fields)
        return out

    def selector_view(self, obj: Any) -> dict[str, Any]:
        """Enough of the object's JSON for label and field selectors, without serialising it."""
        if self.manifest is not None:
            return self.manifest(obj, 0.0, None)
        meta = {"name": obj.name, "namespace": obj.namespace, "labels": obj.labels}
        return {"metadata": meta, "spec": obj.spec, "status": obj.status}

    def metadata(self, obj: Any, now: float, epoch: float | None = None) -> dict[str, Any]:
        """The object's ``metadata`` alone (a Table row's PartialObjectMetadata), cheaply."""
        if self.manifest is not None:
            return self.manifest(obj, now, epoch)["metadata"]
        return obj.manifest(now, epoch)["metadata"]

    def to_json(self, obj: Any, now: float, epoch: float | None = None) -> dict[str, Any]:
        """The object as the API serves it (``kubectl get -o json``)."""
        if self.manifest is not None:
            return self.manifest(obj, now, epoch)
        return printers.to_manifest(obj, now, epoch)


def conditions_view(status: dict[str, Any]) -> list[dict[str, Any]]:
    """A status's conditions as the browser shows them (type, status, reason, message)."""
    return [
        {k: c.get(k) for k in ("type", "status", "reason", "message")}
        for c in status.get("conditions") or []
    ]


_REGISTRY: dict[str, Kind] = {}
_NAMES: dict[str, str] = {}

# Real kinds KubeLab does not simulate (yet): named so that an apply can say so.
NOT_SIMULATED = {
    "ConfigMap": "v1",
    "Secret": "v1",
    "PersistentVolumeClaim": "v1",
    "PersistentVolume": "v1",
    "ServiceAccount": "v1",
    "Endpoints": "v1",
    "LimitRange": "v1",
    "ResourceQuota": "v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "ControllerRevision": "apps/v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
    "NetworkPolicy": "networking.k8s.io/v1",
    "PodDisruptionBudget": "policy/v1",
    "Role": "rbac.authorization.k8s.io/v1",
    "RoleBinding": "rbac.authorization.k8s.io/v1",
    "ClusterRole": "rbac.authorization.k8s.io/v1",
    "ClusterRoleBinding": "rbac.authorization.k8s.io/v1",
    "StorageClass": "storage.k8s.io/v1",
    "EndpointSlice": "discovery.k8s.io/v1",
    "PriorityClass": "scheduling.k8s.io/v1",
    "CustomResourceDefinition": "apiextensions.k8s.io/v1",
}


def register(kind: Kind) -> Kind:
    """Add a kind; its class gets its identity (kind, apiVersion, scope) from the entry."""
    if kind.kind in _REGISTRY:
        raise ValueError(f"kind {kind.kind} registered twice")
    names = {kind.plural, kind.singular, kind.kind.lower(), *kind.short_names}
    if kind.group:
        names |= {f"{kind.plural}.{kind.group}", f"{kind.singular}.{kind.group}"}
    for n in sorted(names):
        if n in _NAMES:
            raise ValueError(f"resource name {n} claimed by {_NAMES[n]} and {kind.kind}")
    _REGISTRY[kind.kind] = kind
    _NAMES.update(dict.fromkeys(names, kind.kind))
    if kind.cls is not None:
        kind.cls.kind = kind.kind
        kind.cls.api_version = kind.api_version
        kind.cls.namespaced = kind.namespaced
    return kind


def get(kind: str) -> Kind:
    """The entry of a kind by its name (``Pod``); KeyError for a kind KubeLab does not have."""
    return _REGISTRY[kind]


def find(kind: str) -> Kind | None:
    return _REGISTRY.get(kind)


def resolve(word: str) -> Kind | None:
    """What kubectl's RESTMapper makes of a resource argument: ``pods``, ``po``, ``pod``,
    ``deployments.apps``, ``Deployment`` (case-insensitive, as kubectl matches kinds)."""
    name = _NAMES.get(word) or _NAMES.get(word.lower())
    return _REGISTRY[name] if name else None


def all_kinds() -> list[Kind]:
    """Every kind, in the order of declaration (the order snapshots and stores list them in)."""
    return list(_REGISTRY.values())


def stored() -> list[Kind]:
    """The kinds a ClusterState keeps in a store of its own."""
    return [k for k in _REGISTRY.values() if k.store is not None]


def applicable() -> list[Kind]:
    return [k for k in _REGISTRY.values() if k.applicable]


def namespace_of(kind: str, namespace: str) -> str:
    """The namespace a request about ``kind`` is in: none for cluster-scoped kinds."""
    return namespace if _REGISTRY[kind].namespaced else ""


def rows(
    state: ClusterState, kind: str, namespace: str | None, wide: bool
) -> tuple[list[str], list[list[str]]]:
    """``kubectl get``'s headers and rows: the kind's columns (priority 1 only when wide), with
    NAMESPACE first when listing a namespaced kind across all namespaces."""
    k = _REGISTRY[kind]
    assert k.row is not None, f"{kind} has no printer"
    now = state.now
    keep = [i for i, c in enumerate(k.columns) if wide or c.priority == 0]
    all_ns = namespace is None and k.namespaced
    items = k.objects(state)
    if k.namespaced and namespace is not None:
        items = (o for o in items if o.namespace == namespace)
    out = []
    for obj in sorted(items, key=k.sort_key):
        cells = k.row(obj, now)
        row = [cells[i] for i in keep]
        out.append([obj.namespace, *row] if all_ns else row)
    headers = [k.columns[i].name.upper() for i in keep]  # kubectl prints names upper-cased
    return (["NAMESPACE", *headers] if all_ns else headers), out


def get_table(
    state: ClusterState, kind: str, namespace: str | None = "default", wide: bool = False
) -> str:
    """``kubectl get KIND``'s text, or kubectl's words for an empty list."""
    headers, found = rows(state, kind, namespace, wide)
    if not found:
        if not _REGISTRY[kind].namespaced:
            return "No resources found"
        where = "" if namespace is None else f" in {namespace} namespace"
        return f"No resources found{where}."
    return printers.table(headers, found)


def describe(state: ClusterState, kind: str, namespace: str, name: str) -> str:
    """``kubectl describe KIND NAME``; KeyError when there is no such object."""
    k = _REGISTRY[kind]
    obj = state.get(kind, namespace, name)
    if obj is None or k.describe is None:
        raise KeyError(name)
    return k.describe(state, obj)


# The kinds, in the order snapshots list them. Each module registers its entry on import.
# isort: off
# The order of these imports is the order of registration: snapshots list objects, stores load
# them and errors name the kinds in it.
from . import namespace  # noqa: E402
from . import node  # noqa: E402
from . import deployment  # noqa: E402
from . import replicaset  # noqa: E402
from . import pod  # noqa: E402
from . import service  # noqa: E402
from . import horizontalpodautoscaler  # noqa: E402
from . import ingress  # noqa: E402
from . import ingressclass  # noqa: E402
from . import event  # noqa: E402

# isort: on
from .deployment import Deployment  # noqa: E402
from .horizontalpodautoscaler import HorizontalPodAutoscaler  # noqa: E402
from .ingress import Ingress  # noqa: E402
from .ingressclass import IngressClass  # noqa: E402
from .namespace import Namespace  # noqa: E402
from .node import Node  # noqa: E402
from .pod import Pod  # noqa: E402
from .replicaset import ReplicaSet  # noqa: E402
from .service import Service  # noqa: E402

__all__ = [
    "ALL_VERBS",
    "NOT_SIMULATED",
    "Column",
    "Deployment",
    "HorizontalPodAutoscaler",
    "Ingress",
    "IngressClass",
    "Kind",
    "Namespace",
    "Node",
    "Pod",
    "ReplicaSet",
    "Service",
    "all_kinds",
    "applicable",
    "deployment",
    "describe",
    "event",
    "find",
    "get",
    "get_table",
    "horizontalpodautoscaler",
    "ingress",
    "ingressclass",
    "namespace",
    "namespace_of",
    "node",
    "pod",
    "register",
    "replicaset",
    "resolve",
    "rows",
    "service",
    "stored",
]
