"""The committed deploy/nginx.conf in front of two gunicorn replicas on loopback (where nginx is installed):
requests are spread over both, a browser signs in through it (the Origin check sees the host with its
port) and stays signed in on either replica, and a forged X-Forwarded-For does not buy fresh sign-in
attempts. Two changes to the file, both about Docker rather than the proxying: `web:8050 resolve` (Docker's
DNS, nginx >= 1.27.3) becomes the two loopback replicas, and `listen 80` a free loopback port."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
import requests

from tests.helpers import ROOT, app_process_env, create_user, free_port, make_app, requests_proof

REDIS_URL = os.environ.get("MMM_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)


def _redis_or_skip():
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        client.ping()
        return client
    except redis.RedisError:
        if os.environ.get("MMM_REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis at {REDIS_URL} is unreachable and MMM_REQUIRE_REDIS=1")
        pytest.skip(f"Redis at {REDIS_URL} unreachable")


def _replica(name: str, port: int, env: dict, tmp_path) -> tuple[subprocess.Popen, object]:
    log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "app:server", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--threads", "4", "--access-logfile", "-", "--access-logformat", f"{name} %(r)s %(s)s"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    return proc, log


def _wait_healthy(url: str, proc: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{url} exited with {proc.returncode}")
        try:
            if requests.get(url, timeout=5).ok:
                return
        except requests.RequestException:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def _nginx_conf(tmp_path, front: int, replicas: list[int]) -> str:
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    site, swapped = re.subn(
        r"server web:8050 resolve ([^;]*);",
        lambda m: "\n".join(f"server 127.0.0.1:{port} {m.group(1)};" for port in replicas),
        site,
    )
    assert swapped == 1 and site.count("listen 80;") == 1
    (tmp_path / "site.conf").write_text(site.replace("listen 80;", f"listen 127.0.0.1:{front};"))
    main = tmp_path / "nginx.conf"
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temp = " ".join(f"{kind}_temp_path {tmp_path / kind};" for kind in kinds)
    main.write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'nginx-error.log'};\nworker_processes 1;\n"
        f"daemon off;\nevents {{ worker_connections 128; }}\n"
        f"http {{ access_log off; {temp} include {tmp_path / 'site.conf'}; }}\n"
    )
    return str(main)


def _sign_in_form(session: requests.Session, base: str) -> str:
    page = session.get(base + "/login", timeout=10).text
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_nginx_config_in_front_of_two_replicas(tmp_path, demo_model_dir, demo_cache_dir):
    if not NGINX:
        if os.environ.get("MMM_REQUIRE_NGINX") == "1":
            pytest.fail("nginx is not installed and MMM_REQUIRE_NGINX=1")
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    redis_client = _redis_or_skip()
    redis_client.flushdb()  # a database for tests only: sign-in counters of earlier runs go

    database_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    email, password = create_user(make_app(database_url, demo_model_dir, demo_cache_dir))
    env = app_process_env(
        tmp_path, database_url, demo_model_dir, demo_cache_dir, RATELIMIT_STORAGE_URI=REDIS_URL, TRUSTED_PROXY_COUNT="1"
    )
    ports, front = [free_port(), free_port()], free_port()
    conf = _nginx_conf(tmp_path, front, ports)
    checked = subprocess.run([NGINX, "-t", "-c", conf, "-p", str(tmp_path)], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr

    started = [_replica(f"web{i}", port, env, tmp_path) for i, port in enumerate(ports)]
    proxy = subprocess.Popen([NGINX, "-c", conf, "-p", str(tmp_path)], start_new_session=True)
    base = f"http://127.0.0.1:{front}"
    try:
        for (proc, _log), port in zip(started, ports, strict=True):
            _wait_healthy(f"http://127.0.0.1:{port}/healthz", proc)
        _wait_healthy(base + "/nginx-health", proxy, 20)

        browser = requests.Session()
        origin = {"Origin": base}  # what a browser sends with a form post: scheme, host and port
        data = {"email": email, "password": password, "csrf_token": _sign_in_form(browser, base)}
        signed_in = browser.post(base + "/login", data=data, headers=origin, allow_redirects=False, timeout=10)
        assert signed_in.status_code == 302, signed_in.text[:500]
        assert [browser.get(base + "/_dash-layout", timeout=20).status_code for _ in range(6)] == [200] * 6

        guesser, statuses = requests.Session(), []
        for i in range(6):  # each attempt claims to come from somewhere new
            data = {"email": email, "password": f"wrong-{i}", "csrf_token": _sign_in_form(guesser, base)}
            forged = {**origin, "X-Forwarded-For": f"198.51.100.{i}"}
            data |= requests_proof(guesser, base, email, forged)  # as the login page's script posts
            response = guesser.post(base + "/login", data=data, headers=forged, allow_redirects=False, timeout=10)
            statuses.append(response.status_code)
        assert statuses == [401] * 5 + [429]
        clients = {key.decode() for key in redis_client.keys("LIMITS:mmm-login/client/*")}
        assert clients == {"LIMITS:mmm-login/client/127.0.0.1"}  # the proxy's view of the client, not the header's
    finally:
        os.kill(proxy.pid, signal.SIGQUIT)  # nginx's graceful stop, to its master by PID
        proxy.wait(20)
        for proc, log in started:
            proc.terminate()
            proc.wait(30)
            log.close()
        redis_client.flushdb()

    layouts = Counter(
        line.split()[0] for i in range(2) for line in (tmp_path / f"web{i}.log").read_text().splitlines()
        if re.match(r"web\d GET /_dash-layout ", line)
    )  # fmt: skip
    assert layouts["web0"] >= 1 and layouts["web1"] >= 1 and sum(layouts.values()) == 6, layouts


def test_slow_clients_at_nginx_do_not_starve_gunicorn(tmp_path, demo_model_dir, demo_cache_dir):
    """Slowloris through the committed nginx.conf: 8 sockets dribbling a request header never reach
    gunicorn (nginx reads whole requests first), so /healthz keeps answering through the proxy."""
    import socket

    if not NGINX:
        if os.environ.get("MMM_REQUIRE_NGINX") == "1":
            pytest.fail("nginx is not installed and MMM_REQUIRE_NGINX=1")
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "client_header_timeout 10s;" in site and "client_body_timeout 10s;" in site
    database_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    make_app(database_url, demo_model_dir, demo_cache_dir)
    env = app_process_env(tmp_path, database_url, demo_model_dir, demo_cache_dir, TRUSTED_PROXY_COUNT="1")
    port, front = free_port(), free_port()
    conf = _nginx_conf(tmp_path, front, [port])
    proc, log = _replica("web0", port, env, tmp_path)
    proxy = subprocess.Popen([NGINX, "-c", conf, "-p", str(tmp_path)], start_new_session=True)
    base = f"http://127.0.0.1:{front}"
    slow: list[socket.socket] = []
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/healthz", proc)
        _wait_healthy(base + "/nginx-health", proxy, 20)
        for _ in range(8):  # more slow clients than gunicorn has threads (4)
            s = socket.create_connection(("127.0.0.1", front), timeout=5)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            slow.append(s)
        answered = []
        for i in range(4):
            for s in slow:
                s.sendall(f"X-Slow-{i}: a\r\n".encode())  # keep dribbling, never finish the header
            started = time.monotonic()
            response = requests.get(base + "/healthz", timeout=5)
            answered.append((response.status_code, time.monotonic() - started < 2))
            time.sleep(0.5)
        assert answered == [(200, True)] * 4
    finally:
        for s in slow:
            s.close()
        os.kill(proxy.pid, signal.SIGQUIT)
        proxy.wait(20)
        proc.terminate()
        proc.wait(30)
        log.close()
