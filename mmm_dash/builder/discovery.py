"""Which files in MODEL_DIR are models, and the content hash that identifies each one.

Versions: a model file directly in MODEL_DIR is a model with one version (`demo_mmm.pkl`); a folder
holds the versions of one model, one file each, named by its version label (`acme/2025-06.binpb`,
`acme/2025-09.binpb`). Labels sort in time order, numbers as numbers (`v2` before `v10`), and the
last one is the newest, which pages open by default. Each version is its own entry, named
`<model>@<version>` (`acme@2025-09`), with its own bundle.

Pickle runs code when loaded, so only files that really live inside MODEL_DIR are listed: a
symlink pointing elsewhere is skipped, as are hidden files and other suffixes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
from contextvars import ContextVar
from pathlib import Path

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")
PROTO_SUFFIXES = (".binpb", ".txtpb", ".textproto")
MODEL_SUFFIXES = PICKLE_SUFFIXES + PROTO_SUFFIXES
DEFAULT_MODEL = "demo_mmm"  # listed first when present

log = logging.getLogger(__name__)


class ModelFileError(Exception):
    """A model file that cannot be used, with the reason in one sentence."""


VERSION_MARK = "@"  # entry names of versions: <model>@<version>


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    name: str  # unique: the model's name, or <model>@<version> for one version of a model folder
    path: Path
    size: int
    mtime_ns: int
    sha256: str | None = None  # known without reading the file (from the shared model manifest)
    version: str = ""  # the version label inside a model folder; "" for a model file of its own

    @property
    def model(self) -> str:
        """The model this file is a version of (its own name for a file directly in MODEL_DIR)."""
        return self.name[: -len(self.version) - 1] if self.version else self.name


def version_order(label: str) -> tuple:
    """Sort key of a version label: digit runs compare as numbers (v2 < v10, 2025-6 < 2025-10)."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.findall(r"\d+|\D+", label))


def order_entries(entries: list[ModelEntry]) -> list[ModelEntry]:
    """The demo first, then models by name, each model's versions newest first."""
    by_model = sorted(entries, key=lambda e: version_order(e.version), reverse=True)
    return sorted(by_model, key=lambda e: (e.model != DEFAULT_MODEL, e.model))


def relative_file(entry: ModelEntry, model_dir: Path) -> str:
    """The entry's file relative to MODEL_DIR, as the manifest stores it ('acme/2025-06.binpb')."""
    return entry.path.relative_to(model_dir).as_posix() if entry.version else entry.path.name


def entry_from_file(model_dir: Path, name: str, file: str, size: int, mtime_ns: int, sha256: str | None) -> ModelEntry:
    """The entry `name` for a file named relative to MODEL_DIR (the inverse of `relative_file`)."""
    parts = Path(file).parts
    version = Path(parts[1]).stem if len(parts) == 2 else ""
    return ModelEntry(name, model_dir / file, size, mtime_ns, sha256, version)


def is_inside(path: Path, model_dir: Path) -> bool:
    """True when `path`, with every symlink resolved, lies inside `model_dir`."""
    return path.resolve().is_relative_to(model_dir.resolve())


def pick_entry(entries: list[ModelEntry], name: str | None) -> ModelEntry | None:
    """The model called `name` (the first model when None), or None."""
    if name is None:
        return entries[0] if entries else None
    return next((e for e in entries if e.name == name), None)


# One web request asks for the model list a dozen times (controls, versions, the view, the banner); a
# request holds one listing per MODEL_DIR instead of reading the folder each time. Outside a held
# scope (CLI, builder, worker) every call lists afresh.
_held_listing: ContextVar[dict | None] = ContextVar("mmm_dash_model_listing", default=None)


def hold_listing() -> None:
    """From here until `release_listing` (in this context), each MODEL_DIR is listed at most once."""
    _held_listing.set({})


def release_listing() -> None:
    _held_listing.set(None)


def forget_listing() -> None:
    """A model file was written: a held listing is out of date."""
    held = _held_listing.get()
    if held:
        held.clear()


class ModelFiles:
    """The model files of one MODEL_DIR; hashes are memoized per (path, size, mtime)."""

    def __init__(self, model_dir: Path):
        self.model_dir = Path(model_dir)
        self._sha: dict[tuple, str] = {}

    def _model_files(self, folder: Path) -> list[Path]:
        out = []
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() not in MODEL_SUFFIXES or path.name.startswith(".") or not path.is_file():
                continue
            if path.is_symlink() and not is_inside(path, self.model_dir):
                log.warning("Skipping %s: it links to a file outside MODEL_DIR.", path.name)
                continue
            out.append(path)
        return out

    def entries(self) -> list[ModelEntry]:
        """Model files and the versions in model folders: the demo first, then by model, newest
        version first (listed once per held scope, see `hold_listing`)."""
        held = _held_listing.get()
        if held is None:
            return self._list()
        if self.model_dir not in held:
            held[self.model_dir] = self._list()
        return list(held[self.model_dir])

    def _list(self) -> list[ModelEntry]:
        if not self.model_dir.is_dir():
            return []
        found: dict[str, ModelEntry] = {}
        for path in self._model_files(self.model_dir):
            stat = path.stat()
            name = path.stem if path.stem not in found else path.name
            found[name] = ModelEntry(name, path, stat.st_size, stat.st_mtime_ns)
        for folder in sorted(self.model_dir.iterdir()):
            if not folder.is_dir() or folder.name.startswith(".") or not is_inside(folder, self.model_dir):
                continue
            if folder.name in found:
                log.warning("Skipping folder %s: a model file of the same name exists.", folder.name)
                continue
            for path in self._model_files(folder):
                stat = path.stat()
                name = f"{folder.name}{VERSION_MARK}{path.stem}"
                if name in found:
                    log.warning(
                        "Skipping %s: another file in %s has the version label %s.", path.name, folder.name, path.stem
                    )
                    continue
                found[name] = ModelEntry(name, path, stat.st_size, stat.st_mtime_ns, version=path.stem)
        return order_entries(list(found.values()))

    def entry(self, name: str | None) -> ModelEntry | None:
        return pick_entry(self.entries(), name)

    def sha256(self, entry: ModelEntry) -> str:
        if entry.sha256:
            return entry.sha256
        stamp = (str(entry.path), entry.size, entry.mtime_ns)
        if stamp not in self._sha:
            digest = hashlib.sha256()
            with entry.path.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
            self._sha[stamp] = digest.hexdigest()
        return self._sha[stamp]
