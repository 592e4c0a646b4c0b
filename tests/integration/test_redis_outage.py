"""Sign-in while the Redis behind RATELIMIT_STORAGE_URI is down: it keeps working and keeps its limits
(counted in process memory for the outage), warns once, does not wait on the dead server for every
attempt, and goes back to Redis when it answers again. No route answers 500 because of Redis."""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
import time
import uuid

import pytest

from tests.helpers import create_user, free_port, login, make_app, silent_port

CLOSED = "redis://127.0.0.1:1/0"  # nothing listens on port 1: every connection is refused at once
THROTTLE_LOG = "mmm_dash.web.auth.throttle"


@pytest.fixture(autouse=True)
def fresh_counters():
    """The sign-in counters' fallback and Flask-Limiter's "storage is dead" flag are process-wide (one
    limiter per process, as in production); start and leave each test with neither."""
    from mmm_dash.web.auth import throttle
    from mmm_dash.web.extensions import limiter

    throttle.counters.fallback.reset()
    yield
    throttle.counters.fallback.reset()
    limiter._storage_dead = False


def app_with_limits_at(uri: str, tmp_path, demo_model_dir):
    """An app whose sign-in counters live at `uri` (no bundle needed: sign-in never opens one)."""
    return make_app(
        f"sqlite:///{tmp_path / 'db.sqlite3'}", demo_model_dir, tmp_path / "cache", RATELIMIT_STORAGE_URI=uri
    )


class Collected(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture()
def throttle_warnings():
    """The throttle's warnings, from a handler on its own logger (make_app's migrations reconfigure
    the root logger's handlers, pytest's caplog among them)."""
    handler = Collected()
    logger = logging.getLogger(THROTTLE_LOG)
    logger.addHandler(handler)
    yield handler.messages
    logger.removeHandler(handler)


def test_sign_in_works_and_stays_limited_while_redis_is_down(tmp_path, demo_model_dir, throttle_warnings):
    app = app_with_limits_at(CLOSED, tmp_path, demo_model_dir)
    email, password = create_user(app)
    assert login(app.server.test_client(), email, password).status_code == 302

    guesser = app.server.test_client()
    for _ in range(5):
        assert login(guesser, email, "wrong-password").status_code == 401
    blocked = login(guesser, email, password)  # the right password, but the sixth attempt in a minute
    assert blocked.status_code == 429 and blocked.headers["Retry-After"] == "60"

    warnings = throttle_warnings
    assert len(warnings) == 1, warnings  # once per outage, not once per sign-in
    assert "does not answer" in warnings[0] and "127.0.0.1:1" in warnings[0]


def test_registration_keeps_its_limit_and_never_500s_while_redis_is_down(tmp_path, demo_model_dir):
    """/register is limited by Flask-Limiter's decorator (10 per hour and address): its in-memory fallback."""
    from tests.helpers import csrf_token

    app = app_with_limits_at(CLOSED, tmp_path, demo_model_dir)
    client = app.server.test_client()
    statuses = []
    for i in range(11):
        data = {
            "email": f"new-{i}-{uuid.uuid4().hex[:6]}@example.com",
            "password": "a long enough passphrase 42",
            "confirm": "a long enough passphrase 42",
            "csrf_token": csrf_token(client, "/register"),
        }
        statuses.append(client.post("/register", data=data).status_code)
    assert statuses == [302] * 10 + [429], statuses
    assert client.get("/login").status_code == 200


def test_a_hung_redis_costs_one_timeout_per_retry_interval_not_one_per_sign_in(
    tmp_path, demo_model_dir, throttle_warnings
):
    """A server that accepts and never answers: about a second (the client's timeout, set by the limiter)
    for the attempt that notices, then memory until the retry interval has passed."""
    from mmm_dash.web.auth import throttle

    with silent_port() as port:
        app_with_limits_at(f"redis://127.0.0.1:{port}/0", tmp_path, demo_model_dir)
        counters = throttle.Counters(retry_seconds=2.0)
        key = f"mmm-login/test/{uuid.uuid4().hex}"

        first: list = []

        def attempt():
            count = counters.incr(key, 60)
            first.append((time.monotonic(), count))

        probe = threading.Thread(target=attempt)
        started = time.monotonic()
        probe.start()
        probe.join(10)  # without a socket timeout this would hang for the OS's TCP timeouts
        assert not probe.is_alive() and first, "the first attempt did not come back within 10 s"
        noticed = first[0][0] - started
        assert 0.5 <= noticed <= 3.5, noticed
        assert first[0][1] == 1 and counters.degraded

        started = time.monotonic()
        counts = [counters.incr(key, 60) for _ in range(20)]
        assert time.monotonic() - started < 0.5  # memory only: nobody waits on the hung server
        assert counts == list(range(2, 22))

        time.sleep(2.0)  # the retry interval has passed: the next attempt tries Redis again (and waits)
        started = time.monotonic()
        assert counters.incr(key, 60) == 22
        assert time.monotonic() - started >= 0.5 and counters.degraded
    assert len(throttle_warnings) == 1, throttle_warnings


@pytest.fixture()
def redis_server(tmp_path):
    """A throw-away redis-server on a free loopback port that the test may stop and start again."""
    binary = shutil.which("redis-server")
    if not binary:
        pytest.skip("redis-server is not installed (.ci/run installs it)")
    import redis

    port = free_port()
    procs: list[subprocess.Popen] = []

    def start():
        proc = subprocess.Popen(
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(tmp_path),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(proc)
        client = redis.Redis(port=port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return client
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start within 10 s")

    def stop():
        proc = procs[-1]
        proc.terminate()
        proc.wait(10)

    yield port, start, stop
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_counters_go_back_to_redis_when_it_answers_again(
    tmp_path, demo_model_dir, redis_server, throttle_warnings, monkeypatch
):
    from mmm_dash.web.auth import throttle

    port, start, stop = redis_server
    server = start()
    app = app_with_limits_at(f"redis://127.0.0.1:{port}/0", tmp_path, demo_model_dir)
    email, _ = create_user(app)
    guesser = app.server.test_client()
    pair = f"LIMITS:mmm-login/pair/{throttle.account_key(email)}/127.0.0.1"

    assert login(guesser, email, "wrong-password").status_code == 401
    assert int(server.get(pair)) == 1  # counted in Redis

    stop()
    for _ in range(2):
        assert login(guesser, email, "wrong-password").status_code == 401  # counted in memory
    assert throttle.counters.degraded

    server = start()  # a fresh Redis (no persistence): its counters start from nothing
    monkeypatch.setattr(throttle.counters, "retry_seconds", 0.0)
    monkeypatch.setattr(throttle.counters, "_next_try", 0.0)
    assert login(guesser, email, "wrong-password").status_code == 401
    assert not throttle.counters.degraded
    assert int(server.get(pair)) == 1  # back in Redis

    warnings = throttle_warnings
    assert len(warnings) == 2 and "does not answer" in warnings[0] and "answers again" in warnings[1], warnings
