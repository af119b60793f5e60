"""Classrooms: who may do what, at every door (HTTP, console, WebSocket), and what students get.

The permission matrix tries every action as the instructor, a student of this class, a student
of another class, another classroom's instructor, the projector and an anonymous visitor.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from clusters import services
from clusters.access import OPERATOR
from clusters.models import Classroom, Cluster, Membership
from kubelab.asgi import application
from tests.sim.helpers import deployment_yaml

pytestmark = pytest.mark.django_db(transaction=True)
SCENARIO = (settings.BASE_DIR / "kubelab" / "scenarios" / "demo.yaml").read_text()
HOST = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]


def make_classroom(owner_name: str, title: str = "Lesson") -> Classroom:
    user = get_user_model().objects.create_user(owner_name, password="pw-" + owner_name * 3)
    return services.classroom_create(owner=user, title=title, scenario_text=SCENARIO, workers=3)


def instructor_client(classroom: Classroom) -> Client:
    c = Client()
    c.force_login(classroom.owner)
    return c


def student_client(classroom: Classroom, name: str) -> Client:
    c = Client()
    r = c.post("/join/", {"code": classroom.join_code, "name": name})
    assert r.status_code == 302, r.content
    return c


def projector_client(classroom: Classroom) -> Client:
    c = Client()
    r = c.get(f"/p/{classroom.projector_token}/")
    assert r.status_code == 302
    return c


@pytest.fixture
def classes(db):  # noqa: ANN001, ANN201
    a = make_classroom("alice", "Kubernetes 101")
    b = make_classroom("bob", "Other class")
    return a, b


def state_of(cluster_id: int, fn: Any) -> Any:
    return services.cluster_query(cluster_id, fn, actor=OPERATOR)


# ----- joining ------------------------------------------------------------------------------------------
def test_join_gives_each_student_a_dns1123_namespace_with_the_quota(classes):
    a, _ = classes
    student_client(a, "Ana María")
    student_client(a, "ana maria")  # same name again: a unique namespace
    student_client(a, "kube-system")  # reserved names are never taken
    names = list(Membership.objects.filter(cluster=a.cluster).values_list("namespace", flat=True))
    assert names == ["ana-maria", "ana-maria-2", "student-kube-system"]
    ns = state_of(a.cluster_id, lambda st: st.namespaces["ana-maria"])
    assert ns.sim["resourceQuota"]["hard"] == {
        "pods": "10",
        "requests.cpu": "2",
        "requests.memory": "4Gi",
    }


@pytest.mark.parametrize(
    "code,name,expected",
    [
        ("NOPE99", "Ana", "no classroom has that code"),
        ("{code}", "", "This field is required"),
        ("{code}", "x" * 41, "at most 40 characters"),
        ("{code}", "Ana\x00", "Null characters are not allowed"),
        ("{code}", "Ana\x07", "printable"),
    ],
)
def test_bad_joins_are_refused_and_change_nothing(classes, code, name, expected):
    a, _ = classes
    r = Client().post("/join/", {"code": code.format(code=a.join_code), "name": name})
    assert r.status_code == 400 and expected in r.content.decode()
    assert not Membership.objects.exists()


def test_join_code_is_case_and_space_insensitive_and_closed_rooms_refuse(classes):
    a, _ = classes
    r = Client().post("/join/", {"code": " " + a.join_code.lower() + " ", "name": "Lee"})
    assert r.status_code == 302
    services.classroom_update(classroom_id=a.pk, actor=services_actor(a), closed=True)
    r = Client().post("/join/", {"code": a.join_code, "name": "Late"})
    assert r.status_code == 400 and "this classroom is closed" in r.content.decode()


def services_actor(classroom: Classroom):  # type: ignore[no-untyped-def]
    from clusters.access import Actor

    return Actor("instructor", classroom.owner.username)


# ----- what a student can do -------------------------------------------------------------------------------
def test_student_applies_in_their_namespace_and_quota_limits_replicas(classes):
    a, _ = classes
    s = student_client(a, "Ana")
    r = s.post(
        f"/c/{a.cluster.slug}/apply/",
        {"manifest": deployment_yaml(name="web", replicas=12, cpu=None)},
        HTTP_ACCEPT="application/json",
    )
    assert r.json() == {"ok": True, "lines": ["deployment.apps/web created"]}
    services.clock_advance(cluster_id=a.cluster_id, mode="skip", actor=OPERATOR)
    pods, events = state_of(
        a.cluster_id,
        lambda st: (
            [p.name for p in st.pods.values() if p.namespace == "ana"],
            [e.message for e in st.events.values() if e.reason == "FailedCreate"],
        ),
    )
    assert len(pods) == 10
    assert any(
        "exceeded quota: student-quota, requested: pods=1, used: pods=10" in m for m in events
    )
    out = s.post(f"/c/{a.cluster.slug}/console/", {"command": "get deployments"}).json()
    assert out["code"] == 0 and "web    0/12" in out["out"] or "web" in out["out"]


def test_student_cannot_write_outside_their_namespace(classes):
    a, _ = classes
    s = student_client(a, "Ana")
    before = Cluster.objects.get(pk=a.cluster_id).rv
    r = s.post(
        f"/c/{a.cluster.slug}/apply/",
        {"manifest": deployment_yaml(name="intruder"), "namespace": "default"},
        HTTP_ACCEPT="application/json",
    )
    assert r.status_code == 403
    assert r.json()["error"] == (
        'Error from server (Forbidden): error when creating "STDIN": deployments.apps is forbidden: '
        'User "ana" cannot create resource "deployments" in API group "apps" in the namespace "default"'
    )
    doc = deployment_yaml(name="web").replace(
        "name: web\n", "name: web\n  namespace: kube-system\n", 1
    )
    r = s.post(f"/c/{a.cluster.slug}/apply/", {"manifest": doc}, HTTP_ACCEPT="application/json")
    assert (
        r.status_code == 403 and r.json()["line"] == 5 and r.json()["field"] == "metadata.namespace"
    )
    assert Cluster.objects.get(pk=a.cluster_id).rv == before


# ----- the permission matrix --------------------------------------------------------------------------------
ALLOW, DENY = "allow", "deny"
ROLES = ["instructor", "student", "other_student", "other_instructor", "projector", "anonymous"]


def clients(a: Classroom, b: Classroom) -> dict[str, Client]:
    return {
        "instructor": instructor_client(a),
        "student": student_client(a, "Ana"),
        "other_student": student_client(b, "Bea"),
        "other_instructor": instructor_client(b),
        "projector": projector_client(a),
        "anonymous": Client(),
    }


def _pod_in(cluster_id: int, ns: str) -> str:
    return state_of(
        cluster_id,
        lambda st: next(
            (p.name for p in st.pods.values() if p.namespace == ns and p.deleted is None), "gone"
        ),
    )


# action -> (method, path template, data, expected per role)
MATRIX: dict[str, tuple[str, str, dict[str, str], dict[str, str]]] = {
    "view cluster page": (
        "get",
        "/c/{slug}/",
        {},
        dict.fromkeys(ROLES[:1] + ["student", "projector"], ALLOW),
    ),
    "read state.json": (
        "get",
        "/c/{slug}/state.json",
        {},
        dict.fromkeys(["instructor", "student", "projector"], ALLOW),
    ),
    "describe a pod in default": (
        "get",
        "/c/{slug}/describe/pod/default/{default_pod}/",
        {},
        dict.fromkeys(["instructor", "student", "projector"], ALLOW),
    ),
    "apply in own namespace": (
        "post",
        "/c/{slug}/apply/",
        {"manifest": deployment_yaml(name="mine"), "namespace": "ana"},
        {"instructor": ALLOW, "student": ALLOW},
    ),
    "apply in default": (
        "post",
        "/c/{slug}/apply/",
        {"manifest": deployment_yaml(name="theirs-{role}"), "namespace": "default"},
        {"instructor": ALLOW},
    ),
    "delete a pod in default": (
        "post",
        "/c/{slug}/pods/default/{default_pod}/delete/",
        {},
        {"instructor": ALLOW},
    ),
    "delete own pod": (
        "post",
        "/c/{slug}/pods/ana/{ana_pod}/delete/",
        {},
        {"instructor": ALLOW, "student": ALLOW},
    ),
    "set clients on a Service in default": (
        "post",
        "/c/{slug}/services/default/web/load/",
        {"rps": "10"},
        {"instructor": ALLOW},
    ),
    "fail a node": ("post", "/c/{slug}/nodes/worker-2/fail/", {}, {"instructor": ALLOW}),
    "add a node": ("post", "/c/{slug}/nodes/add/", {"name": "worker-9"}, {"instructor": ALLOW}),
    "pause the clock": ("post", "/c/{slug}/clock/pause/", {}, {"instructor": ALLOW}),
    "reset the cluster": ("post", "/c/{slug}/reset/", {}, {"instructor": ALLOW}),
    "console: get pods -A": (
        "post",
        "/c/{slug}/console/",
        {"command": "get pods -A"},
        {"instructor": ALLOW, "student": ALLOW},
    ),
    "console: scale in default": (
        "post",
        "/c/{slug}/console/",
        {"command": "scale deployment web --replicas=1 -n default"},
        {"instructor": ALLOW},
    ),
    "console: cordon": (
        "post",
        "/c/{slug}/console/",
        {"command": "cordon worker-1"},
        {"instructor": ALLOW},
    ),
    "open the dashboard": ("get", "/c/{slug}/dashboard/", {}, {"instructor": ALLOW}),
    "announce": ("post", "/c/{slug}/announce/", {"text": "hello"}, {"instructor": ALLOW}),
    "change the quota": (
        "post",
        "/c/{slug}/classroom/",
        {"quota_pods": "20"},
        {"instructor": ALLOW},
    ),
    "remove a student": ("post", "/c/{slug}/students/{member}/remove/", {}, {"instructor": ALLOW}),
}


@pytest.mark.parametrize("action", list(MATRIX))
def test_permission_matrix_over_http(classes, action):
    a, b = classes
    cs = clients(a, b)
    apply = services.manifests_apply(
        cluster_id=a.cluster_id,
        text=deployment_yaml(name="own", replicas=1),
        namespace="ana",
        actor=OPERATOR,
    )
    assert apply == ["deployment.apps/own created"]
    services.clock_advance(cluster_id=a.cluster_id, mode="skip", actor=OPERATOR)
    method, path, data, expected = MATRIX[action]
    member = Membership.objects.get(cluster=a.cluster, namespace="ana").pk
    for role in ROLES:
        fmt = {
            "slug": a.cluster.slug,
            "default_pod": _pod_in(a.cluster_id, "default"),
            "ana_pod": _pod_in(a.cluster_id, "ana"),
            "member": member,
            "role": role.replace("_", "-"),
        }
        want = expected.get(role, DENY)
        client = cs[role]
        before = Cluster.objects.get(pk=a.cluster_id)
        body = {k: v.replace("{role}", fmt["role"]) for k, v in data.items()}
        r = getattr(client, method)(path.format(**fmt), body, HTTP_ACCEPT="application/json")
        if r.status_code == 200 and r.headers.get("Content-Type", "").startswith(
            "application/json"
        ):
            body = r.json()
            ok = body.get("ok", body.get("code", 0) == 0)
        else:
            ok = r.status_code == 200
        assert (ALLOW if ok else DENY) == want, (action, role, r.status_code, r.content[:300])
        if want == DENY:
            assert r.status_code in (403, 200), (action, role, r.status_code)
            after = Cluster.objects.get(pk=a.cluster_id)
            assert (after.rv, after.paused) == (before.rv, before.paused), (action, role)
        elif method == "post" and action == "remove a student":
            break  # the student is gone; nothing left to remove for the next roles


# ----- the WebSocket door -----------------------------------------------------------------------------------
def ws_for(client: Client, slug: str) -> WebsocketCommunicator:
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    headers = list(HOST)
    if cookie is not None:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie.value}".encode()))
    return WebsocketCommunicator(application, f"/ws/clusters/{slug}/", headers=headers)


def test_websocket_roles(classes, caplog):
    """Who may open the socket; and an instructor's action sent over it closes it, whoever sends it
    (the instructor too: the socket has no actions, the controls are HTTP, see the matrix above)."""
    a, b = classes
    cs = clients(a, b)
    slug = a.cluster.slug
    forged = (
        {"type": "action", "action": "node", "node": "worker-1", "verb": "fail"},
        {"type": "action"},  # well formed, of a type the socket does not know: logged
    )

    async def scenario() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for role in ROLES:
            for message in forged:
                ws = ws_for(cs[role], slug)
                connected, code = await ws.connect()
                if not connected:
                    seen[role] = ("refused", code)
                    break
                first = await ws.receive_output(timeout=5)
                if first["type"] == "websocket.close":
                    seen[role] = ("closed", first.get("code"))
                    break
                assert json.loads(first["text"])["type"] == "snapshot"
                await ws.send_to(text_data=json.dumps(message))
                answer = await ws.receive_output(timeout=5)
                while (
                    answer["type"] == "websocket.send"
                    and json.loads(answer["text"])["type"] == "delta"
                ):
                    answer = await ws.receive_output(timeout=5)
                seen.setdefault(role, []).append((answer["type"], answer.get("code")))
                await ws.disconnect()
        return seen

    with caplog.at_level(logging.WARNING, logger="clusters"):
        seen = async_to_sync(scenario)()
    closed = [("websocket.close", 4400)] * len(forged)
    assert seen == {
        "instructor": closed,
        "student": closed,
        # Accepted, then closed before anything is sent: the page sees the code and stops.
        "other_student": ("closed", 4403),
        "other_instructor": ("closed", 4403),
        "projector": closed,
        "anonymous": ("closed", 4403),
    }
    assert "sent an unknown message type 'action'" in caplog.text
    failed = state_of(a.cluster_id, lambda st: not st.nodes["worker-1"].kubelet_running)
    assert not failed  # nothing went through the socket


def test_removed_student_loses_access_and_their_namespace(classes):
    a, _ = classes
    s = student_client(a, "Ana")
    services.manifests_apply(
        cluster_id=a.cluster_id, text=deployment_yaml(name="w"), namespace="ana", actor=OPERATOR
    )
    member = Membership.objects.get(namespace="ana")
    r = instructor_client(a).post(
        f"/c/{a.cluster.slug}/students/{member.pk}/remove/", HTTP_ACCEPT="application/json"
    )
    assert r.json()["ok"] and r.json()["output"] == 'namespace "ana" deleted'
    assert s.get(f"/c/{a.cluster.slug}/state.json").status_code == 403
    gone = state_of(
        a.cluster_id,
        lambda st: (
            "ana" not in st.namespaces,
            [d for d in st.deployments.values() if d.namespace == "ana"],
        ),
    )
    assert gone == (True, [])


def test_anonymised_classroom_hides_other_students_namespaces(classes):
    a, _ = classes
    ana = student_client(a, "Ana")
    student_client(a, "Bea")
    for ns in ("ana", "bea"):
        services.manifests_apply(
            cluster_id=a.cluster_id,
            text=deployment_yaml(name="web", replicas=1),
            namespace=ns,
            actor=OPERATOR,
        )
    services.classroom_update(classroom_id=a.pk, actor=services_actor(a), anonymise=True)
    snap = ana.get(f"/c/{a.cluster.slug}/state.json").json()
    text = json.dumps(snap)
    assert '"bea"' not in text and "bea/" not in text and "ana/" not in text
    assert {o["namespace"] for o in snap["objects"] if o["kind"] == "Deployment"} >= {
        "student-1",
        "student-2",
    }
    out = ana.post(f"/c/{a.cluster.slug}/console/", {"command": "get pods -n bea"}).json()
    assert (
        out["code"] == 1
        and 'User "ana" cannot list resource "pods" in API group "" in the namespace "bea"'
        in out["err"]
    )
    assert ana.post(f"/c/{a.cluster.slug}/console/", {"command": "get pods"}).json()["code"] == 0
    # describe node lists the node's pods of every namespace: kubectl (describe.go) prints
    # "Pods: not authorized" to a user who may not list pods cluster-wide.
    node = state_of(
        a.cluster_id, lambda st: next(p.node_name for p in st.pods.values() if p.namespace == "bea")
    )
    for text in (
        ana.post(f"/c/{a.cluster.slug}/console/", {"command": f"describe node {node}"}).json()[
            "out"
        ],
        ana.get(f"/c/{a.cluster.slug}/describe/node/{node}/").content.decode(),
    ):
        assert "not authorized" in text and "Non-terminated Pods" not in text
        assert not re.search(r"\bbea\b", text)
    teacher = instructor_client(a)
    out = teacher.post(f"/c/{a.cluster.slug}/console/", {"command": f"describe node {node}"}).json()
    assert "Non-terminated Pods" in out["out"] and "bea " in out["out"]
    full = instructor_client(a).get(f"/c/{a.cluster.slug}/state.json").json()
    assert "bea" in {o["namespace"] for o in full["objects"]}


def test_reset_keeps_students_and_their_quota(classes):
    a, _ = classes
    student_client(a, "Ana")
    services.manifests_apply(
        cluster_id=a.cluster_id, text=deployment_yaml(name="w"), namespace="ana", actor=OPERATOR
    )
    r = instructor_client(a).post(f"/c/{a.cluster.slug}/reset/", HTTP_ACCEPT="application/json")
    assert r.json()["ok"]
    ns, deps = state_of(
        a.cluster_id,
        lambda st: (
            st.namespaces.get("ana"),
            [d.name for d in st.deployments.values() if d.namespace == "ana"],
        ),
    )
    assert ns is not None and ns.sim["resourceQuota"]["name"] == "student-quota" and deps == []


def test_closed_classroom_makes_student_namespaces_read_only(classes):
    a, _ = classes
    s = student_client(a, "Ana")
    services.classroom_update(classroom_id=a.pk, actor=services_actor(a), closed=True)
    r = s.post(
        f"/c/{a.cluster.slug}/apply/",
        {"manifest": deployment_yaml()},
        HTTP_ACCEPT="application/json",
    )
    assert r.status_code == 403 and "closed" in r.content.decode()
    assert s.get(f"/c/{a.cluster.slug}/state.json").status_code == 200


def test_dashboard_shows_code_qr_roster_and_steps(classes):
    a, _ = classes
    student_client(a, "Ana")
    services.manifests_apply(
        cluster_id=a.cluster_id,
        text=deployment_yaml(name="web", image="nginx:1.277"),
        namespace="ana",
        actor=OPERATOR,
    )
    for _ in range(12):
        services.clock_advance(cluster_id=a.cluster_id, mode="skip", actor=OPERATOR)
    html = instructor_client(a).get(f"/c/{a.cluster.slug}/dashboard/").content.decode()
    assert a.join_code in html and "<svg" in html and f"/join/{a.join_code}/" in html
    assert f"/p/{a.projector_token}/" in html
    assert 'data-student="ana"' in html and "web</code> 0/3 ready" in html
    roster = html[html.index("data-roster>") :]
    assert "ErrImagePull" in roster or "ImagePullBackOff" in roster, roster[:1500]


@override_settings(KUBELAB_SIGNUP=False)
def test_signup_can_be_switched_off(db):
    r = Client().post(
        "/accounts/signup/",
        {"username": "x", "password1": "a-long-pass-1", "password2": "a-long-pass-1"},
    )
    assert r.status_code == 403 and not get_user_model().objects.exists()


def test_instructor_signs_up_and_creates_a_classroom(db):
    c = Client()
    r = c.post(
        "/accounts/signup/",
        {"username": "carol", "password1": "kube-lab-2026!", "password2": "kube-lab-2026!"},
    )
    assert r.status_code == 302
    r = c.post(
        "/classrooms/",
        {
            "title": "Friday lab",
            "scenario": "demo",
            "workers": "2",
            "worker_cpu": "2",
            "worker_memory": "4Gi",
            "quota_pods": "5",
            "quota_cpu": "1",
            "quota_memory": "2Gi",
        },
    )
    assert r.status_code == 302
    classroom = Classroom.objects.get(title="Friday lab")
    nodes = state_of(
        classroom.cluster_id, lambda st: sorted((n.name, n.alloc_cpu) for n in st.nodes.values())
    )
    assert nodes == [("control-plane", 4000), ("worker-1", 2000), ("worker-2", 2000)]
    r = c.post(
        "/classrooms/",
        {
            "title": "Bad",
            "scenario": "demo",
            "quota_pods": "5",
            "quota_cpu": "lots",
            "quota_memory": "2Gi",
        },
    )
    assert r.status_code == 400 and "is not a quantity" in r.content.decode()


def test_anonymised_students_still_get_announcements_and_resyncs(classes):
    # Anonymised students listen on their own group; messages for the whole class reach it too.
    a, _ = classes
    ana = student_client(a, "Ana")
    services.classroom_update(classroom_id=a.pk, actor=services_actor(a), anonymise=True)

    async def scenario() -> list[str]:
        ws = ws_for(ana, a.cluster.slug)
        connected, _ = await ws.connect()
        assert connected
        assert json.loads(await ws.receive_from(timeout=5))["type"] == "snapshot"
        from channels.db import database_sync_to_async

        await database_sync_to_async(services.classroom_announce)(
            cluster_id=a.cluster_id, text="Step 2", actor=services_actor(a)
        )
        got = []
        while "announce" not in got:
            got.append(json.loads(await ws.receive_from(timeout=5))["type"])
        await ws.disconnect()
        return got

    assert "announce" in async_to_sync(scenario)()
