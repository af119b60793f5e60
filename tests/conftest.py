from __future__ import annotations

import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "")


@pytest.fixture
def demo_cluster(db):  # noqa: ANN001
    from clusters import services

    return services.demo_cluster_ensure()
