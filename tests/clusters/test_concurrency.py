"""20 threads applying and scaling while the cluster ticks: no lost update, no "database is locked", no crash."""

from __future__ import annotations

import os
import random
import threading
import time

import pytest
from django.db import OperationalError, connection

from clusters import services
from clusters.access import OPERATOR
from kubelab.sim import actions
from kubelab.sim.apiserver import ApiError
from tests.sim.helpers import deployment_yaml
from workloads.models import Deployment

pytestmark = pytest.mark.django_db(transaction=True)
SECONDS = float(os.environ.get("KUBELAB_CONCURRENCY_SECONDS", "30"))


def test_concurrent_writers_and_ticks(demo_cluster):
    cid = demo_cluster.pk
    services.clock_set(cluster_id=cid, speed=30, actor=OPERATOR)
    deadline = time.monotonic() + SECONDS
    acked: dict[str, int] = {}
    failures: list[BaseException] = []
    writes = [0]
    lock = threading.Lock()

    def writer(i: int) -> None:
        rng = random.Random(i)
        name = f"t{i}"
        try:
            services.manifests_apply(
                cluster_id=cid,
                text=deployment_yaml(name=name, replicas=1, cpu="10m"),
                actor=OPERATOR,
            )
            with lock:
                acked[name] = 1
            while time.monotonic() < deadline:
                n = rng.randint(0, 4)
                if rng.random() < 0.5:
                    services.cluster_mutate(
                        cid, lambda st, n=n: actions.scale(st, "default", name, n), actor=OPERATOR
                    )
                else:
                    services.manifests_apply(
                        cluster_id=cid,
                        text=deployment_yaml(name=name, replicas=n, cpu="10m"),
                        actor=OPERATOR,
                    )
                with lock:
                    acked[name] = n
                    writes[0] += 1
        except (
            ApiError
        ) as e:  # only a 409 would be acceptable; none is expected without resourceVersion
            if e.code != 409:
                failures.append(e)
        except BaseException as e:  # noqa: BLE001 - any crash or "database is locked" fails the test
            failures.append(e)
        finally:
            connection.close()

    def ticker() -> None:
        try:
            while time.monotonic() < deadline:
                services.cluster_tick(cid)
                time.sleep(0.05)
        except BaseException as e:  # noqa: BLE001
            failures.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(20)] + [
        threading.Thread(target=ticker)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(SECONDS + 60)
    assert not [f for f in failures if isinstance(f, OperationalError)], failures
    assert not failures, failures
    assert writes[0] > 100
    stored = {
        d.name: d.spec["replicas"]
        for d in Deployment.objects.filter(cluster_id=cid, name__startswith="t")
    }
    assert stored == acked
    services.forget(cid)
    in_state = services.cluster_query(
        cid,
        lambda st: {d.name: d.replicas for d in st.deployments.values() if d.name.startswith("t")},
        actor=OPERATOR,
    )
    assert in_state == acked
