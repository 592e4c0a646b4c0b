"""Builds as Celery tasks against the real PostgreSQL and Redis on loopback, with an in-process worker
(solo pool) and a fast fake build step: one build per request however many replicas ask, a broker that
is down costs a page nothing, a dead worker's build is sent again and counted, and claims stay atomic
under twenty simultaneous claimers on PostgreSQL. (Real processes, kills and a real Meridian build:
tests/integration/test_team_deployment.py.)"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from mmm_dash.builder.shared_state import SqlBuildBook
from mmm_dash.builder.tables import bundle_builds, engine_for
from mmm_dash.core.status import BundleStatus
from tests.helpers import SECRET
from tests.unit.test_builds import tiny_bundle

REDIS_URL = os.environ.get("MMM_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
BROKER_URL = REDIS_URL.rsplit("/", 1)[0] + "/13"

pytestmark = pytest.mark.postgres


def _broker_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(BROKER_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


@pytest.fixture()
def broker():
    if not _broker_available():
        if os.environ.get("MMM_REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis at {BROKER_URL} is unreachable and MMM_REQUIRE_REDIS=1")
        pytest.skip(f"no Redis at {BROKER_URL}")
    import redis

    redis.Redis.from_url(BROKER_URL).flushdb()
    yield BROKER_URL
    redis.Redis.from_url(BROKER_URL).flushdb()


@pytest.fixture()
def team(postgres_database, broker, tmp_path):
    """Settings of a team deployment on a fresh database, a model file, and a counting fake step."""
    from mmm_dash.config import load_settings

    model_dir = tmp_path / "models"
    model_dir.mkdir()
    (model_dir / "m.binpb").write_bytes(b"model m")
    settings = load_settings(
        {
            "DATABASE_URL": postgres_database, "SECRET_KEY": SECRET, "CELERY_BROKER_URL": broker,
            "BUNDLE_STORE": "postgres", "MODEL_DIR": str(model_dir), "CACHE_DIR": str(tmp_path / "cache"),
            "INSTANCE_DIR": str(tmp_path / "instance"), "BUILD_LEASE_SECONDS": "2",
        }
    )  # fmt: skip
    engine = engine_for(settings.DATABASE_URL)
    from tests.helpers import make_app

    make_app(postgres_database, model_dir, tmp_path / "cache")  # migrates: the tables come from the migration
    calls: list[str] = []

    def step(entry, sha256, progress):
        calls.append(entry.name)
        progress("half way", 0.5)
        return tiny_bundle(entry.name)

    yield settings, step, calls
    engine.dispose()


def _worker_catalog(settings, step):
    from mmm_dash.builder.wiring import catalog_for

    return catalog_for(settings, worker=True, step=step)


def _wait_for(predicate, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_two_replicas_asking_for_one_model_get_one_build(team):
    from celery.contrib.testing.worker import start_worker

    from mmm_dash.builder.tasks import Housekeeping, make_celery
    from mmm_dash.builder.wiring import catalog_for

    settings, step, calls = team
    worker_catalog = _worker_catalog(settings, step)
    Housekeeping(worker_catalog).run_once()  # the worker writes the manifest
    replica_a, replica_b = catalog_for(settings), catalog_for(settings)
    assert replica_a.names() == ["m"] and replica_a.state("m").status is BundleStatus.MISSING

    sent = []
    for replica in (replica_a, replica_b, replica_a):
        original = replica.queue.app.send_task
        replica.queue.app.send_task = lambda *a, _o=original, **k: sent.append(a) or _o(*a, **k)
        assert replica.request_build("m").status is BundleStatus.QUEUED
    assert len(sent) == 1  # one task however many replicas ask

    app = make_celery(settings, catalog_factory=lambda: worker_catalog)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        assert _wait_for(lambda: replica_b.state("m").status is BundleStatus.READY), replica_b.state("m")
    assert calls == ["m"]
    assert replica_b.bundle("m").info.name == "m"
    with engine_for(settings.DATABASE_URL).connect() as conn:
        row = conn.execute(sa.select(bundle_builds)).one()
    assert row.attempts == 1 and row.built_at is not None and row.owner is None


def test_a_broker_that_is_down_leaves_the_build_queued_without_delaying_the_page(team):
    import dataclasses

    from mmm_dash.builder.tasks import Housekeeping
    from mmm_dash.builder.wiring import catalog_for

    settings, step, _calls = team
    Housekeeping(_worker_catalog(settings, step)).run_once()
    down = dataclasses.replace(settings, CELERY_BROKER_URL="redis://127.0.0.1:1/0")  # nothing listens on port 1
    replica = catalog_for(down)
    started = time.perf_counter()
    assert replica.request_build("m").status is BundleStatus.QUEUED
    assert time.perf_counter() - started < 5
    with engine_for(settings.DATABASE_URL).connect() as conn:
        assert conn.execute(sa.select(bundle_builds.c.enqueued_at)).scalar() == 0.0  # the next poll sends it


def test_a_build_whose_worker_died_is_sent_again_and_counted(team):
    from celery.contrib.testing.worker import start_worker

    from mmm_dash.builder.tasks import Housekeeping, make_celery
    from mmm_dash.builder.wiring import catalog_for

    settings, step, calls = team
    worker_catalog = _worker_catalog(settings, step)
    housekeeping = Housekeeping(worker_catalog)
    housekeeping.run_once()
    replica = catalog_for(settings)
    key, entry = replica.key(replica.entry("m")), worker_catalog.entry("m")
    replica.book.request(key, "m", entry.path)
    # A worker claimed it and was killed: its lease is never refreshed, and its task is gone.
    assert worker_catalog.book.claim(key, "dead-worker", "m", entry.path) is not None
    assert replica.state("m").status is BundleStatus.BUILDING
    assert _wait_for(lambda: replica.state("m").status is BundleStatus.QUEUED, 10)

    app = make_celery(settings, catalog_factory=lambda: worker_catalog)
    worker_catalog.queue._app = app
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        housekeeping.run_once()  # a live worker's housekeeping sends the build again
        assert _wait_for(lambda: replica.state("m").status is BundleStatus.READY), replica.state("m")
    assert calls == ["m"]
    with engine_for(settings.DATABASE_URL).connect() as conn:
        assert conn.execute(sa.select(bundle_builds.c.attempts)).scalar() == 2


def test_twenty_simultaneous_claims_on_postgres_give_one_lease(team):
    settings, _step, _calls = team
    book = SqlBuildBook(engine_for(settings.DATABASE_URL), lease_seconds=60)
    book.request("k", "m", "/models/m.binpb")
    barrier = threading.Barrier(20)

    def claim(i: int):
        barrier.wait()
        return book.claim("k", f"claimer-{i}", "m", "/models/m.binpb")

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(claim, range(20)))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1 and book.record("k").owner == winners[0].owner and book.record("k").attempts == 1


def test_a_page_on_replica_a_requests_the_build_and_replica_b_shows_its_progress(team, tmp_path):
    """Two apps on one database and broker stand in for two replicas: the page on A records the
    request and sends one task; B's ordinary poll callback reads the progress a worker reports."""
    from mmm_dash.builder.tasks import Housekeeping
    from tests.helpers import create_user, login, make_app
    from tests.integration.test_build_requests import _poll, _render

    settings, step, calls = team
    worker_catalog = _worker_catalog(settings, step)
    housekeeping = Housekeeping(worker_catalog)
    housekeeping.run_once()  # writes the manifest
    worker_catalog.book.builder_gone(housekeeping.owner)  # and the worker stops
    overrides = {
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL, "BUNDLE_STORE": "postgres", "BUILD_LEASE_SECONDS": "30",
    }  # fmt: skip
    replica_a = make_app(settings.DATABASE_URL, settings.MODEL_DIR, tmp_path / "cache-a", **overrides)
    create_user(replica_a, "viewer@example.com", "viewer-pass-123", role="viewer")
    page = _render(replica_a, "/", model="m")
    assert "Analysing m" in page and "No build worker has reported" in page  # no worker alive yet
    import redis

    assert redis.Redis.from_url(settings.CELERY_BROKER_URL).llen("bundles") == 1  # one task waits

    replica_b = make_app(settings.DATABASE_URL, settings.MODEL_DIR, tmp_path / "cache-b", **overrides)
    client = replica_b.server.test_client()
    login(client, "viewer@example.com", "viewer-pass-123")
    key = worker_catalog.key(worker_catalog.entry("m"))
    assert worker_catalog.book.claim(key, "worker-1", "m", worker_catalog.entry("m").path) is not None
    worker_catalog.book.refresh(key, "worker-1", "fitting curves", 0.4)
    body = _poll(client, replica_b, "m").get_json()["response"]
    assert body["build-progress"]["value"] == 40 and body["build-message"]["children"] == "fitting curves"
    assert calls == []  # no web request built anything
