"""/readyz: ready when the database and the configured services (sign-in counters' Redis, Celery broker,
bundle store) answer, within about a second each, even while no bundle is built yet; the build backlog
is reported in the details, never failed on; strangers learn only ready / not ready."""

from __future__ import annotations

import dataclasses
import os
import time

import pytest

from tests.helpers import create_user, login, make_app, silent_port

OTHER_ADDRESS = {"REMOTE_ADDR": "203.0.113.9"}  # not loopback: an anonymous prober elsewhere
CLOSED_REDIS = "redis://127.0.0.1:1/0"
REDIS_URL = os.environ.get("MMM_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
RABBITMQ_URL = os.environ.get("MMM_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")


@pytest.fixture(autouse=True)
def limiter_not_dead():
    yield
    from mmm_dash.web.extensions import limiter

    limiter._storage_dead = False  # process-wide flag; a closed-port app in a test may have set it


def unbuilt_app(tmp_path, demo_model_dir, **settings):
    """The demo model with an empty CACHE_DIR: its bundle is not built (and will not be: no builder)."""
    return make_app(f"sqlite:///{tmp_path / 'db.sqlite3'}", demo_model_dir, tmp_path / "cache", **settings)


def redis_reachable() -> bool:
    from mmm_dash.web.health import ping_redis

    try:
        ping_redis(REDIS_URL)
    except Exception:
        if os.environ.get("MMM_REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis at {REDIS_URL} is unreachable and MMM_REQUIRE_REDIS=1")
        return False
    return True


def test_ready_while_no_bundle_is_built_and_the_backlog_is_reported(tmp_path, demo_model_dir):
    app = unbuilt_app(tmp_path, demo_model_dir)
    response = app.server.test_client().get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["status"] == "ready"
    assert response.json["checks"]["database"] == "ok"
    assert response.json["checks"]["models"] == {"total": 1, "ready": 0, "failed": 0, "building": 1}
    assert "rate_limits" not in response.json["checks"]  # memory:// has nothing to reach


def test_a_backlog_that_cannot_be_read_is_reported_not_failed_on(tmp_path, demo_model_dir, monkeypatch):
    app = unbuilt_app(tmp_path, demo_model_dir)
    catalog = app.server.extensions["mmm_dash"].models

    def broken():
        raise RuntimeError("manifest unreadable")

    monkeypatch.setattr(catalog, "readiness", broken)
    response = app.server.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"]["models"] == {"error": "not available"}


def test_not_ready_when_the_sign_in_counters_redis_is_down(tmp_path, demo_model_dir):
    app = unbuilt_app(tmp_path, demo_model_dir, RATELIMIT_STORAGE_URI=CLOSED_REDIS)
    local = app.server.test_client().get("/readyz")
    assert local.status_code == 503
    assert local.json["checks"]["database"] == "ok"
    assert local.json["checks"]["rate_limits"] == "unreachable"
    assert "127.0.0.1:1" not in local.get_data(as_text=True)  # no addresses or errors, even in details

    stranger = app.server.test_client()
    stranger.environ_base.update(OTHER_ADDRESS)
    anonymous = stranger.get("/readyz")
    assert anonymous.status_code == 503 and anonymous.json == {"status": "not ready"}
    # Sign-in itself keeps working meanwhile (counters fall back to memory), and then details are shown.
    assert login(stranger, *create_user(app)).status_code == 302
    assert stranger.get("/readyz").json["checks"]["rate_limits"] == "unreachable"


def test_ready_with_a_live_redis(tmp_path, demo_model_dir):
    if not redis_reachable():
        pytest.skip(f"Redis at {REDIS_URL} unreachable")
    app = unbuilt_app(tmp_path, demo_model_dir, RATELIMIT_STORAGE_URI=REDIS_URL)
    response = app.server.test_client().get("/readyz")
    assert response.status_code == 200 and response.json["checks"]["rate_limits"] == "ok"


def test_the_bundle_store_and_build_state_are_checked_when_they_can_be(tmp_path, demo_model_dir, monkeypatch):
    """The shared (PostgreSQL) store and build book have a check(); the local diskcache ones need none."""
    app = unbuilt_app(tmp_path, demo_model_dir)
    catalog = app.server.extensions["mmm_dash"].models
    client = app.server.test_client()
    monkeypatch.setattr(catalog.store, "check", lambda: None, raising=False)
    monkeypatch.setattr(catalog.book, "check", lambda: None, raising=False)
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"]["bundle_store"] == response.json["checks"]["build_state"] == "ok"

    def unreachable():
        raise ConnectionError("store down")

    monkeypatch.setattr(catalog.store, "check", unreachable)
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json["checks"]["bundle_store"] == "unreachable"
    assert response.json["checks"]["build_state"] == "ok"


# -- the probes themselves ---------------------------------------------------------------------------
def test_a_hung_redis_fails_the_probe_within_about_a_second():
    from mmm_dash.web.health import PROBE_TIMEOUT, ping_broker, ping_redis

    with silent_port() as port:
        for probe in (ping_redis, ping_broker):
            started = time.monotonic()
            with pytest.raises(Exception):  # noqa: B017  (the redis client's timeout error)
                probe(f"redis://127.0.0.1:{port}/0")
            assert time.monotonic() - started < PROBE_TIMEOUT * 2.5


def test_the_broker_probe_speaks_redis_and_amqp():
    from mmm_dash.web.health import ping_broker

    with pytest.raises(Exception):  # noqa: B017
        ping_broker(CLOSED_REDIS)
    with pytest.raises(Exception):  # noqa: B017
        ping_broker("amqp://guest:guest@127.0.0.1:1//")
    if redis_reachable():
        ping_broker(REDIS_URL)
    try:
        ping_broker(RABBITMQ_URL)
    except Exception as exc:
        pytest.skip(f"no RabbitMQ at {RABBITMQ_URL}: {exc}")


def test_the_broker_is_checked_when_celery_is_configured(tmp_path, demo_model_dir):
    """With CELERY_BROKER_URL set, a replica whose broker is down cannot queue builds: not ready. (The
    setting is swapped in after start-up: what distributed mode does to the catalog is not tested here.)"""
    app = unbuilt_app(tmp_path, demo_model_dir)
    state = app.server.extensions["mmm_dash"]
    client = app.server.test_client()
    state.settings = dataclasses.replace(state.settings, CELERY_BROKER_URL=CLOSED_REDIS)
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json["checks"]["broker"] == "unreachable"
    if redis_reachable():
        state.settings = dataclasses.replace(state.settings, CELERY_BROKER_URL=REDIS_URL)
        response = client.get("/readyz")
        assert response.status_code == 200 and response.json["checks"]["broker"] == "ok"
