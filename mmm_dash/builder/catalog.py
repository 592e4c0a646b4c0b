"""The models in MODEL_DIR and their analysis bundles: an in-process memo over a diskcache.

Keys are (file sha256, Meridian version, bundle schema version), so a changed file, a Meridian
upgrade or a new bundle shape each cause a rebuild, and another process or a restart reads the
bundle from disk. Nothing here imports Meridian: building is delegated to `mmm_dash.builder.meridian`,
which only the CLI and background jobs call.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import threading
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import diskcache

from mmm_dash.builder.meridian.loading import MODEL_SUFFIXES  # plain constants; Meridian is imported only on load
from mmm_dash.core.bundle import BUNDLE_SCHEMA_VERSION, Bundle

DEFAULT_MODEL = "demo_mmm"
BUILD_MARKER_SECONDS = 15 * 60  # a builder refreshes its marker on every progress step


def meridian_version() -> str:
    """The installed google-meridian version, read from package metadata (no import)."""
    return version("google-meridian")


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    name: str
    path: Path
    size: int
    mtime_ns: int


@dataclasses.dataclass(frozen=True)
class BundleState:
    status: str  # "ready", "building", "failed", "queued"
    bundle: Bundle | None = None
    message: str = ""
    progress: float = 0.0


class ModelUnavailable(Exception):
    """The model exists but its bundle cannot be shown (yet); `state` says why."""

    def __init__(self, state: BundleState):
        super().__init__(state.message)
        self.state = state


class ModelCatalog:
    def __init__(self, model_dir: Path, cache_dir: Path):
        self.model_dir = Path(model_dir)
        self.cache_dir = Path(cache_dir)
        self._cache: diskcache.Cache | None = None
        self._memo: dict[str, Bundle] = {}
        self._sha: dict[tuple, str] = {}
        self._lock = threading.Lock()

    # -- discovery ---------------------------------------------------------------------------
    @property
    def cache(self) -> diskcache.Cache:
        if self._cache is None:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            self._cache = diskcache.Cache(str(self.cache_dir / "bundles"), size_limit=2**31)
        return self._cache

    def entries(self) -> list[ModelEntry]:
        if not self.model_dir.is_dir():
            return []
        found: dict[str, ModelEntry] = {}
        for path in sorted(self.model_dir.iterdir()):
            if path.suffix.lower() not in MODEL_SUFFIXES or not path.is_file() or path.name.startswith("."):
                continue
            stat = path.stat()
            name = path.stem if path.stem not in found else path.name
            found[name] = ModelEntry(name, path, stat.st_size, stat.st_mtime_ns)
        ordered = sorted(found.values(), key=lambda e: (e.name != DEFAULT_MODEL, e.name))
        return ordered

    def names(self) -> list[str]:
        return [e.name for e in self.entries()]

    def entry(self, name: str | None) -> ModelEntry | None:
        entries = self.entries()
        if name is None:
            return entries[0] if entries else None
        return next((e for e in entries if e.name == name), None)

    def sha256(self, entry: ModelEntry) -> str:
        stamp = (str(entry.path), entry.size, entry.mtime_ns)
        if stamp not in self._sha:
            digest = hashlib.sha256()
            with entry.path.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
            self._sha[stamp] = digest.hexdigest()
        return self._sha[stamp]

    def key(self, entry: ModelEntry) -> str:
        return f"{self.sha256(entry)}:{meridian_version()}:{BUNDLE_SCHEMA_VERSION}"

    # -- reading -----------------------------------------------------------------------------
    def state(self, name: str | None) -> BundleState:
        """Ready, failed, building (a live builder reports progress) or queued (nobody builds yet)."""
        entry = self.entry(name)
        if entry is None:
            return BundleState("failed", message=f"No model named {name!r} in {self.model_dir}.")
        key = self.key(entry)
        with self._lock:
            if key in self._memo:
                return BundleState("ready", bundle=self._memo[key], progress=1.0)
        bundle = self.cache.get(("bundle", key))
        if isinstance(bundle, Bundle):
            with self._lock:
                self._memo[key] = bundle
            return BundleState("ready", bundle=bundle, progress=1.0)
        failure = self.cache.get(("failure", key))
        if failure:
            return BundleState("failed", message=failure)
        progress = self.cache.get(("progress", key))
        holder = self.cache.get(("building", key))
        if progress and holder is not None and _alive(holder):
            message, fraction = progress
            return BundleState("building", message=message, progress=fraction)
        return BundleState("queued", message="Waiting for the analysis to start.")

    def bundle(self, name: str | None) -> Bundle:
        state = self.state(name)
        if state.bundle is None:
            raise ModelUnavailable(state)
        return state.bundle

    def readiness(self) -> dict:
        states = [self.state(e.name).status for e in self.entries()]
        return {
            "total": len(states),
            "ready": states.count("ready"),
            "failed": states.count("failed"),
            "building": len(states) - states.count("ready") - states.count("failed"),
        }

    # -- building (only the CLI and background jobs come here) --------------------------------
    def build(
        self, name: str, progress: Callable[[str, float], None] | None = None, force: bool = False
    ) -> BundleState:
        """Build and store the bundle unless cached; one builder per model at a time."""
        entry = self.entry(name)
        if entry is None:
            return BundleState("failed", message=f"No model named {name!r} in {self.model_dir}.")
        key = self.key(entry)
        if force:
            self.cache.delete(("bundle", key))
            self.cache.delete(("failure", key))
            self._memo.pop(key, None)
        current = self.state(name)
        if current.status in ("ready", "failed"):
            return current
        if not self._claim_build(key):
            return self.state(name)  # another live process builds it; its progress is in the cache

        def report(message: str, fraction: float) -> None:
            self.cache.set(("progress", key), (message, fraction), expire=BUILD_MARKER_SECONDS)
            self.cache.touch(("building", key), expire=BUILD_MARKER_SECONDS)
            if progress:
                progress(message, fraction)

        from mmm_dash.builder.meridian.pipeline import ModelFileError, analyse_file

        try:
            report("loading the model file", 0.01)
            bundle = analyse_file(entry.path, self.model_dir, entry.name, self.sha256(entry), report)
        except ModelFileError as exc:
            self.cache.set(("failure", key), str(exc))
            return BundleState("failed", message=str(exc))
        except Exception as exc:  # a model Meridian cannot analyse: say so, keep the others working
            message = f"{entry.path.name} could not be analysed by Meridian ({type(exc).__name__}: {exc})."
            self.cache.set(("failure", key), message)
            return BundleState("failed", message=message)
        finally:
            self.cache.delete(("building", key))
            self.cache.delete(("progress", key))
        self.cache.set(("bundle", key), bundle)
        with self._lock:
            self._memo[key] = bundle
        return BundleState("ready", bundle=bundle, progress=1.0)

    def _claim_build(self, key: str) -> bool:
        """Take the build marker, or take over the marker of a builder that died (a killed job)."""
        if self.cache.add(("building", key), os.getpid(), expire=BUILD_MARKER_SECONDS):
            return True
        holder = self.cache.get(("building", key))
        if holder is None or not _alive(holder):
            self.cache.set(("building", key), os.getpid(), expire=BUILD_MARKER_SECONDS)
            return True
        return False

    def wait_until_ready(self, name: str, timeout: float) -> BundleState:
        deadline = time.monotonic() + timeout
        while True:
            state = self.state(name)
            if state.status in ("ready", "failed") or time.monotonic() > deadline:
                return state
            time.sleep(0.5)


def _alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError, TypeError):
        return False
    return True
