"""Bundle builds as plain Celery tasks on a Redis broker (team deployments, CELERY_BROKER_URL set).

Celery only carries the nudge "build this key"; the truth is the lease in the shared build book.
So a task delivered twice, sent by two replicas, or redelivered after its worker was killed runs the
build once (the claim decides), and a build whose worker died is sent again by any live worker's
housekeeping once its lease has run out, counted against BUILD_MAX_ATTEMPTS, never forever.

Worker settings follow what Celery's own docs and issue tracker teach for long, memory-hungry tasks:
late acknowledgement plus reject-on-worker-lost, one task prefetched, one build per child process
(TensorFlow's memory goes back to the system), soft and hard time limits, and a broker visibility
timeout longer than the hard limit so Redis does not hand a running build to a second worker.

`celery -A mmm_dash.builder.tasks:celery_app ...` finds the app configured from the environment;
`python -m mmm_dash worker` starts a worker with these settings.
"""

from __future__ import annotations

import functools
import logging
import threading

from celery import Celery, signals

from mmm_dash.builder.state import new_owner
from mmm_dash.config import Settings, load_settings

log = logging.getLogger(__name__)

TASK_NAME = "mmm_dash.build_bundle"
QUEUE = "bundles"
HEARTBEAT_SECONDS = 5.0
MANIFEST_SCAN_SECONDS = 10.0


def celery_config(settings: Settings) -> dict:
    hard_limit = settings.BUILD_TIME_LIMIT + 60
    return {
        "broker_url": settings.CELERY_BROKER_URL,
        "broker_connection_retry_on_startup": True,
        "broker_connection_timeout": 2,  # a web replica sending a task must not hang on a dead broker
        "broker_transport_options": {"visibility_timeout": 2 * hard_limit},
        "task_publish_retry": False,  # the poll or the sweep sends again; the page must not wait
        "task_default_queue": QUEUE,
        "task_ignore_result": True,  # the result is the stored bundle and the build book
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_soft_time_limit": settings.BUILD_TIME_LIMIT,
        "task_time_limit": hard_limit,
        "worker_prefetch_multiplier": 1,
        "worker_max_tasks_per_child": 1,
        "worker_concurrency": 1,
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
    }


def make_celery(settings: Settings, catalog_factory=None) -> Celery:
    """A Celery app for `settings` with the build task registered; `catalog_factory` (tests) gives the
    catalog the task builds with, else each worker process makes its own from the settings."""
    from mmm_dash.builder.wiring import catalog_for

    app = Celery("mmm_dash", set_as_current=False)
    app.conf.update(celery_config(settings))
    factory = catalog_factory or functools.cache(lambda: catalog_for(settings, worker=True))
    app.mmm_settings = settings
    app.mmm_catalog = factory

    @app.task(name=TASK_NAME, ignore_result=True, shared=False)  # this app only: tests make several
    def build_bundle(name: str, key: str) -> str:
        return run_build(factory(), name, key)

    return app


def run_build(catalog, name: str, key: str) -> str:
    """One delivery of a build task: claim the lease and build, or do nothing if it is not ours to do."""
    from mmm_dash.core.status import BundleStatus

    entry = catalog.entry(name)
    if entry is None or catalog.key(entry) != key:
        log.info("Dropping the build of %s: the file changed or went away since it was requested", name)
        record = catalog.book.record(key)
        if record is not None and not record.leased(catalog.book.clock()):
            catalog.book.forget(key)
        return "stale"
    if catalog.state(name).status.settled:
        return "settled"
    owner = new_owner()
    if catalog.book.claim(key, owner, entry.name, entry.path) is None:
        return "skipped"  # another worker holds it, or its attempts are spent (now failed)
    log.info("Building the bundle of %s", name)
    state = catalog.run_claimed(entry.name, key, owner)
    log.info("The bundle of %s is %s", name, state.status)
    return str(state.status) if state.status is not BundleStatus.READY else "ready"


class CeleryQueue:
    """How a catalog starts builds in a team deployment: one task per request, at most once per lease."""

    def __init__(self, settings: Settings, book, app: Celery | None = None):
        self.settings = settings
        self.book = book
        self._app = app
        self._lock = threading.Lock()

    @property
    def app(self) -> Celery:
        with self._lock:
            if self._app is None:
                self._app = make_celery(self.settings)
            return self._app

    def submit(self, record) -> bool:
        if not self.book.mark_enqueued(record.key):
            return False  # sent less than a lease ago, by this or another process
        try:
            self.app.send_task(TASK_NAME, args=[record.name, record.key], queue=QUEUE)
        except Exception as exc:  # broker down: the build stays queued; a later poll or sweep sends it
            self.book.unmark_enqueued(record.key)
            log.warning("Could not send the build of %s to the broker: %s", record.name, exc)
            return False
        return True


class Housekeeping:
    """What each worker's main process does besides running tasks: say it is alive, keep the model
    manifest in step with MODEL_DIR, and send again the builds whose worker died or whose task was lost."""

    def __init__(self, catalog, owner: str | None = None):
        self.catalog = catalog
        self.owner = owner or new_owner()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._scanned_at = 0.0

    def run_once(self, now: float | None = None) -> None:
        from mmm_dash.builder.keys import meridian_version
        from mmm_dash.builder.manifest import sync_manifest
        from mmm_dash.builder.model_admin import deliver_uploads

        book = self.catalog.book
        now = book.clock() if now is None else now
        book.builder_seen(self.owner)
        delivered = deliver_uploads(book.engine, self.catalog.model_dir)
        if delivered:
            log.info("Wrote uploaded model files into MODEL_DIR: %s", ", ".join(delivered))
        if delivered or now - self._scanned_at >= MANIFEST_SCAN_SECONDS:
            changes = sync_manifest(book.engine, self.catalog.files, meridian_version())
            if any(changes.values()):
                log.info("Model manifest updated: %s", changes)
            self._scanned_at = now
        for record in book.due():
            if self.catalog.queue.submit(record):
                log.info(
                    "Sent the build of %s again (attempt %d was lost or is not started)", record.name, record.attempts
                )

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # database or broker briefly away: keep the worker, try again
                log.exception("Worker housekeeping failed; retrying")
            self._stop.wait(HEARTBEAT_SECONDS)

    def start(self) -> Housekeeping:
        self._thread = threading.Thread(target=self._loop, name="mmm-housekeeping", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=HEARTBEAT_SECONDS + 5)
        try:
            self.catalog.book.builder_gone(self.owner)
        except Exception:
            log.warning("Could not remove this worker from build_workers", exc_info=True)


_housekeeping: Housekeeping | None = None


@signals.worker_ready.connect
def _start_housekeeping(sender=None, **_kwargs) -> None:
    """In the worker's main process (not in its build children)."""
    global _housekeeping
    app = getattr(sender, "app", None)
    factory = getattr(app, "mmm_catalog", None)
    if factory is None or _housekeeping is not None:
        return
    _housekeeping = Housekeeping(factory()).start()


@signals.worker_shutdown.connect
def _stop_housekeeping(**_kwargs) -> None:
    global _housekeeping
    if _housekeeping is not None:
        _housekeeping.stop()
        _housekeeping = None


def __getattr__(name: str):
    """`celery_app`: the app configured from the environment, made on first use (PEP 562), so
    importing this module for `make_celery` does not read settings."""
    if name == "celery_app":
        app = _environment_app()
        return app
    raise AttributeError(name)


@functools.cache
def _environment_app() -> Celery:
    return make_celery(load_settings())
