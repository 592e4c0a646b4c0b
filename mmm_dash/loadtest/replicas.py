"""Web replicas for the load benchmark: gunicorn processes on free loopback ports, each in its own
process group (stopped as a group, never by name), sharing this environment's database, models,
bundles and SECRET_KEY; and the temporary accounts the simulated analysts sign in with."""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

STARTUP_SECONDS = 120
STOP_SECONDS = 30
ACCOUNT_PREFIX = "loadtest-"
ACCOUNT_DOMAIN = "example.com"  # reserved for examples (RFC 2606): never a real person's address


class LoadTestError(RuntimeError):
    """A reason, in one sentence, why the load test cannot run."""


@dataclasses.dataclass
class Replica:
    url: str
    process: subprocess.Popen
    log: Path


def loopback_url(url: str) -> str:
    """`url` without a trailing slash, when it names a loopback host; LoadTestError otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LoadTestError(f"{url!r} is not an http(s) URL.")
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 80)}
    except socket.gaierror as exc:
        raise LoadTestError(f"{parts.hostname!r} does not resolve: {exc}.") from None
    if not addresses or not all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses):
        raise LoadTestError(f"Refusing {url}: the load test only targets loopback hosts (127.0.0.0/8, ::1).")
    return url.rstrip("/")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_directory() -> Path:
    """Where `app.py` (the WSGI entry, `gunicorn app:server`) lives: next to this package."""
    import mmm_dash

    root = Path(mmm_dash.__file__).resolve().parent.parent
    if not (root / "app.py").is_file():
        raise LoadTestError(f"No app.py next to the mmm_dash package in {root}: run from a source checkout.")
    return root


def replica_environment(settings, ratelimit_uri: str) -> dict[str, str]:
    """The replicas' settings: this environment's, with what every replica must share made explicit."""
    env = {k: v for k, v in os.environ.items() if k != "PROXY_HOPS"}
    env.update(
        DATABASE_URL=settings.DATABASE_URL,
        MODEL_DIR=str(settings.MODEL_DIR),
        CACHE_DIR=str(settings.CACHE_DIR),
        INSTANCE_DIR=str(settings.INSTANCE_DIR),
        SECRET_KEY=settings.SECRET_KEY,  # resolved here, so both replicas sign cookies alike
        BACKGROUND_BUNDLES="0",  # a benchmark of serving, not of building
        RATELIMIT_STORAGE_URI=ratelimit_uri,
        TRUSTED_PROXY_COUNT="1",  # each simulated user's X-Forwarded-For is its client address
        # Loopback has no TLS: production's Secure cookies would never come back from the client.
        ENVIRONMENT="development",
        TF_CPP_MIN_LOG_LEVEL="3",
    )
    return env


def start_replicas(
    count: int,
    env: dict[str, str],
    log_dir: Path,
    workers: int,
    threads: int,
    keepalive: int,
    timeout: float = STARTUP_SECONDS,
) -> list[Replica]:
    """`count` gunicorn replicas, each answering /healthz, or LoadTestError (those started are stopped).

    `keepalive` must outlast the users' think time: with gunicorn's default of 2 s a user's next
    request after a 2-3 s pause races the server closing the idle connection ("connection closed").
    Users here stand for a load balancer's connections, for which gunicorn's docs advise a longer one."""
    gunicorn = [sys.executable, "-m", "gunicorn", "app:server", "--chdir", str(app_directory())]
    gunicorn += ["--workers", str(workers), "--threads", str(threads), "--timeout", "60"]
    gunicorn += ["--keep-alive", str(keepalive)]
    replicas: list[Replica] = []
    try:
        for n in range(count):
            port = free_port()
            log = log_dir / f"replica-{n}.log"
            with open(log, "wb") as out:
                process = subprocess.Popen(
                    gunicorn + ["--bind", f"127.0.0.1:{port}"],
                    cwd=app_directory(),
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group: stopped as a whole, by its id
                )
            replicas.append(Replica(f"http://127.0.0.1:{port}", process, log))
        deadline = time.monotonic() + timeout
        for replica in replicas:
            wait_healthy(replica, deadline)
    except BaseException:
        stop_replicas(replicas)
        raise
    return replicas


def wait_healthy(replica: Replica, deadline: float) -> None:
    while time.monotonic() < deadline:
        if replica.process.poll() is not None:
            raise LoadTestError(f"replica {replica.url} exited ({replica.process.returncode}):\n{log_tail(replica)}")
        try:
            with urllib.request.urlopen(replica.url + "/healthz", timeout=5) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass  # not listening yet, or its workers still importing
        time.sleep(0.3)
    raise LoadTestError(f"replica {replica.url} did not answer /healthz in time:\n{log_tail(replica)}")


def log_tail(replica: Replica, lines: int = 25) -> str:
    try:
        return "\n".join(replica.log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop_replicas(replicas: list[Replica]) -> None:
    """SIGTERM to each replica's process group (gunicorn's master and its workers), SIGKILL if it lingers."""
    for replica in replicas:
        if replica.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(replica.process.pid, signal.SIGTERM)
    for replica in replicas:
        try:
            replica.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(replica.process.pid, signal.SIGKILL)
            replica.process.wait()
        with contextlib.suppress(ProcessLookupError):  # a worker that outlived its master
            os.killpg(replica.process.pid, signal.SIGKILL)


# -- temporary accounts ------------------------------------------------------------------------
def account_emails(run_id: str, count: int) -> list[str]:
    return [f"{ACCOUNT_PREFIX}{run_id}-{n}@{ACCOUNT_DOMAIN}" for n in range(count)]


@contextlib.contextmanager
def temporary_accounts(server, run_id: str, count: int, password: str) -> Iterator[list[str]]:
    """`count` analyst accounts for this run (one per simulated user, as a team has), removed afterwards
    with anything they saved. One bcrypt hash serves them all: fifty hashes would take ten seconds."""
    from sqlalchemy import delete, select
    from sqlalchemy.exc import SQLAlchemyError

    from mmm_dash.web.auth.models import Role, User
    from mmm_dash.web.auth.passwords import hash_password
    from mmm_dash.web.extensions import db
    from mmm_dash.web.scenarios.models import SavedScenario

    emails = account_emails(run_id, count)
    with server.app_context():
        try:
            digest = hash_password(password)
            db.session.add_all(
                User(email=e, password_hash=digest, role=Role.ANALYST.value, active=True) for e in emails
            )
            db.session.commit()
        except SQLAlchemyError as exc:
            db.session.rollback()
            first = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise LoadTestError(
                f"cannot create the load-test accounts ({first}); "
                "is the database migrated (`python -m mmm_dash init-db`)?"
            ) from None
    try:
        yield emails
    finally:
        with server.app_context():
            pattern = f"{ACCOUNT_PREFIX}{run_id}-%@{ACCOUNT_DOMAIN}"
            ids = select(User.id).where(User.email.like(pattern))
            db.session.execute(delete(SavedScenario).where(SavedScenario.user_id.in_(ids)))
            db.session.execute(delete(User).where(User.email.like(pattern)))
            db.session.commit()
            db.session.remove()
