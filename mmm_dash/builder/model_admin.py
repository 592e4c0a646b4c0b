"""What an admin does to models: archive (hide without deleting), choose the default, upload a file.

Flags live in the database (`model_flags`), so every replica agrees. An upload is checked before a
byte reaches MODEL_DIR: only Meridian's protobuf formats (a pickle runs code when loaded, so pickles
are refused), a size limit, and a sanitised name; it is written atomically (a hidden temporary file,
then a rename), so no reader ever sees half a model. In a team deployment web replicas have no
MODEL_DIR: the file waits in `model_uploads` until a worker's housekeeping writes it.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from mmm_dash.builder.discovery import PICKLE_SUFFIXES, PROTO_SUFFIXES, forget_listing
from mmm_dash.builder.tables import model_flags, model_uploads
from mmm_dash.core.names import bidi_problem

UPLOAD_SUFFIXES = tuple(s for s in PROTO_SUFFIXES)
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
FLAGS_TTL_SECONDS = 2.0


class UploadRefused(Exception):
    """An upload that is not written, with the reason in one sentence."""


def upload_name(filename: str) -> str:
    """A safe file name inside MODEL_DIR for an uploaded `filename`, or UploadRefused."""
    if problem := bidi_problem(filename or "", "Model file names"):
        raise UploadRefused(problem)  # before any message repeats the name back
    base = os.path.basename((filename or "").replace("\\", "/")).strip()
    stem, dot, suffix = base.rpartition(".")
    suffix = f".{suffix.lower()}" if dot else ""
    if suffix in PICKLE_SUFFIXES:
        raise UploadRefused(
            f"{base} is a pickle: loading a pickle runs code, so pickles are not accepted by upload. "
            "Save the model with Meridian's `meridian.schema.serde` as .binpb or .txtpb, or ask an operator "
            "to copy a trusted pickle into MODEL_DIR."
        )
    if suffix not in UPLOAD_SUFFIXES:
        allowed = ' or '.join(UPLOAD_SUFFIXES)
        raise UploadRefused(f"Upload a Meridian model saved as {allowed}, not {base or 'nothing'}.")
    clean = re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_-")[:100]
    if not clean:
        raise UploadRefused("The file name has no usable characters; rename it (letters, digits, - and _).")
    return clean + suffix


def write_atomically(directory: Path, name: str, data: bytes, replace: bool = False) -> Path:
    """Write `data` as `directory/name` in one rename; refuses to overwrite unless `replace`."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / name
    if target.exists() and not replace:
        raise UploadRefused(f"{name} already exists; tick 'replace' to upload a refit under the same name.")
    fd, draft = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(draft, 0o640)
        os.replace(draft, target)
        forget_listing()  # this request's held model list no longer has it
    except BaseException:
        Path(draft).unlink(missing_ok=True)
        raise
    return target


class ModelFlags:
    """Archived and default models, as the database has them (read at most every couple of seconds)."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self._lock = threading.Lock()
        self._snapshot: tuple[float, set[str], str | None] = (0.0, set(), None)

    def read(self) -> tuple[set[str], str | None]:
        with self._lock:
            read_at, archived, default = self._snapshot
            if time.monotonic() - read_at < FLAGS_TTL_SECONDS:
                return archived, default
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(sa.select(model_flags)).all()
        except sa.exc.OperationalError:  # not migrated yet (a fresh checkout before init-db): no flags
            rows = []
        archived = {r.name for r in rows if r.archived}
        default = next((r.name for r in rows if r.is_default and not r.archived), None)
        with self._lock:
            self._snapshot = (time.monotonic(), archived, default)
        return archived, default

    def _set(self, name: str, **values) -> None:
        with self.engine.begin() as conn:
            if values.get("is_default"):
                conn.execute(sa.update(model_flags).values(is_default=False))
            updated = conn.execute(
                sa.update(model_flags).where(model_flags.c.name == name).values(updated_at=time.time(), **values)
            ).rowcount
            if not updated:
                conn.execute(sa.insert(model_flags).values(name=name, updated_at=time.time(), **values))
        with self._lock:
            self._snapshot = (0.0, set(), None)

    def set_archived(self, name: str, archived: bool) -> None:
        values = {"archived": archived}
        if archived:
            values["is_default"] = False
        self._set(name, **values)

    def set_default(self, name: str) -> None:
        self._set(name, is_default=True, archived=False)


def queue_upload(engine: sa.Engine, name: str, data: bytes, uploaded_by: str, replace: bool, known: set[str]) -> None:
    """Team deployment: keep the upload in the database until a worker writes it into MODEL_DIR."""
    if name in known and not replace:
        raise UploadRefused(f"{name} already exists; tick 'replace' to upload a refit under the same name.")
    with engine.begin() as conn:
        conn.execute(sa.delete(model_uploads).where(model_uploads.c.file == name))
        conn.execute(
            sa.insert(model_uploads).values(
                file=name, data=data, sha256=hashlib.sha256(data).hexdigest(), uploaded_at=time.time(),
                uploaded_by=uploaded_by,
            )
        )  # fmt: skip


def deliver_uploads(engine: sa.Engine, model_dir: Path) -> list[str]:
    """A worker writes uploads waiting in the database into its MODEL_DIR (then the manifest sees them)."""
    written = []
    with engine.connect() as conn:
        pending = conn.execute(sa.select(model_uploads.c.file, model_uploads.c.sha256)).all()
    for file, sha256 in pending:
        with engine.begin() as conn:
            data = conn.execute(sa.select(model_uploads.c.data).where(model_uploads.c.file == file)).scalar()
            if data is None:
                continue  # another worker delivered it
            if hashlib.sha256(data).hexdigest() == sha256:
                write_atomically(Path(model_dir), file, bytes(data), replace=True)
                written.append(file)
            conn.execute(sa.delete(model_uploads).where(model_uploads.c.file == file))
    return written
