"""Sign-in limits under real parallel requests: a thread pool against gunicorn on loopback, one
worker with in-process counters and two workers sharing Redis. Attempts are counted before the
password is checked, so of N simultaneous wrong guesses at most the limit are ever tried."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.helpers import ROOT, app_process_env, create_user, make_app, requests_proof

REDIS_URL = os.environ.get("MMM_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PARALLEL = 20
LIMIT = 5  # failed sign-ins per account and address per minute (throttle.PER_PAIR; checked below)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


@pytest.fixture()
def account(tmp_path, demo_model_dir, demo_cache_dir):
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    app = make_app(url, demo_model_dir, demo_cache_dir)
    email, password = create_user(app, email=f"target-{uuid.uuid4().hex[:8]}@example.com")
    return url, email, password


def _gunicorn(database_url, model_dir, cache_dir, tmp_path, workers: int, storage: str, threads: int = 8):
    port = _free_port()
    env = app_process_env(tmp_path, database_url, model_dir, cache_dir, RATELIMIT_STORAGE_URI=storage)
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115 (closed with the process)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "app:server", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--threads", str(threads), "--timeout", "60"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError((tmp_path / "gunicorn.log").read_text()[-3000:])
        try:
            if requests.get(base + "/healthz", timeout=10).ok:
                break
        except requests.RequestException:  # not listening yet, or a worker still importing
            time.sleep(0.5)
    else:
        proc.kill()
        raise AssertionError("gunicorn did not start within 120 s")
    return proc, base, log


def _stop(proc, log) -> None:
    proc.terminate()  # gunicorn's master, by its PID; it stops its workers
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


def _sessions_with_tokens(base: str, n: int) -> list[tuple[requests.Session, str]]:
    prepared = []
    for _ in range(n):
        session = requests.Session()
        page = session.get(base + "/login", timeout=10).text
        prepared.append((session, re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)))
    return prepared


def _parallel_guesses(base: str, email: str, n: int) -> list[int]:
    prepared = _sessions_with_tokens(base, n)
    barrier = threading.Barrier(n)

    def guess(pair):
        session, token = pair
        barrier.wait()
        data = {"email": email, "password": f"wrong-{uuid.uuid4().hex}", "csrf_token": token}
        return session.post(base + "/login", data=data, allow_redirects=False, timeout=60).status_code

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(guess, prepared))


def _assert_limit_held(statuses: list[int]) -> None:
    tried = [s for s in statuses if s != 429]
    assert set(statuses) <= {401, 429}, statuses
    assert 1 <= len(tried) <= LIMIT, f"{len(tried)} of {len(statuses)} guesses were tried: {statuses}"


def test_the_limit_here_is_the_apps():
    from mmm_dash.web.auth.throttle import PER_PAIR

    assert PER_PAIR[0] == LIMIT


def test_parallel_guesses_against_one_worker_are_bounded(account, demo_model_dir, demo_cache_dir, tmp_path):
    database_url, email, _password = account
    proc, base, log = _gunicorn(database_url, demo_model_dir, demo_cache_dir, tmp_path, 1, "memory://")
    try:
        _assert_limit_held(_parallel_guesses(base, email, PARALLEL))
    finally:
        _stop(proc, log)


def test_parallel_and_sequential_guesses_across_two_workers_share_redis(
    account, demo_model_dir, demo_cache_dir, tmp_path
):
    import redis

    if not _redis_available():
        if os.environ.get("MMM_REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis at {REDIS_URL} is unreachable and MMM_REQUIRE_REDIS=1")
        pytest.skip(f"Redis at {REDIS_URL} unreachable")

    redis.Redis.from_url(REDIS_URL).flushdb()  # a database for tests only: counters of earlier runs go
    database_url, email, _password = account
    proc, base, log = _gunicorn(database_url, demo_model_dir, demo_cache_dir, tmp_path, 2, REDIS_URL)
    try:
        _assert_limit_held(_parallel_guesses(base, email, PARALLEL))
        # sequential guesses at another account, each on a new connection (so both workers answer)
        other = f"other-{uuid.uuid4().hex[:8]}@example.com"
        statuses = []
        for session, token in _sessions_with_tokens(base, 8):  # as the login page's script posts (proof of work)
            data = {"email": other, "password": "wrong-password", "csrf_token": token}
            data |= requests_proof(session, base, other)
            statuses.append(session.post(base + "/login", data=data, allow_redirects=False, timeout=10).status_code)
        assert statuses == [401] * 5 + [429] * 3
    finally:
        _stop(proc, log)


def test_a_burst_of_sign_ins_does_not_queue_a_signed_in_users_pages(account, demo_model_dir, demo_cache_dir, tmp_path):
    """30 parallel wrong sign-ins from one address (within its 30/minute), against one worker with 4
    threads (the image's), while a signed-in user loads a page: at most SIGN_INS_AT_ONCE threads wait
    on the hashing thread, the rest are told "try again in a second", and the page is not queued
    behind them (before: every thread waited on bcrypt and the page took seconds)."""
    database_url, email, password = account
    proc, base, log = _gunicorn(database_url, demo_model_dir, demo_cache_dir, tmp_path, 1, "memory://", threads=4)
    try:
        ((user, token),) = _sessions_with_tokens(base, 1)
        form = {"email": email, "password": password, "csrf_token": token}
        signed_in = user.post(base + "/login", data=form, allow_redirects=False, timeout=30)
        assert signed_in.status_code == 302
        assert user.get(base + "/_dash-layout", timeout=30).status_code == 200  # warm

        burst = 30
        prepared = _sessions_with_tokens(base, burst)
        barrier = threading.Barrier(burst + 1)

        def guess(i_pair):
            i, (session, token) = i_pair
            barrier.wait()
            data = {"email": f"nobody-{i}@example.com", "password": "wrong-password", "csrf_token": token}
            return session.post(base + "/login", data=data, allow_redirects=False, timeout=60)

        with ThreadPoolExecutor(max_workers=burst) as pool:
            answers = pool.map(guess, enumerate(prepared))
            barrier.wait()
            time.sleep(0.3)  # the sign-ins are in first
            waits = []
            for _ in range(5):
                started = time.monotonic()
                assert user.get(base + "/_dash-layout", timeout=60).status_code == 200
                waits.append(time.monotonic() - started)
                time.sleep(0.1)
            answers = list(answers)
        assert max(waits) < 2.0, waits  # before: 11 s
        statuses = [a.status_code for a in answers]
        assert set(statuses) <= {401, 429} and 429 in statuses, statuses
        assert all("Too many sign-ins at once" in a.text for a in answers if a.status_code == 429)
    finally:
        _stop(proc, log)
