"""Which files in MODEL_DIR are models, and the content hash that identifies each one.

Pickle runs code when loaded, so only files that really live inside MODEL_DIR are listed: a
symlink pointing elsewhere is skipped, as are hidden files and other suffixes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from pathlib import Path

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")
PROTO_SUFFIXES = (".binpb", ".txtpb", ".textproto")
MODEL_SUFFIXES = PICKLE_SUFFIXES + PROTO_SUFFIXES
DEFAULT_MODEL = "demo_mmm"  # listed first when present

log = logging.getLogger(__name__)


class ModelFileError(Exception):
    """A model file that cannot be used, with the reason in one sentence."""


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    name: str
    path: Path
    size: int
    mtime_ns: int
    sha256: str | None = None  # known without reading the file (from the shared model manifest)


def is_inside(path: Path, model_dir: Path) -> bool:
    """True when `path`, with every symlink resolved, lies inside `model_dir`."""
    return path.resolve().is_relative_to(model_dir.resolve())


def pick_entry(entries: list[ModelEntry], name: str | None) -> ModelEntry | None:
    """The model called `name` (the first model when None), or None."""
    if name is None:
        return entries[0] if entries else None
    return next((e for e in entries if e.name == name), None)


class ModelFiles:
    """The model files of one MODEL_DIR; hashes are memoized per (path, size, mtime)."""

    def __init__(self, model_dir: Path):
        self.model_dir = Path(model_dir)
        self._sha: dict[tuple, str] = {}

    def entries(self) -> list[ModelEntry]:
        """Model files, the demo first, then by name."""
        if not self.model_dir.is_dir():
            return []
        found: dict[str, ModelEntry] = {}
        for path in sorted(self.model_dir.iterdir()):
            if path.suffix.lower() not in MODEL_SUFFIXES or path.name.startswith(".") or not path.is_file():
                continue
            if path.is_symlink() and not is_inside(path, self.model_dir):
                log.warning("Skipping %s: it links to a file outside MODEL_DIR.", path.name)
                continue
            stat = path.stat()
            name = path.stem if path.stem not in found else path.name
            found[name] = ModelEntry(name, path, stat.st_size, stat.st_mtime_ns)
        return sorted(found.values(), key=lambda e: (e.name != DEFAULT_MODEL, e.name))

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
