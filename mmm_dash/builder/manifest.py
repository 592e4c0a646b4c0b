"""The model manifest: which model files exist, with their size and content hash, in the shared database.

In a team deployment only workers read MODEL_DIR (`sync_manifest`, on start and every few seconds);
web replicas list models from the manifest (`ManifestModels`), so they need no model files, never
hash a file on a page view, and never open a pickle.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import sqlalchemy as sa

from mmm_dash.builder.discovery import ModelEntry, ModelFiles, entry_from_file, order_entries, pick_entry, relative_file
from mmm_dash.builder.tables import model_manifest

READ_TTL_SECONDS = 2.0  # a page and its callbacks read one snapshot instead of one query each


def sync_manifest(engine: sa.Engine, files: ModelFiles, meridian_version: str) -> dict[str, int]:
    """Make the manifest list exactly the files in MODEL_DIR; returns counts of changes."""
    now = time.time()
    found = {e.name: e for e in files.entries()}
    changes = {"added": 0, "changed": 0, "removed": 0}
    with engine.begin() as conn:
        rows = {r.name: r for r in conn.execute(sa.select(model_manifest)).all()}
        for name in set(rows) - set(found):
            conn.execute(sa.delete(model_manifest).where(model_manifest.c.name == name))
            changes["removed"] += 1
        for name, entry in found.items():
            row = rows.get(name)
            file = relative_file(entry, files.model_dir)
            same = row is not None and (row.file, row.size, row.mtime_ns) == (file, entry.size, entry.mtime_ns)
            values = {"seen_at": now, "meridian_version": meridian_version}
            if not same:  # hash only what changed
                values.update(file=file, size=entry.size, mtime_ns=entry.mtime_ns, sha256=files.sha256(entry))
            if row is None:
                conn.execute(sa.insert(model_manifest).values(name=name, **values))
                changes["added"] += 1
            else:
                conn.execute(sa.update(model_manifest).where(model_manifest.c.name == name).values(**values))
                changes["changed"] += 0 if same else 1
    return changes


class ManifestModels:
    """The model list as the manifest has it (same interface as `ModelFiles`)."""

    def __init__(self, engine: sa.Engine, model_dir: Path):
        self.engine = engine
        self.model_dir = Path(model_dir)
        self._lock = threading.Lock()
        self._snapshot: tuple[float, list[ModelEntry]] = (0.0, [])

    def entries(self) -> list[ModelEntry]:
        with self._lock:
            read_at, entries = self._snapshot
            if time.monotonic() - read_at < READ_TTL_SECONDS:
                return entries
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(model_manifest)).all()
        entries = order_entries(
            [entry_from_file(self.model_dir, r.name, r.file, r.size, r.mtime_ns, r.sha256) for r in rows]
        )
        with self._lock:
            self._snapshot = (time.monotonic(), entries)
        return entries

    def entry(self, name: str | None) -> ModelEntry | None:
        return pick_entry(self.entries(), name)

    def sha256(self, entry: ModelEntry) -> str:
        assert entry.sha256, "manifest entries carry their hash"
        return entry.sha256

    def forget_snapshot(self) -> None:
        with self._lock:
            self._snapshot = (0.0, [])

    def rows(self) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.select(model_manifest).order_by(model_manifest.c.name))]
