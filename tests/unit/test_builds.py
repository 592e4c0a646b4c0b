"""Model discovery, build state, leases, attempts and the builder loop, with fake fast build steps
(no Meridian): the rules that keep one build per model and stop a crashing build from looping."""

from __future__ import annotations

import dataclasses
import os
import sys

import pandas as pd
import pytest

from mmm_dash.builder.catalog import ModelCatalog
from mmm_dash.builder.discovery import ModelFileError
from mmm_dash.builder.runner import BuildJob, InProcessRunner, SubprocessRunner, job_command
from mmm_dash.builder.service import Builder, MachineLock, lock_path
from mmm_dash.builder.state import LEASE_SECONDS, MAX_ATTEMPTS, BuildBook
from mmm_dash.core.bundle import BUNDLE_SCHEMA_VERSION, Bundle, ModelInfo
from mmm_dash.core.status import BundleStatus


def tiny_bundle(name: str) -> Bundle:
    """A stand-in bundle: the builder stores whatever the step returns, so its contents do not matter."""
    info = ModelInfo(**{f.name: None for f in dataclasses.fields(ModelInfo)})
    empty = pd.DataFrame()
    return Bundle(
        BUNDLE_SCHEMA_VERSION, dataclasses.replace(info, name=name), None, {}, {}, {}, empty, empty, empty, None, {}
    )


def fake_step(entry, sha256, progress):
    """A build step that takes no time: reports progress twice and returns a tiny bundle."""
    progress("half way", 0.5)
    progress("almost", 0.9)
    return tiny_bundle(entry.name)


class Clock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clock():
    return Clock()


def sql_book(tmp_path, **kwargs):
    """The team deployment's build book, on a SQLite file (the same SQL runs on PostgreSQL)."""
    import sqlalchemy as sa

    from mmm_dash.builder.shared_state import SqlBuildBook
    from mmm_dash.builder.tables import metadata

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'builds.sqlite3'}")
    metadata.create_all(engine)
    return SqlBuildBook(engine, **kwargs)


@pytest.fixture(params=["diskcache", "sql"])
def book_kind(request):
    return request.param


def make_book(kind, tmp_path, **kwargs):
    return BuildBook(tmp_path / "cache", **kwargs) if kind == "diskcache" else sql_book(tmp_path, **kwargs)


@pytest.fixture()
def catalog(tmp_path, clock, book_kind):
    model_dir = tmp_path / "models"
    model_dir.mkdir()
    (model_dir / "m.pkl").write_bytes(b"model")
    calls = []

    def counting_step(entry, sha256, progress):
        calls.append(entry.name)
        return fake_step(entry, sha256, progress)

    catalog = ModelCatalog(
        model_dir, tmp_path / "cache", step=counting_step, book=make_book(book_kind, tmp_path, clock=clock)
    )
    catalog.calls = calls
    return catalog


# -- discovery ----------------------------------------------------------------------------------
def test_discovery_orders_the_demo_first_and_ignores_other_files(tmp_path):
    for name in ("zeta.pkl", "demo_mmm.pkl", "alpha.binpb", "demo_mmm.truth.json", ".hidden.pkl", "x.pkl.tmp"):
        (tmp_path / name).write_bytes(b"x")
    catalog = ModelCatalog(tmp_path, tmp_path / "cache")
    assert catalog.names() == ["demo_mmm", "alpha", "zeta"]
    assert catalog.entry(None).name == "demo_mmm"


def test_a_symlink_outside_model_dir_is_not_listed(tmp_path):
    model_dir, elsewhere = tmp_path / "models", tmp_path / "elsewhere"
    model_dir.mkdir()
    elsewhere.mkdir()
    (elsewhere / "secret.pkl").write_bytes(b"not yours")
    (model_dir / "real.pkl").write_bytes(b"model")
    (model_dir / "escape.pkl").symlink_to(elsewhere / "secret.pkl")
    (model_dir / "alias.pkl").symlink_to(model_dir / "real.pkl")  # inside MODEL_DIR: fine
    assert ModelCatalog(model_dir, tmp_path / "cache").names() == ["alias", "real"]


def test_key_changes_with_file_content(tmp_path):
    path = tmp_path / "m.pkl"
    path.write_bytes(b"one")
    catalog = ModelCatalog(tmp_path, tmp_path / "cache")
    first = catalog.key(catalog.entry("m"))
    path.write_bytes(b"two!")
    assert catalog.key(catalog.entry("m")) != first


# -- requests and the builder ------------------------------------------------------------------------
def test_a_request_is_recorded_once_and_built_once(catalog, clock):
    assert catalog.state("m").status is BundleStatus.MISSING
    assert catalog.request_build("m").status is BundleStatus.QUEUED
    first = catalog.book.record(catalog.key(catalog.entry("m")))
    clock.now += 5
    for _ in range(3):
        catalog.request_build("m")
    assert catalog.book.record(first.key) == first  # idempotent: nothing changed
    builder = Builder(catalog, InProcessRunner(catalog))
    assert builder.run_once() is True
    assert builder.run_once() is False  # nothing left to do
    assert catalog.calls == ["m"]
    state = catalog.state("m")
    assert state.status is BundleStatus.READY and state.bundle.info.name == "m"
    assert catalog.book.record(first.key) is None


def test_a_model_nobody_asked_for_is_not_built(catalog):
    assert Builder(catalog, InProcessRunner(catalog)).run_once() is False
    assert catalog.calls == [] and catalog.state("m").status is BundleStatus.MISSING


def test_a_live_lease_is_not_taken_and_shows_progress(catalog, clock):
    key = catalog.key(catalog.entry("m"))
    assert catalog.book.claim(key, "A", "m", catalog.entry("m").path) is not None
    assert catalog.book.refresh(key, "A", "half way", 0.5)
    state = catalog.state("m")
    assert state.status is BundleStatus.BUILDING and state.progress == 0.5 and state.message == "half way"
    assert catalog.book.claim(key, "B", "m", catalog.entry("m").path) is None
    assert Builder(catalog, InProcessRunner(catalog)).run_once() is False  # deduplicated: A builds it
    assert catalog.calls == []


def test_an_expired_lease_is_taken_over_and_the_old_holder_loses_it(catalog, clock):
    key, path = catalog.key(catalog.entry("m")), catalog.entry("m").path
    catalog.book.claim(key, "A", "m", path)
    clock.now += LEASE_SECONDS + 1  # A stopped refreshing: it died
    state = catalog.state("m")
    assert state.status is BundleStatus.QUEUED
    taken = catalog.book.claim(key, "B", "m", path)
    assert taken is not None and taken.attempts == 2 and taken.owner == "B"
    assert catalog.book.refresh(key, "A", "late progress", 0.7) is False
    assert catalog.book.refresh(key, "B", "progress", 0.3) is True


def test_progress_pushes_the_lease_forward(catalog, clock):
    key, path = catalog.key(catalog.entry("m")), catalog.entry("m").path
    catalog.book.claim(key, "A", "m", path)
    clock.now += LEASE_SECONDS * 0.9
    catalog.book.refresh(key, "A", "step", 0.2)
    clock.now += LEASE_SECONDS * 0.9  # past the first lease, within the refreshed one
    assert catalog.state("m").status is BundleStatus.BUILDING


def test_attempts_are_bounded_when_builds_keep_dying(catalog, clock):
    key, path = catalog.key(catalog.entry("m")), catalog.entry("m").path
    for attempt in range(MAX_ATTEMPTS):
        assert catalog.book.claim(key, f"owner-{attempt}", "m", path) is not None
        clock.now += LEASE_SECONDS + 1
    assert catalog.book.claim(key, "one-too-many", "m", path) is None
    state = catalog.state("m")
    assert state.status is BundleStatus.FAILED
    assert f"failed {MAX_ATTEMPTS} times" in state.message and "stopped responding" in state.message
    assert catalog.book.queued() == []


def test_a_bad_file_fails_at_once_without_retries(catalog):
    def bad_step(entry, sha256, progress):
        raise ModelFileError(f"{entry.path.name} is truncated.")

    catalog.step = bad_step
    catalog.request_build("m")
    builder = Builder(catalog, InProcessRunner(catalog))
    assert builder.run_once() is True
    assert builder.run_once() is False
    state = catalog.state("m")
    assert state.status is BundleStatus.FAILED and state.message == "m.pkl is truncated."


def test_foreground_build_records_ready_and_force_rebuilds(catalog):
    assert catalog.build("m").status is BundleStatus.READY
    assert catalog.build("m").status is BundleStatus.READY
    assert catalog.calls == ["m"]
    assert catalog.build("m", force=True).status is BundleStatus.READY
    assert catalog.calls == ["m", "m"]


def test_a_request_for_a_file_that_changed_is_dropped(catalog):
    old_key = catalog.key(catalog.entry("m"))
    catalog.request_build("m")
    (catalog.model_dir / "m.pkl").write_bytes(b"a different model")
    os.utime(catalog.model_dir / "m.pkl", ns=(1, 1))
    Builder(catalog, InProcessRunner(catalog)).run_once()
    assert catalog.calls == [] and catalog.book.record(old_key) is None
    assert catalog.state("m").status is BundleStatus.MISSING  # the new content is requested afresh


# -- build processes -----------------------------------------------------------------------------
CRASH = (
    "import sys; sys.stderr.write('Traceback (most recent call last):\\n' + 'noise\\n' * 40 "
    "+ 'MemoryError: boom\\n'); sys.exit(3)"
)


def test_a_build_process_exiting_non_zero_records_its_stderr_tail_and_attempts_are_bounded(catalog):
    started = []

    def crashing(job: BuildJob):
        started.append(job.owner)
        return [sys.executable, "-c", CRASH]

    catalog.request_build("m")
    builder = Builder(catalog, SubprocessRunner(crashing))
    assert builder.run_once() is True
    state = catalog.state("m")
    assert state.status is BundleStatus.QUEUED
    assert "exited with status 3" in state.message and "MemoryError: boom" in state.message
    assert f"attempt 2 of {MAX_ATTEMPTS}" in state.message
    while builder.run_once():
        pass
    assert len(started) == MAX_ATTEMPTS and len(set(started)) == MAX_ATTEMPTS
    state = catalog.state("m")
    assert state.status is BundleStatus.FAILED
    assert f"failed {MAX_ATTEMPTS} times" in state.message and "MemoryError: boom" in state.message
    assert state.message.count("noise") < 20  # a tail, not the whole output


@pytest.mark.parametrize("book_kind", ["diskcache"])  # one machine's build processes share CACHE_DIR
def test_the_build_process_adopts_the_lease_and_stores_the_bundle(catalog):
    def real_job_with_fake_step(job: BuildJob):
        return job_command(job) + ["--step", "tests.unit.test_builds:fake_step"]

    catalog.book.clock = __import__("time").time  # the child process uses the real clock
    catalog.request_build("m")
    assert Builder(catalog, SubprocessRunner(real_job_with_fake_step)).run_once() is True
    state = catalog.state("m")
    assert state.status is BundleStatus.READY and state.bundle.info.name == "m"
    assert catalog.calls == []  # built in the child, not here


def test_one_builder_lock_per_cache_dir(tmp_path):
    first, second = MachineLock(lock_path(tmp_path)), MachineLock(lock_path(tmp_path))
    assert first.acquire() and not second.acquire()
    first.release()
    assert second.acquire()
    second.release()


def test_the_builder_announces_itself(catalog):
    assert catalog.builder_running() is False
    Builder(catalog, InProcessRunner(catalog)).run_once()
    assert catalog.builder_running() is True


def test_a_long_silent_step_keeps_its_lease(tmp_path, book_kind):
    import threading
    import time

    (tmp_path / "m.pkl").write_bytes(b"model")
    seen = []

    def silent_step(entry, sha256, progress):
        time.sleep(1.2)  # three lease lengths without a progress report
        return tiny_bundle(entry.name)

    catalog = ModelCatalog(
        tmp_path, tmp_path / "cache", step=silent_step, book=make_book(book_kind, tmp_path, lease_seconds=0.4)
    )
    catalog.request_build("m")
    worker = threading.Thread(target=Builder(catalog, InProcessRunner(catalog)).run_once)
    worker.start()
    for _ in range(5):
        time.sleep(0.2)
        seen.append(catalog.state("m").status)
    worker.join()
    assert BundleStatus.QUEUED not in seen and BundleStatus.BUILDING in seen
    assert catalog.state("m").status is BundleStatus.READY
