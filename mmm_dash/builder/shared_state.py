"""Build state in the shared database, for web replicas and Celery workers on several machines.

The same contract as `state.BuildBook` (the one-machine diskcache version), written as conditional
UPDATEs so that every change is atomic on PostgreSQL and SQLite alike without row locks: a claim
succeeds only for the process whose UPDATE matched an unleased row with attempts left, so a build
requested twice, from two replicas, or delivered twice by the broker, runs once. A lease is a
timestamp the building worker keeps pushing forward; a killed worker stops pushing, its lease runs
out and the build is queued again, at most `max_attempts` times, then failed with the last error.
Finished builds keep their row (`built_at`), so an operator can list what was built and when.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

import sqlalchemy as sa

from mmm_dash.builder.state import (
    BUILDER_SEEN_SECONDS,
    LEASE_SECONDS,
    MAX_ATTEMPTS,
    BuildRecord,
    every,
    gave_up,
)
from mmm_dash.builder.tables import build_workers, bundle_builds

RECORD_FIELDS = [f for f in BuildRecord.__dataclass_fields__]


class SqlBuildBook:
    """Requests, leases, progress and failures of bundle builds, in `bundle_builds`."""

    def __init__(
        self,
        engine: sa.Engine,
        *,
        max_attempts: int = MAX_ATTEMPTS,
        lease_seconds: float = LEASE_SECONDS,
        clock: Callable[[], float] = time.time,
    ):
        self.engine = engine
        self.max_attempts = max_attempts
        self.lease_seconds = lease_seconds
        self.clock = clock

    # -- reading ----------------------------------------------------------------------------
    @staticmethod
    def _as_record(row) -> BuildRecord:
        values = {name: getattr(row, name) for name in RECORD_FIELDS}
        values["failed"] = bool(values["failed"])
        return BuildRecord(**values)

    def record(self, key: str) -> BuildRecord | None:
        """The build of `key` while it is wanted (a finished build's row is history, not a record)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(bundle_builds).where(bundle_builds.c.key == key, bundle_builds.c.built_at.is_(None))
            ).first()
        return self._as_record(row) if row else None

    def _waiting(self, now: float):
        c = bundle_builds.c
        return sa.and_(
            c.failed.is_(sa.false()),
            c.built_at.is_(None),
            sa.or_(c.owner.is_(None), c.lease_until <= now),
        )

    def queued(self) -> list[BuildRecord]:
        """Requested builds that nobody holds and that may still be tried, oldest request first."""
        now = self.clock()
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(bundle_builds).where(self._waiting(now)).order_by(bundle_builds.c.requested_at)
            ).all()
        return [self._as_record(r) for r in rows]

    def due(self, now: float | None = None) -> list[BuildRecord]:
        """Waiting builds whose last task was sent more than a lease ago: lost in the broker, or
        taken by a worker that died. Sending them again is safe (a claim runs each build once)."""
        now = self.clock() if now is None else now
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(bundle_builds)
                .where(self._waiting(now), bundle_builds.c.enqueued_at <= now - self.lease_seconds)
                .order_by(bundle_builds.c.requested_at)
            ).all()
        return [self._as_record(r) for r in rows]

    def history(self) -> list[dict]:
        """Every row, finished builds included (the `models` command shows built_at and attempts)."""
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.select(bundle_builds)).all()]

    def check(self) -> None:
        """Raise if the database does not answer (readiness)."""
        with self.engine.connect() as conn:
            conn.execute(sa.select(sa.literal(1)))

    # -- changing ---------------------------------------------------------------------------
    def _update(self, key: str, *conditions, **values) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(
                sa.update(bundle_builds).where(bundle_builds.c.key == key, *conditions).values(**values)
            )
        return result.rowcount

    def _insert_missing(self, key: str, name: str, path: str) -> bool:
        """Insert a fresh request unless a row exists; True when this call inserted it."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    sa.insert(bundle_builds).values(key=key, name=name, path=str(path), requested_at=self.clock())
                )
        except sa.exc.IntegrityError:
            return False
        return True

    def request(self, key: str, name: str, path) -> BuildRecord:
        """Record that `key` needs a bundle; a second request changes nothing. A row left by an
        earlier, finished build (its bundle since deleted) becomes a fresh request."""
        if not self._insert_missing(key, name, path):
            self._update(
                key,
                bundle_builds.c.built_at.is_not(None),
                built_at=None, requested_at=self.clock(), enqueued_at=0.0, attempts=0, owner=None,
                lease_until=0.0, message="", progress=0.0, error="", failed=False,
            )  # fmt: skip
        record = self.record(key)
        assert record is not None
        return record

    def mark_enqueued(self, key: str) -> bool:
        """Note that a task is being sent for `key`; False when one was sent less than a lease ago
        (by this or another replica or worker), so the caller does not send another."""
        now = self.clock()
        c = bundle_builds.c
        return bool(self._update(key, self._waiting(now), c.enqueued_at <= now - self.lease_seconds, enqueued_at=now))

    def unmark_enqueued(self, key: str) -> None:
        """The send failed (broker down): let the next poll or sweep try again at once."""
        self._update(key, enqueued_at=0.0)

    def claim(self, key: str, owner: str, name: str, path) -> BuildRecord | None:
        """Take the lease for one attempt, or None: someone else holds it, it is built, or no
        attempt is left (then the build is failed with the last error)."""
        self._insert_missing(key, name, path)
        now = self.clock()
        c = bundle_builds.c
        claimed = self._update(
            key,
            self._waiting(now),
            c.attempts < self.max_attempts,
            attempts=c.attempts + 1,
            owner=owner,
            lease_until=now + self.lease_seconds,
            message="starting the analysis",
            progress=0.0,
            error=sa.case(
                (sa.and_(c.owner.is_not(None), c.error == ""), "the previous attempt stopped responding"),
                else_=c.error,
            ),
        )
        if claimed:
            return self.record(key)
        record = self.record(key)
        if record is not None and not record.failed and not record.leased(now) and record.attempts >= self.max_attempts:
            self._update(
                key,
                self._waiting(now),
                c.attempts >= self.max_attempts,
                failed=True,
                owner=None,
                error=gave_up(record.attempts, record.error or "the build stopped responding"),
            )
        return None

    def refresh(self, key: str, owner: str, message: str | None = None, progress: float | None = None) -> bool:
        """Push the lease forward (and record progress); False if `owner` no longer holds it."""
        values: dict = {"lease_until": self.clock() + self.lease_seconds}
        if message is not None:
            values["message"] = message[:500]
        if progress is not None:
            values["progress"] = float(progress)
        c = bundle_builds.c
        return bool(self._update(key, c.owner == owner, c.failed.is_(sa.false()), **values))

    def succeed(self, key: str, owner: str) -> None:
        """The bundle is stored: the row stays as history, with the time it was built."""
        self._update(
            key,
            bundle_builds.c.owner == owner,
            owner=None, lease_until=0.0, built_at=self.clock(), progress=1.0, message="ready", error="",
        )  # fmt: skip

    def fail(self, key: str, owner: str, message: str) -> None:
        """A failure that another attempt would repeat (a bad file): final at once."""
        self._update(key, bundle_builds.c.owner == owner, failed=True, error=message, owner=None)

    def attempt_failed(self, key: str, owner: str, error: str) -> BuildRecord | None:
        """An attempt died (a crash, a kill): queue the build again, or fail it when attempts are spent."""
        record = self.record(key)
        if record is None or record.owner != owner:
            return record
        spent = record.attempts >= self.max_attempts
        self._update(
            key,
            bundle_builds.c.owner == owner,
            owner=None,
            lease_until=0.0,
            enqueued_at=0.0,  # send it again at once
            failed=spent,
            error=gave_up(record.attempts, error) if spent else error,
        )
        return self.record(key)

    def forget(self, key: str) -> None:
        """Drop every trace of the build (a forced rebuild, or a request for a file that changed)."""
        with self.engine.begin() as conn:
            conn.execute(sa.delete(bundle_builds).where(bundle_builds.c.key == key))

    @contextlib.contextmanager
    def lease_kept(self, key: str, owner: str) -> Iterator[None]:
        """Keep the lease alive while a long step reports no progress."""
        with every(self.lease_seconds / 4, lambda: self.refresh(key, owner)):
            yield

    # -- the workers' presence ----------------------------------------------------------------
    def builder_seen(self, owner: str) -> None:
        """A worker says it is alive (every few seconds, from its main process)."""
        now = self.clock()
        with self.engine.begin() as conn:
            updated = conn.execute(
                sa.update(build_workers).where(build_workers.c.owner == owner).values(seen_at=now)
            ).rowcount
            if not updated:
                conn.execute(sa.insert(build_workers).values(owner=owner, seen_at=now))
            conn.execute(sa.delete(build_workers).where(build_workers.c.seen_at < now - 3600))

    def builder_gone(self, owner: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(build_workers).where(build_workers.c.owner == owner))

    def builder_running(self) -> bool:
        """True when some worker has said it is alive within the last few seconds."""
        since = self.clock() - BUILDER_SEEN_SECONDS
        with self.engine.connect() as conn:
            return (
                conn.execute(sa.select(build_workers.c.owner).where(build_workers.c.seen_at >= since)).first()
                is not None
            )
