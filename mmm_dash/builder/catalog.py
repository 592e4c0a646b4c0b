"""The models in MODEL_DIR and the state of their analysis bundles: what the web and the CLI ask.

The web asks "state of model X" (`state`) and "please build X" (`request_build`, which only records
the wish); a builder (`builder.service`) or `precompute` (`build`, in the foreground) does the work.
Nothing here imports Meridian: the build step is imported only when a build runs.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from pathlib import Path

from mmm_dash.builder.discovery import DEFAULT_MODEL, ModelEntry, ModelFileError, ModelFiles
from mmm_dash.builder.keys import bundle_key
from mmm_dash.builder.signing import UnboundBundle
from mmm_dash.builder.state import BuildBook, new_owner
from mmm_dash.builder.store import BundleStore, TamperedBundle
from mmm_dash.core.bundle import Bundle
from mmm_dash.core.status import BundleStatus

__all__ = ["DEFAULT_MODEL", "BundleState", "BundleStatus", "ModelCatalog", "ModelEntry", "ModelUnavailable"]

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]
BuildStep = Callable[[ModelEntry, str, Progress], Bundle]  # (entry, sha256, progress) -> bundle


def meridian_step(entry: ModelEntry, sha256: str, progress: Progress) -> Bundle:
    """The real build step: load the file with Meridian and compute every analysis."""
    from mmm_dash.builder.meridian.pipeline import analyse_file

    model_dir = entry.path.parent.parent if entry.version else entry.path.parent
    return analyse_file(entry.path, model_dir, entry.model, sha256, progress, version=entry.version)


@dataclasses.dataclass(frozen=True)
class BundleState:
    status: BundleStatus
    bundle: Bundle | None = None
    message: str = ""
    progress: float = 0.0


class ModelUnavailable(Exception):
    """The model exists but its bundle cannot be shown (yet); `state` says why."""

    def __init__(self, state: BundleState):
        super().__init__(state.message)
        self.state = state


class ModelCatalog:
    """One machine by default (files in MODEL_DIR, bundles and build state in CACHE_DIR); a team
    deployment passes the shared pieces instead (`builder.wiring.catalog_for`): the manifest as
    `files`, the database's build book and store, and a `queue` that sends Celery tasks."""

    def __init__(
        self,
        model_dir: Path,
        cache_dir: Path,
        *,
        step: BuildStep = meridian_step,
        book=None,
        files=None,
        store=None,
        queue=None,
        flags=None,
    ):
        self.model_dir = Path(model_dir)
        self.cache_dir = Path(cache_dir)
        self.files = files or ModelFiles(self.model_dir)
        self.store = store or BundleStore(self.cache_dir)
        self.book = book or BuildBook(self.cache_dir)
        self.queue = queue  # None: a builder on this machine polls the book
        self.flags = flags  # ModelFlags (archived, default), or None: every file shown, the demo first
        self.step = step

    # -- discovery ---------------------------------------------------------------------------
    def all_entries(self) -> list[ModelEntry]:
        """Every model, archived ones included (the admin's list)."""
        return self.files.entries()

    def archived(self) -> set[str]:
        return self.flags.read()[0] if self.flags is not None else set()

    def default_name(self) -> str | None:
        return self.flags.read()[1] if self.flags is not None else None

    def entries(self) -> list[ModelEntry]:
        """The models pages offer: archived ones hidden, the admin's default first."""
        entries = self.files.entries()
        if self.flags is None:
            return entries
        archived, default = self.flags.read()
        # A flag set on a model's name holds for each of its versions (a model file that a replace turned
        # into a folder of versions keeps being archived or the default).
        shown = [e for e in entries if e.name not in archived and e.model not in archived]
        return sorted(shown, key=lambda e: default not in (e.name, e.model))  # stable: the rest keep their order

    def names(self) -> list[str]:
        """Every entry's name (one per file: versions of a model folder are `<model>@<version>`)."""
        return [e.name for e in self.entries()]

    def models(self) -> list[str]:
        """The models pages offer, each once (a model folder is one model), the default first."""
        return list(dict.fromkeys(e.model for e in self.entries()))

    def versions(self, model: str) -> list[ModelEntry]:
        """The versions of `model`, newest first (archived ones too: a link to one still works)."""
        return [e for e in self.files.entries() if e.model == model]

    def version_entry(self, model: str | None, version: str | None = None) -> ModelEntry | None:
        """The entry of `model`'s `version`, or its newest shown version when `version` is None."""
        if model is None:
            entries = self.entries()
            return entries[0] if entries else None
        if version is None:
            shown = [e for e in self.entries() if e.model == model]
            return shown[0] if shown else next(iter(self.versions(model)), None)
        return next((e for e in self.versions(model) if e.version == version), None)

    def entry(self, name: str | None) -> ModelEntry | None:
        """A model by name (archived ones too: a link to one still works), or the first one shown."""
        if name is None:
            entries = self.entries()
            return entries[0] if entries else None
        return self.files.entry(name)

    def sha256(self, entry: ModelEntry) -> str:
        return self.files.sha256(entry)

    def key(self, entry: ModelEntry) -> str:
        return bundle_key(self.sha256(entry))

    # -- what the web asks ---------------------------------------------------------------------
    def state(self, name: str | None) -> BundleState:
        """Ready, missing (nobody asked), queued, building (a live lease) or failed (with the reason)."""
        entry = self.entry(name)
        if entry is None:
            return BundleState(BundleStatus.FAILED, message=f"No model named {name!r} in {self.model_dir}.")
        key = self.key(entry)
        stale = ""  # why a stored bundle is not used and is being rebuilt, said before the build's state
        try:
            bundle = self.store.get(key)
        except UnboundBundle as exc:
            log.warning("Not serving the stored bundle of %s: %s; rebuilding it", entry.name, exc)
            bundle = None
            stale = (
                f"The stored analysis of {entry.name} was signed by an older mmm-dash without naming its model "
                "file, so it is not used: it is being rebuilt."
            )
        except TamperedBundle as exc:
            log.error("Refusing the stored bundle of %s: %s", entry.name, exc)
            return BundleState(
                BundleStatus.FAILED,
                message=(
                    f"The stored analysis of {entry.name} failed its integrity check ({exc}), so it was not "
                    "loaded: it was changed or copied outside mmm-dash, or SECRET_KEY differs from the one it was "
                    "built with. An operator can rebuild it: "
                    f"`python -m mmm_dash precompute --force {entry.path.name}`."
                ),
            )
        if bundle is not None:
            return BundleState(BundleStatus.READY, bundle=bundle, progress=1.0)
        state = self._build_state(key)
        if stale and state.status.pending:
            told = stale if state.status is BundleStatus.MISSING else f"{stale} {state.message}"
            return dataclasses.replace(state, message=told)
        return state

    def _build_state(self, key: str) -> BundleState:
        """The state of a bundle that is not stored: from the build book's record of `key`."""
        record = self.book.record(key)
        if record is None:
            return BundleState(BundleStatus.MISSING, message="Not analysed yet.")
        if record.failed:
            return BundleState(BundleStatus.FAILED, message=record.error)
        if record.leased(self.book.clock()):
            return BundleState(BundleStatus.BUILDING, message=record.message, progress=record.progress)
        if record.error:
            message = (
                f"The last attempt failed ({record.error}); trying again "
                f"(attempt {record.attempts + 1} of {self.book.max_attempts})."
            )
            return BundleState(BundleStatus.QUEUED, message=message)
        return BundleState(BundleStatus.QUEUED, message="Waiting for the analysis to start.")

    def bundle(self, name: str | None) -> Bundle:
        state = self.state(name)
        if state.bundle is None:
            raise ModelUnavailable(state)
        return state.bundle

    def request_build(self, name: str) -> BundleState:
        """Record that `name` needs a bundle (idempotent and cheap: no process is started here).

        With a queue (Celery), also send the build task, unless one was sent less than a lease ago
        by any replica; a broker that is down costs one failed send, retried on a later poll."""
        entry = self.entry(name)
        if entry is not None and self.state(name).status in (BundleStatus.MISSING, BundleStatus.QUEUED):
            record = self.book.request(self.key(entry), entry.name, entry.path)
            if self.queue is not None:
                self.queue.submit(record)
        return self.state(name)

    def rebuild(self, name: str) -> BundleState:
        """Drop the stored bundle and any recorded failure, then request a fresh build."""
        entry = self.entry(name)
        if entry is None:
            return self.state(name)
        key = self.key(entry)
        record = self.book.record(key)
        if record is not None and record.leased(self.book.clock()):
            return self.state(name)  # being built right now: that build is the rebuild
        self.store.delete(key)
        self.book.forget(key)
        return self.request_build(name)

    def builder_running(self) -> bool:
        """True when a builder serves this cache, so a requested build will start without an operator."""
        return self.book.builder_running()

    def readiness(self) -> dict:
        statuses = [self.state(e.name).status for e in self.entries()]
        ready = statuses.count(BundleStatus.READY)
        failed = statuses.count(BundleStatus.FAILED)
        pending = len(statuses) - ready - failed  # missing, queued or building: all count as "building"
        return {
            "total": len(statuses),
            BundleStatus.READY: ready,
            BundleStatus.FAILED: failed,
            BundleStatus.BUILDING: pending,
        }

    # -- building (the builder, its build processes and the CLI come here) ---------------------
    def build(self, name: str, progress: Progress | None = None, force: bool = False) -> BundleState:
        """Build `name` in this process unless it is stored or failed; if another process is
        building it, wait for that build (showing its progress) instead of starting a second one."""
        entry = self.entry(name)
        if entry is None:
            return BundleState(BundleStatus.FAILED, message=f"No model named {name!r} in {self.model_dir}.")
        key = self.key(entry)
        if force:
            self.store.delete(key)
            self.book.forget(key)
        while True:
            state = self.state(name)
            if state.status.settled:
                return state
            owner = new_owner()
            if self.book.claim(key, owner, entry.name, entry.path) is not None:
                return self.run_claimed(entry.name, key, owner, progress)
            if progress and state.status is BundleStatus.BUILDING:
                progress(f"another process is building it: {state.message}", state.progress)
            time.sleep(1.0)

    def run_claimed(self, name: str, key: str, owner: str, progress: Progress | None = None) -> BundleState:
        """Run the build step for a build whose lease `owner` holds, and record the outcome.

        A file Meridian cannot analyse fails at once (another attempt would fail the same way);
        a crash of the whole process is left to the builder, which counts attempts."""
        entry = self.entry(name)
        if entry is None or self.key(entry) != key:
            self.book.forget(key)  # the file changed or went away since the request
            return self.state(name)

        def report(message: str, fraction: float) -> None:
            self.book.refresh(key, owner, message, fraction)
            if progress:
                progress(message, fraction)

        if not self.book.refresh(key, owner, "loading the model file", 0.01):
            return self.state(name)  # the lease was lost (taken over after a long stall)
        if progress:
            progress("loading the model file", 0.01)
        with self.book.lease_kept(key, owner):
            try:
                bundle = self.step(entry, self.sha256(entry), report)
            except ModelFileError as exc:
                message = str(exc)
            except Exception as exc:  # a model Meridian cannot analyse: say so, keep the others working
                log.exception("Analysing %s failed", entry.path.name)
                message = f"{entry.path.name} could not be analysed by Meridian ({type(exc).__name__}: {exc})."
            else:
                self.store.put(key, bundle)
                self.book.succeed(key, owner)
                return BundleState(BundleStatus.READY, bundle=bundle, progress=1.0)
        self.book.fail(key, owner, message)
        return BundleState(BundleStatus.FAILED, message=message)
