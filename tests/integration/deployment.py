"""A team deployment made of real processes on loopback, for the end-to-end tests: a private
redis-server, gunicorn replicas and Celery workers on one fresh PostgreSQL database.

Every process runs in its own process group (so a worker and its build children die together) with
its output in a log file; only those groups are ever signalled. Every wait is bounded in time.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import requests
import sqlalchemy as sa

from tests.helpers import ROOT, SECRET

T = TypeVar("T")
START_SECONDS = 90  # a replica or worker imports the app (Dash, pandas, Celery) on a busy 2-core machine
LOG_TAIL = 6000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check: Callable[[], T], timeout: float, what: str, interval: float = 0.2) -> T:
    """The first truthy value of `check()`, or AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class Process:
    """One command in its own process group (start_new_session), output appended to `log_path`."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path, cwd: Path = ROOT):
        self.name, self.argv, self.env, self.log_path, self.cwd = name, argv, env, log_path, cwd
        self.proc: subprocess.Popen | None = None
        self._log = None

    def start(self) -> Process:
        assert self.proc is None or self._reaped(), f"{self.name} was started and not stopped"
        self._log = open(self.log_path, "ab")  # noqa: SIM115 (closed when the process is reaped)
        self.proc = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the pgid is the leader's pid
        )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def _reaped(self) -> bool:
        return self.proc is None or self.proc.returncode is not None

    def _exited(self) -> bool:
        """True once the leader has exited. It is left unreaped (a zombie), so its pid, which is the
        group's id, cannot be given to anyone else's process while this object may still signal it."""
        if self._reaped():
            return True
        return os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None

    def running(self) -> bool:
        return not self._exited()

    def _signal_group(self, sig: int) -> None:
        if self._reaped():  # never signal a group id that may since have been reused
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, sig)

    def kill(self) -> None:
        """SIGKILL to the whole group: the process and its children die at once, nothing is cleaned up."""
        self._signal_group(signal.SIGKILL)
        self._reap()

    def terminate(self) -> None:
        """SIGTERM to the group, without waiting (`stop` waits)."""
        if self.running():
            self._signal_group(signal.SIGTERM)

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM to the group; SIGKILL to what is left of it once the leader exits or after `timeout` s."""
        if self.running():
            self._signal_group(signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while self.running() and time.monotonic() < deadline:
                time.sleep(0.05)
        self._signal_group(signal.SIGKILL)  # e.g. a build child left behind by its worker
        self._reap()

    def _reap(self) -> None:
        if self.proc is not None:
            self.proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def check_alive(self) -> None:
        if self.proc is not None and self._exited():
            raise AssertionError(f"{self.name} exited:\n{self.log_text()[-LOG_TAIL:]}")


def redis_server_binary() -> str | None:
    return shutil.which("redis-server")


class RedisServer(Process):
    """A redis-server of the test's own (no persistence), so it can be stopped and started again."""

    def __init__(self, port: int, directory: Path):
        directory.mkdir(parents=True, exist_ok=True)
        argv = [
            redis_server_binary() or "redis-server",
            "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(directory), "--daemonize", "no",
        ]  # fmt: skip
        super().__init__(f"redis-server:{port}", argv, dict(os.environ), directory / "redis.log", cwd=directory)
        self.port = port

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def ping(self) -> bool:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
        try:
            return bool(client.ping())  # one try: the client's default retries take seconds when it is down
        except redis.RedisError:
            return False
        finally:
            client.close()

    def start(self) -> RedisServer:
        super().start()

        def up():
            self.check_alive()
            return self.ping()

        try:
            wait_for(up, 20, f"redis-server on port {self.port}", interval=0.05)
        except BaseException:
            print(self.log_text()[-LOG_TAIL:])
            Process.stop(self)
            raise
        return self

    def stop(self, timeout: float = 10) -> None:
        super().stop(timeout)
        wait_for(lambda: not self.ping(), 5, "redis-server to stop answering")


class Deployment:
    """Replicas and workers sharing one database, one SECRET_KEY and the test's redis-server."""

    def __init__(self, root: Path, database_url: str, redis: RedisServer, model_dir: Path, extra: dict[str, str]):
        self.root, self.database_url, self.redis, self.model_dir = root, database_url, redis, model_dir
        self.extra = extra  # settings and variables every process gets (e.g. BUILD_LEASE_SECONDS)
        self.replicas: dict[str, tuple[Process, str]] = {}
        self.workers: list[Process] = []
        self.engine = sa.create_engine(database_url, pool_pre_ping=True)
        self.fake_log: Path | None = None  # where the fake build step writes its lines, when it is used
        self.cookie = ""  # a session cookie the tests share

    # -- processes ---------------------------------------------------------------------------
    def env(self, role: str, **more: str) -> dict[str, str]:
        """The environment of one process: shared settings, its own CACHE_DIR and INSTANCE_DIR."""
        own = self.root / role
        own.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MMM_", "BUILD_", "CELERY_"))}
        env.update(
            PYTHONPATH=str(ROOT),  # this checkout's package and tests, whatever is installed in the venv
            DATABASE_URL=self.database_url,
            SECRET_KEY=SECRET,
            CELERY_BROKER_URL=self.redis.url(1),
            RATELIMIT_STORAGE_URI=self.redis.url(0),
            BUNDLE_STORE="postgres",
            MODEL_DIR=str(self.model_dir),
            CACHE_DIR=str(own / "cache"),
            INSTANCE_DIR=str(own / "instance"),
            ENVIRONMENT="development",  # production sets Secure cookies, which a client sends over https only
            TF_CPP_MIN_LOG_LEVEL="2",
        )
        env.update(self.extra)
        env.update(more)
        return env

    def start_replica(self, name: str) -> str:
        """A gunicorn replica (1 worker x 4 threads) on a free port; returns its base URL once healthy."""
        port = free_port()
        argv = [
            sys.executable, "-m", "gunicorn", "app:server", "--bind", f"127.0.0.1:{port}",
            "--workers", "1", "--threads", "4", "--timeout", "60", "--graceful-timeout", "5",
        ]  # fmt: skip
        proc = Process(f"replica {name}", argv, self.env(f"replica-{name}"), self.root / f"replica-{name}.log")
        base = f"http://127.0.0.1:{port}"
        self.replicas[name] = (proc.start(), base)
        return base

    def wait_replica(self, name: str) -> str:
        proc, base = self.replicas[name]

        def healthy():
            proc.check_alive()
            try:
                return requests.get(base + "/healthz", timeout=5).ok
            except requests.RequestException:
                return False

        wait_for(healthy, START_SECONDS, f"replica {name} to answer /healthz", interval=0.3)
        return base

    def base(self, name: str) -> str:
        return self.replicas[name][1]

    def start_worker(self, **more: str) -> Process:
        """`python -m mmm_dash worker`; returns once its housekeeping has said it is alive in the database."""
        n = len(self.workers) + 1
        proc = Process(
            f"worker {n}",
            [sys.executable, "-m", "mmm_dash", "worker", "--loglevel", "INFO"],
            self.env(f"worker-{n}", **more),
            self.root / f"worker-{n}.log",
        )
        self.workers.append(proc.start())
        return proc

    def wait_worker(self, proc: Process) -> None:
        def seen():
            proc.check_alive()
            with self.engine.connect() as conn:
                owners = conn.execute(sa.text("SELECT owner FROM build_workers")).scalars().all()
            return any(re.search(rf":{proc.pid}:", owner) for owner in owners)

        wait_for(seen, START_SECONDS, f"{proc.name} to report in build_workers", interval=0.3)

    @property
    def worker(self) -> Process:
        return self.workers[-1]

    def processes(self) -> list[Process]:
        return [self.redis] + [p for p, _b in self.replicas.values()] + self.workers

    def stop(self) -> None:
        started = [p for p, _b in self.replicas.values()] + self.workers
        for proc in started:  # all at once: each takes a few seconds to shut down
            proc.terminate()
        for proc in started:
            proc.stop()
        if self.redis.running():
            self.redis.stop()
        self.engine.dispose()

    def logs(self, since: dict[str, int] | None = None) -> str:
        """Every process's log (from the offsets in `since`), the tail of each, for a failure report."""
        parts = []
        for proc in self.processes():
            text = proc.log_text()
            start = (since or {}).get(str(proc.log_path), 0)
            parts.append(f"----- {proc.name} ({proc.log_path}) -----\n{text[start:][-LOG_TAIL:]}")
        return "\n".join(parts)

    def log_offsets(self) -> dict[str, int]:
        return {str(p.log_path): len(p.log_text()) for p in self.processes()}

    # -- the shared state, as a test reads it ---------------------------------------------------
    def build_row(self, name: str) -> dict | None:
        """The newest `bundle_builds` row of model `name`."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.text("SELECT * FROM bundle_builds WHERE name = :n ORDER BY requested_at DESC LIMIT 1"), {"n": name}
            ).first()
        return dict(row._mapping) if row else None

    def manifest_names(self) -> list[str]:
        with self.engine.connect() as conn:
            return sorted(conn.execute(sa.text("SELECT name FROM model_manifest")).scalars())

    def manifest_key(self, name: str) -> str:
        from mmm_dash.builder.keys import bundle_key

        with self.engine.connect() as conn:
            sha = conn.execute(sa.text("SELECT sha256 FROM model_manifest WHERE name = :n"), {"n": name}).scalar_one()
        return bundle_key(sha)
