"""The builder: one loop per machine (per CACHE_DIR) that builds every requested bundle, one at a time.

Web requests only record that a model needs a bundle (`ModelCatalog.request_build`); this loop
picks the oldest request, claims it under a lease, runs it (by default in a child process) and,
when the attempt crashes, records the error and queues it again until the attempts are spent.

A lock file in CACHE_DIR makes sure at most one builder runs at a time, however many processes
start one: each gunicorn worker starts a standby `BackgroundBuilder`, the one holding the lock
builds, and another takes over if that worker exits. `python -m mmm_dash builder` runs the same
loop in its own process.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from pathlib import Path

from mmm_dash.builder.catalog import ModelCatalog
from mmm_dash.builder.runner import BuildJob, BuildRunner, SubprocessRunner
from mmm_dash.builder.state import BuildRecord, every, new_owner

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0  # how soon a new request is noticed
LOCK_RETRY_SECONDS = 5.0  # how soon a standby builder notices that the active one is gone


class MachineLock:
    """An exclusive, non-blocking lock on a file; the kernel drops it when the process ends."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def lock_path(cache_dir: Path) -> Path:
    return Path(cache_dir) / "builder.lock"


class Builder:
    """Builds requested bundles one at a time; call `run_once` in a loop (or `run`)."""

    def __init__(self, catalog: ModelCatalog, runner: BuildRunner | None = None, owner: str | None = None):
        self.catalog = catalog
        self.runner = runner or SubprocessRunner()
        self.owner = owner or new_owner()

    def run_once(self) -> bool:
        """Build the oldest waiting request, if any; True when an attempt was made."""
        book = self.catalog.book
        book.builder_seen(self.owner)
        for record in book.queued():
            attempt = new_owner()
            if book.claim(record.key, attempt, record.name, Path(record.path)) is None:
                continue  # taken by someone else, or out of attempts (now failed)
            self._attempt(record, attempt)
            return True
        return False

    def _attempt(self, record: BuildRecord, attempt: str) -> None:
        book = self.catalog.book
        job = BuildJob(self.catalog.model_dir, self.catalog.cache_dir, record.name, record.key, attempt)
        log.info("Building the bundle of %s", record.name)
        with every(POLL_SECONDS * 5, lambda: book.builder_seen(self.owner)):
            try:
                outcome = self.runner.run(job)
            except Exception as exc:  # the runner itself broke (e.g. no such executable)
                log.exception("Could not run the build of %s", record.name)
                outcome_error = f"the build could not be started ({type(exc).__name__}: {exc})"
            else:
                outcome_error = outcome.error if not outcome.ok else "the build process ended without a result"
        after = book.record(record.key)
        if after is not None and after.owner == attempt and not after.failed:
            # The attempt did not record a result: a crash, a kill, or a lost result.
            after = book.attempt_failed(record.key, attempt, outcome_error)
            log.warning("Building %s failed: %s", record.name, outcome_error)
        if after is not None and after.failed:
            log.error("The bundle of %s failed: %s", record.name, after.error)
        elif after is None:
            log.info("The bundle of %s is ready", record.name)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                worked = self.run_once()
            except Exception:  # e.g. the cache directory vanished; keep serving, try again
                log.exception("The builder loop failed; retrying")
                worked = False
            if not worked:
                stop.wait(POLL_SECONDS)


class BackgroundBuilder:
    """A daemon thread that becomes the machine's builder when it gets the lock, and waits otherwise."""

    def __init__(self, catalog: ModelCatalog, runner: BuildRunner | None = None):
        self.builder = Builder(catalog, runner)
        self.lock = MachineLock(lock_path(catalog.cache_dir))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mmm-builder", daemon=True)

    def start(self) -> BackgroundBuilder:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.lock.acquire():
                log.info("This process builds missing bundles (lock %s)", self.lock.path)
                try:
                    self.builder.run(self._stop)
                finally:
                    self.lock.release()
            else:
                self._stop.wait(LOCK_RETRY_SECONDS)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.builder.runner.cancel()
        self._thread.join(timeout)
