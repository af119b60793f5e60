from __future__ import annotations

import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "")


@pytest.fixture
def demo_cluster(db):  # noqa: ANN001
    from clusters import services

    return services.demo_cluster_ensure()


@pytest.fixture(autouse=True)
def _fresh_state_cache():  # noqa: ANN202
    """Each test starts without cached cluster states (a flushed database reuses primary keys)."""
    yield
    try:
        from clusters.services import session
    except Exception:  # engine tests run without Django apps loaded
        return
    with session._cache_lock:
        session._cache.clear()
    from clusters.services import reads

    with reads._texts_guard:
        reads._texts.clear()
