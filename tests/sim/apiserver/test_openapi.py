"""The OpenAPI v3 documents (kubelab.sim.apiserver.openapi): their shape, checked directly, and
what the real kubectl makes of them (``kubectl explain``) against a stub discovery server.

The stub (``StubDiscoveryServer``) is test scaffolding standing in for KubeLab's Kubernetes HTTP
API, which does not exist yet: it serves only discovery (``/api``, ``/apis``, the resource lists,
``/version``) and ``/openapi/v3``, and is to be replaced by the real server when it lands."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from kubelab.sim import KUBERNETES_VERSION, kinds
from kubelab.sim.apiserver import openapi

GVS = sorted({openapi.group_version_of(k) for k in kinds.all_kinds()})
SCHEMAS = "#/components/schemas/"


def gvk(kind: kinds.Kind) -> dict[str, str]:
    return {"group": kind.group, "kind": kind.kind, "version": kind.version}


def walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every dict in a document, with where it is."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, f"{path}/{i}")


def schema_nodes(node: Any) -> Iterator[dict[str, Any]]:
    """Every schema inside a component schema (not the property maps that hold them)."""
    if not isinstance(node, dict):
        return
    yield node
    for prop in (node.get("properties") or {}).values():
        yield from schema_nodes(prop)
    for key in ("items", "additionalProperties", "not"):
        yield from schema_nodes(node.get(key))
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in node.get(key) or []:
            yield from schema_nodes(sub)


# ----------------------------------------------------------------------------------------------
# The documents
# ----------------------------------------------------------------------------------------------
def test_served_group_versions_are_the_registrys():
    assert sorted(openapi.served_group_versions()) == GVS
    assert "api/v1" in GVS and "apis/apps/v1" in GVS
    assert openapi.v3_document("apis/batch/v1") is None
    assert openapi.v3_document("apis/apps/v2") is None
    assert openapi.v3_document_bytes("nonsense") is None
    with pytest.raises(KeyError):
        openapi.v3_hash("apis/batch/v1")


@pytest.mark.parametrize("prefix", ["", "/k8s/abc123", "/k8s/abc123/", "k8s/abc123"])
def test_root_lists_every_group_version_under_the_prefix(prefix):
    root = openapi.v3_root(prefix)
    assert set(root) == {"paths"}
    assert sorted(root["paths"]) == GVS
    base = "/k8s/abc123" if prefix else ""
    for gv, entry in root["paths"].items():
        assert entry == {"serverRelativeURL": f"{base}/openapi/v3/{gv}?hash={openapi.v3_hash(gv)}"}


def test_hash_is_sha512_of_the_served_bytes_upper_hex_and_stable():
    for gv in GVS:
        body = openapi.v3_document_bytes(gv)
        h = openapi.v3_hash(gv)
        assert h == hashlib.sha512(body).hexdigest().upper()
        assert len(h) == 128 and h == h.upper()
        assert json.loads(body) == openapi.v3_document(gv)
        assert openapi.v3_hash(gv) == h
    assert len({openapi.v3_hash(gv) for gv in GVS}) == len(GVS)


@pytest.mark.parametrize("gv", GVS)
def test_document_shape(gv):
    doc = openapi.v3_document(gv)
    assert doc["openapi"] == "3.0.0"
    assert doc["info"] == {"title": "Kubernetes", "version": KUBERNETES_VERSION}
    assert set(doc) == {"openapi", "info", "paths", "components"}
    assert all(p.startswith("/" + gv + "/") for p in doc["paths"])


@pytest.mark.parametrize("kind", kinds.all_kinds(), ids=lambda k: k.kind)
def test_every_kind_has_its_schema_and_operations(kind):
    doc = openapi.v3_document(openapi.group_version_of(kind))
    schemas = doc["components"]["schemas"]
    tagged = [
        n for n, s in schemas.items() if gvk(kind) in s.get("x-kubernetes-group-version-kind", [])
    ]
    assert len(tagged) == 1, tagged
    assert schemas[tagged[0]]["properties"]["metadata"]
    # kubectl's fieldValidation check: a patch operation of the GVK that lists the parameter.
    patches = [
        path["patch"]
        for path in doc["paths"].values()
        if path.get("patch", {}).get("x-kubernetes-group-version-kind") == gvk(kind)
    ]
    assert patches
    for op in patches:
        names = {p["name"]: p["in"] for p in op["parameters"]}
        assert names["fieldValidation"] == names["dryRun"] == names["fieldManager"] == "query"
        assert op["x-kubernetes-action"] == "patch"
    # The collection and item paths, with the verbs the entry allows.
    base = "/" + openapi.group_version_of(kind)
    collection = f"{base}/{'namespaces/{namespace}/' if kind.namespaced else ''}{kind.plural}"
    item = collection + "/{name}"
    expected = {
        (collection, "get"): ("list", "list"),
        (collection, "post"): ("create", "post"),
        (collection, "delete"): ("deletecollection", "deletecollection"),
        (item, "get"): ("get", "get"),
        (item, "put"): ("update", "put"),
        (item, "patch"): ("patch", "patch"),
        (item, "delete"): ("delete", "delete"),
    }
    for (path, method), (verb, action) in expected.items():
        op = doc["paths"].get(path, {}).get(method)
        if verb not in kind.verbs:
            assert op is None, (path, method)
            continue
        assert op["x-kubernetes-action"] == action
        assert op["x-kubernetes-group-version-kind"] == gvk(kind)
        if method in ("post", "put", "patch"):
            assert "fieldValidation" in {p["name"] for p in op["parameters"]}
    if "watch" in kind.verbs:
        watch = f"{base}/watch/{collection.removeprefix(base + '/')}" + "/{name}"
        assert doc["paths"][watch]["get"]["x-kubernetes-action"] == "watch"
    if kind.namespaced:
        assert doc["paths"][f"{base}/{kind.plural}"]["get"]["x-kubernetes-action"] == "list"


@pytest.mark.parametrize("gv", GVS)
def test_every_ref_resolves_inside_the_document(gv):
    doc = openapi.v3_document(gv)
    schemas = doc["components"]["schemas"]
    refs = [(where, n["$ref"]) for where, n in walk(doc) if isinstance(n.get("$ref"), str)]
    assert refs
    for where, ref in refs:
        assert ref.startswith(SCHEMAS), (where, ref)
        assert ref.removeprefix(SCHEMAS) in schemas, (where, ref)
    # Nothing more than what is referenced (the closure is exact).
    used = {ref.removeprefix(SCHEMAS) for _, ref in refs}
    assert used == set(schemas)


@pytest.mark.parametrize("gv", GVS)
def test_schemas_are_openapi_3_0_not_json_schema(gv):
    body = openapi.v3_document_bytes(gv).decode()
    assert "#/$defs/" not in body
    for name, schema in openapi.v3_document(gv)["components"]["schemas"].items():
        for node in schema_nodes(schema):
            assert not isinstance(node.get("type"), list), name
            assert node.get("additionalProperties") is not False, name
            if "$ref" in node:
                assert set(node) == {"$ref"}, (name, node)  # siblings go beside an allOf
        for prop in ("apiVersion", "kind"):
            assert "enum" not in (schema.get("properties", {}).get(prop) or {}), name


def test_conversions_match_upstream():
    apps = openapi.v3_document("apis/apps/v1")["components"]["schemas"]
    spec = apps["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]
    assert spec["replicas"] == {
        "description": "Number of desired pods. This is a pointer to distinguish between "
        "explicit zero and not specified. Defaults to 1.",
        "format": "int32",
        "type": "integer",
    }
    assert spec["strategy"]["allOf"] == [
        {"$ref": SCHEMAS + "io.k8s.api.apps.v1.DeploymentStrategy"}
    ]
    assert spec["strategy"]["description"] == (
        "The deployment strategy to use to replace existing pods with new ones."
    )
    assert spec["strategy"]["x-kubernetes-patch-strategy"] == "retainKeys"
    assert apps["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["oneOf"] == [
        {"type": "integer"},
        {"type": "string"},
    ]
    assert apps["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["format"] == "int-or-string"
    deployment = apps["io.k8s.api.apps.v1.Deployment"]
    assert deployment["type"] == "object"
    assert deployment["properties"]["apiVersion"]["type"] == "string"
    core = openapi.v3_document("api/v1")["components"]["schemas"]
    limits = core["io.k8s.api.core.v1.ResourceRequirements"]["properties"]["limits"]
    assert limits["additionalProperties"] == {
        "$ref": SCHEMAS + "io.k8s.apimachinery.pkg.api.resource.Quantity"
    }


# ----------------------------------------------------------------------------------------------
# The real kubectl against a stub discovery server
# ----------------------------------------------------------------------------------------------
def _group_list() -> dict[str, Any]:
    groups: dict[str, list[str]] = {}
    for k in kinds.all_kinds():
        if k.group and k.version not in groups.setdefault(k.group, []):
            groups[k.group].append(k.version)
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [
            {
                "name": g,
                "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in versions],
                "preferredVersion": {"groupVersion": f"{g}/{versions[0]}", "version": versions[0]},
            }
            for g, versions in groups.items()
        ],
    }


def _resource_list(gv: str) -> dict[str, Any] | None:
    members = [k for k in kinds.all_kinds() if openapi.group_version_of(k) == gv]
    if not members:
        return None
    resources = []
    for k in members:
        resources.append(
            {
                "name": k.plural,
                "singularName": k.singular,
                "namespaced": k.namespaced,
                "kind": k.kind,
                "verbs": sorted(k.verbs),
                **({"shortNames": list(k.short_names)} if k.short_names else {}),
                **({"categories": list(k.categories)} if k.categories else {}),
            }
        )
        if "status" in k.subresources:
            resources.append(
                {
                    "name": f"{k.plural}/status",
                    "singularName": "",
                    "namespaced": k.namespaced,
                    "kind": k.kind,
                    "verbs": ["get", "patch", "update"],
                }
            )
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": members[0].api_version,
        "resources": resources,
    }


class StubDiscoveryServer:
    """TEST SCAFFOLDING, not KubeLab's API server (which does not exist yet): a stdlib HTTP
    server answering only what ``kubectl explain`` needs — discovery built from the kind
    registry, ``/version``, ``/openapi/v3`` and its documents from ``openapi`` — under an
    optional path prefix, 404 for anything else. Records the paths it was asked for."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.requests: list[str] = []
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                stub.requests.append(self.path)
                status, body = stub.answer(self.path)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{self.prefix}"

    def answer(self, target: str) -> tuple[int, bytes]:
        path = urlsplit(target).path
        if not path.startswith(self.prefix + "/"):
            return self.not_found()
        path = path.removeprefix(self.prefix).rstrip("/") or "/"
        found: Any = None
        if path == "/api":
            found = {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}
                ],
            }
        elif path == "/apis":
            found = _group_list()
        elif path == "/version":
            major, minor, _ = KUBERNETES_VERSION.removeprefix("v").split(".")
            found = {
                "major": major,
                "minor": minor,
                "emulationMajor": major,
                "emulationMinor": minor,
                "gitVersion": KUBERNETES_VERSION,
                "gitTreeState": "clean",
                "platform": "linux/amd64",
            }
        elif path == "/openapi/v3":
            found = openapi.v3_root(self.prefix)
        elif path.startswith("/openapi/v3/"):
            body = openapi.v3_document_bytes(path.removeprefix("/openapi/v3/"))
            return (200, body) if body is not None else self.not_found()
        elif path.startswith(("/api/", "/apis/")):
            found = _resource_list(path.lstrip("/"))
        if found is None:
            return self.not_found()
        return 200, json.dumps(found).encode()

    @staticmethod
    def not_found() -> tuple[int, bytes]:
        status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404}
        return 404, json.dumps({**status, "reason": "NotFound", "message": "not found"}).encode()

    def __enter__(self) -> StubDiscoveryServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


KUBECTL = shutil.which("kubectl", path=str(Path(sys.executable).parent))
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="no kubectl in the venv's bin")


@pytest.fixture(params=["", "/k8s/test-token"], ids=["root", "prefixed"])
def stub(request: pytest.FixtureRequest) -> Iterator[StubDiscoveryServer]:
    with StubDiscoveryServer(request.param) as server:
        yield server


def kubectl(server: StubDiscoveryServer, tmp_path: Path, *args: str) -> str:
    config = tmp_path / "kubeconfig"
    config.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "lab", "cluster": {"server": server.url}}],
                "users": [{"name": "lab", "user": {"token": "t"}}],
                "contexts": [{"name": "lab", "context": {"cluster": "lab", "user": "lab"}}],
                "current-context": "lab",
            }
        )
    )
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "KUBECONFIG": str(config)}
    done = subprocess.run(
        [KUBECTL, "--kubeconfig", str(config), "--cache-dir", str(tmp_path / "cache"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@needs_kubectl
def test_kubectl_explain_deployment_strategy(stub, tmp_path):
    out = kubectl(stub, tmp_path, "explain", "deployment.spec.strategy")
    assert out.startswith("GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n")
    assert "FIELD: strategy <DeploymentStrategy>" in out
    assert "The deployment strategy to use to replace existing pods with new ones." in out
    assert "DeploymentStrategy describes how to replace existing pods with new ones." in out
    assert "rollingUpdate\t<RollingUpdateDeployment>" in out
    assert "type\t<string>" in out
    # The document was fetched at the URL the root gave, hash and prefix included.
    fetched = [urlsplit(r) for r in stub.requests]
    assert (f"{stub.prefix}/openapi/v3/apis/apps/v1", [openapi.v3_hash("apis/apps/v1")]) in [
        (u.path, parse_qs(u.query).get("hash")) for u in fetched
    ]


@needs_kubectl
def test_kubectl_explain_pod_container_resources(stub, tmp_path):
    out = kubectl(stub, tmp_path, "explain", "pods.spec.containers.resources")
    assert out.startswith("KIND:       Pod\nVERSION:    v1\n")
    assert "FIELD: resources <ResourceRequirements>" in out
    assert "Compute Resources required by this container." in out
    assert "limits\t<map[string]Quantity>" in out
    assert "requests\t<map[string]Quantity>" in out
    assert "claims\t<[]ResourceClaim>" in out


@needs_kubectl
def test_kubectl_explain_service_recursive(stub, tmp_path):
    out = kubectl(stub, tmp_path, "explain", "service", "--recursive")
    head = out.splitlines()[:12]
    assert head[:2] == ["KIND:       Service", "VERSION:    v1"]
    assert "Service is a named abstraction of software service" in out
    assert "FIELDS:" in head
    assert "  spec\t<ServiceSpec>" in out
    assert "    ports\t<[]ServicePort>" in out
    assert "      targetPort\t<IntOrString>" in out
    assert "    type\t<string>" in out
