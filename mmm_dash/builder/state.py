"""Build state per bundle key: requested, claimed under a lease, progress, attempts and failure.

Kept in a small diskcache beside the bundles, so every process on the machine (web workers, the
builder, `precompute`) sees the same state; each change is a transaction, so two builders cannot
both claim one build. A lease is a timestamp that the building process keeps pushing forward (on
every progress step and on a timer); when a builder dies its lease runs out and the build is
queued again, at most MAX_ATTEMPTS times in all, then the model is failed with the last error.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import diskcache

MAX_ATTEMPTS = 3
LEASE_SECONDS = 60.0  # a build whose lease is older than this has stopped and may be taken over
BUILDER_SEEN_SECONDS = 20.0  # a builder that has not said "I am here" for this long is gone


def new_owner() -> str:
    """A name for one build attempt (or one builder), unique across processes and machines."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclasses.dataclass
class BuildRecord:
    key: str
    name: str
    path: str
    requested_at: float
    attempts: int = 0
    owner: str | None = None
    lease_until: float = 0.0
    message: str = ""
    progress: float = 0.0
    error: str = ""  # why the last attempt failed
    failed: bool = False  # no more attempts: `error` is final

    def leased(self, now: float) -> bool:
        return self.owner is not None and self.lease_until > now


class BuildBook:
    """Requests, leases, progress and failures of bundle builds for one CACHE_DIR."""

    def __init__(
        self,
        cache_dir: Path,
        *,
        max_attempts: int = MAX_ATTEMPTS,
        lease_seconds: float = LEASE_SECONDS,
        clock: Callable[[], float] = time.time,
    ):
        self.directory = Path(cache_dir) / "builds"
        self.max_attempts = max_attempts
        self.lease_seconds = lease_seconds
        self.clock = clock
        self._cache: diskcache.Cache | None = None

    @property
    def cache(self) -> diskcache.Cache:
        if self._cache is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._cache = diskcache.Cache(str(self.directory))
        return self._cache

    # -- reading ----------------------------------------------------------------------------
    def record(self, key: str) -> BuildRecord | None:
        raw = self.cache.get(("build", key))
        return BuildRecord(**raw) if raw else None

    def queued(self) -> list[BuildRecord]:
        """Requested builds that nobody holds and that may still be tried, oldest request first."""
        now = self.clock()
        records = [self.record(k[1]) for k in list(self.cache.iterkeys()) if isinstance(k, tuple) and k[0] == "build"]
        waiting = [r for r in records if r is not None and not r.failed and not r.leased(now)]
        return sorted(waiting, key=lambda r: r.requested_at)

    # -- changing ---------------------------------------------------------------------------
    def _save(self, record: BuildRecord) -> None:
        self.cache.set(("build", record.key), dataclasses.asdict(record))

    def request(self, key: str, name: str, path: Path) -> BuildRecord:
        """Record that `key` needs a bundle; a second request changes nothing."""
        with self.cache.transact():
            record = self.record(key)
            if record is None:
                record = BuildRecord(key, name, str(path), requested_at=self.clock())
                self._save(record)
        return record

    def claim(self, key: str, owner: str, name: str, path: Path) -> BuildRecord | None:
        """Take the lease for one attempt, or None: someone else holds it, or no attempt is left
        (then the build is failed with the last error)."""
        now = self.clock()
        with self.cache.transact():
            record = self.record(key) or BuildRecord(key, name, str(path), requested_at=now)
            if record.failed or record.leased(now):
                return None
            if record.attempts >= self.max_attempts:
                record.failed, record.owner = True, None
                record.error = gave_up(record.attempts, record.error or "the build stopped responding")
                self._save(record)
                return None
            if record.owner is not None and not record.error:
                record.error = "the previous attempt stopped responding"
            record.attempts += 1
            record.owner, record.lease_until = owner, now + self.lease_seconds
            record.message, record.progress = "starting the analysis", 0.0
            self._save(record)
        return record

    def refresh(self, key: str, owner: str, message: str | None = None, progress: float | None = None) -> bool:
        """Push the lease forward (and record progress); False if `owner` no longer holds it."""
        with self.cache.transact():
            record = self.record(key)
            if record is None or record.owner != owner or record.failed:
                return False
            record.lease_until = self.clock() + self.lease_seconds
            if message is not None:
                record.message = message
            if progress is not None:
                record.progress = float(progress)
            self._save(record)
        return True

    def succeed(self, key: str, owner: str) -> None:
        """The bundle is stored: the build record is no longer needed."""
        with self.cache.transact():
            record = self.record(key)
            if record is not None and record.owner == owner:
                self.cache.delete(("build", key))

    def fail(self, key: str, owner: str, message: str) -> None:
        """A failure that another attempt would repeat (a bad file): final at once."""
        with self.cache.transact():
            record = self.record(key)
            if record is None or record.owner != owner:
                return
            record.failed, record.error, record.owner = True, message, None
            self._save(record)

    def attempt_failed(self, key: str, owner: str, error: str) -> BuildRecord | None:
        """An attempt died (a crash, a kill): queue the build again, or fail it when attempts are spent."""
        with self.cache.transact():
            record = self.record(key)
            if record is None or record.owner != owner:
                return record
            record.owner, record.lease_until, record.error = None, 0.0, error
            if record.attempts >= self.max_attempts:
                record.failed = True
                record.error = gave_up(record.attempts, error)
            self._save(record)
        return record

    def forget(self, key: str) -> None:
        """Drop every trace of the build (a forced rebuild, or a request for a file that changed)."""
        self.cache.delete(("build", key))

    @contextlib.contextmanager
    def lease_kept(self, key: str, owner: str) -> Iterator[None]:
        """Keep the lease alive while a long step reports no progress."""
        with every(self.lease_seconds / 4, lambda: self.refresh(key, owner)):
            yield

    # -- the builder's presence ---------------------------------------------------------------
    def builder_seen(self, owner: str) -> None:
        """A builder says it serves this cache (it calls this at least every few seconds)."""
        self.cache.set(("builder",), owner, expire=BUILDER_SEEN_SECONDS)

    def builder_running(self) -> bool:
        """True when some builder on this machine will pick up requests."""
        return self.cache.get(("builder",)) is not None

    def check(self) -> None:
        """Raise if the build state cannot be read (readiness)."""
        self.cache.get(("builder",))


def gave_up(attempts: int, error: str) -> str:
    return f"The analysis failed {attempts} times, so it is not retried; last error: {error}"


@contextlib.contextmanager
def every(seconds: float, action: Callable[[], object]) -> Iterator[None]:
    """Run `action` every `seconds` on a daemon thread for the duration of the block."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(seconds):
            action()

    thread = threading.Thread(target=loop, name="mmm-keepalive", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=seconds + 1)
