"""What an admin does to models: archive (hide without deleting), choose the default, upload a file.

Flags live in the database (`model_flags`), so every replica agrees. An upload is checked before a
byte reaches MODEL_DIR: only Meridian's protobuf formats (a pickle runs code when loaded, so pickles
are refused), a size limit, and a sanitised name. An upload never replaces a model: a model's name is
its file's stem (`demo_mmm.binpb` is the model `demo_mmm`, like `demo_mmm.pkl`), and an upload under a
name that is taken is refused unless the admin asks to replace, which then adds the upload as the
model's newest version and keeps every older file as a previous version (`MODEL_DIR/<model>/<label>`,
see `builder.discovery`). It is written atomically (a hidden temporary file, then a hard link that
fails if the name exists, under a lock on the MODEL_DIR folder), so no reader ever sees half a model and of two
simultaneous uploads of one name exactly one is written. In a team deployment web replicas have no
MODEL_DIR: the file waits in `model_uploads` (one pending upload per model name) until a worker's
housekeeping writes it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import errno
import fcntl
import hashlib
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

from mmm_dash.builder.discovery import (
    MODEL_SUFFIXES,
    PICKLE_SUFFIXES,
    PROTO_SUFFIXES,
    VERSION_MARK,
    forget_listing,
    version_order,
)
from mmm_dash.builder.tables import model_flags, model_uploads
from mmm_dash.core.names import bidi_problem

UPLOAD_SUFFIXES = tuple(s for s in PROTO_SUFFIXES)
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
FLAGS_TTL_SECONDS = 2.0
EXISTS = (
    "A model named {model} already exists; tick 'replace' to add this file as its newest version "
    "(its current file is kept as the previous version)."
)
PENDING = "An upload of {model} is still waiting for a worker to write it; try again in a few seconds."
RACED = "Another upload of {model} was written first; reload the list and upload again with 'replace' to add a version."


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
        allowed = " or ".join(UPLOAD_SUFFIXES)
        raise UploadRefused(f"Upload a Meridian model saved as {allowed}, not {base or 'nothing'}.")
    clean = re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_-")[:100]
    if not clean:
        raise UploadRefused("The file name has no usable characters; rename it (letters, digits, - and _).")
    return clean + suffix


def model_of(name: str) -> str:
    """The model an uploaded file name is: its stem (`demo_mmm.binpb` -> `demo_mmm`)."""
    return name.rsplit(".", 1)[0]


def version_label(stamp: float) -> str:
    """A version label from a time, sorting in time order (`2026-12-05_191309`, UTC)."""
    return dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%d_%H%M%S")


@dataclasses.dataclass(frozen=True)
class Added:
    """Where an upload went: `entry` is its catalog name (`demo_mmm`, or `demo_mmm@<label>` as a version),
    `kept` the catalog names of the files it did not replace (the former file, now a previous version)."""

    path: Path
    entry: str
    kept: tuple[str, ...] = ()


def model_files(model_dir: Path, model: str) -> tuple[list[Path], Path | None]:
    """What is already model `model` in MODEL_DIR: its files directly there (any model suffix) and its
    version folder, if any."""
    if not model_dir.is_dir():
        return [], None
    files = [
        p
        for p in model_dir.iterdir()
        if p.stem == model and p.suffix.lower() in MODEL_SUFFIXES and not p.name.startswith(".") and p.is_file()
    ]
    folder = model_dir / model
    return sorted(files), (folder if folder.is_dir() else None)


@contextlib.contextmanager
def uploads_locked(model_dir: Path) -> Iterator[None]:
    """One upload at a time into MODEL_DIR (every process on this machine): the name check and the write
    are one step. The lock is on the folder itself, so nothing is left behind in it."""
    model_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(model_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _draft(directory: Path, data: bytes) -> Path:
    fd, draft = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(draft, 0o640)
    except BaseException:
        Path(draft).unlink(missing_ok=True)
        raise
    return Path(draft)


def _create(draft: Path, target: Path, model: str) -> None:
    """`target` becomes the draft's file in one step, only if no file has that name (never overwritten)."""
    try:
        os.link(draft, target)
    except FileExistsError:
        raise UploadRefused(RACED.format(model=model)) from None
    except OSError as exc:  # a file system without hard links: the lock keeps check and rename one step
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EMLINK, errno.EXDEV):
            raise
        if target.exists():
            raise UploadRefused(RACED.format(model=model)) from None
        os.rename(draft, target)


def _free(label: str, taken: set[str]) -> str:
    """`label`, or `label-2`, `label-3`...: the first one not taken (each sorts after `label`)."""
    n, free = 2, label
    while free in taken:
        free, n = f"{label}-{n}", n + 1
    return free


def add_model(model_dir: Path, name: str, data: bytes, replace: bool = False, clock=time.time) -> Added:
    """Write the upload `name` (a sanitised file name, see `upload_name`) into MODEL_DIR, never over a file.

    A new model is written as `MODEL_DIR/<name>`. A model that exists (a file of that stem, any suffix,
    or a folder of its versions) is refused unless `replace`; then the upload becomes its newest version
    `MODEL_DIR/<model>/<label><suffix>`, and a former single file moves into that folder as the previous
    version, labelled by its modification time."""
    model_dir = Path(model_dir)
    model, suffix = model_of(name), Path(name).suffix
    with uploads_locked(model_dir):
        files, folder = model_files(model_dir, model)
        if (files or folder) and not replace:
            raise UploadRefused(EXISTS.format(model=model))
        draft = _draft(model_dir, data)
        try:
            if not files and folder is None:
                _create(draft, model_dir / name, model)
                added = Added(model_dir / name, model)
            else:
                added = _add_version(model_dir / model, files, draft, model, suffix, clock())
        finally:
            draft.unlink(missing_ok=True)
    forget_listing()  # this request's held model list no longer has it
    return added


def _add_version(folder: Path, files: list[Path], draft: Path, model: str, suffix: str, now: float) -> Added:
    folder.mkdir(exist_ok=True)
    taken = {p.stem for p in folder.iterdir() if p.suffix.lower() in MODEL_SUFFIXES}
    moves = []
    for old in sorted(files, key=lambda p: p.stat().st_mtime_ns):
        label = _free(version_label(old.stat().st_mtime), taken)
        taken.add(label)
        moves.append((old, folder / f"{label}{old.suffix}"))
    newest = max(taken, key=version_order, default=None)
    label = version_label(now)
    if newest is not None and version_order(label) <= version_order(newest):
        label = f"{newest}-2"  # sorts after `newest` whatever it ends with
    target = folder / f"{_free(label, taken)}{suffix}"
    _create(draft, target, model)  # the new version first: the model never lacks a file meanwhile
    for old, moved in moves:
        if moved.exists():
            raise UploadRefused(RACED.format(model=model))
        os.rename(old, moved)
    kept = tuple(f"{model}{VERSION_MARK}{moved.stem}" for _old, moved in moves)
    return Added(target, f"{model}{VERSION_MARK}{target.stem}", kept)


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


def queue_upload(
    engine: sa.Engine, name: str, data: bytes, uploaded_by: str, replace: bool, known_models: set[str]
) -> None:
    """Team deployment: keep the upload in the database until a worker writes it into MODEL_DIR.

    `known_models`: the model names the manifest lists; a taken name needs `replace`. One upload per
    model name waits at a time: of two simultaneous uploads of one name, one is queued, the other told."""
    model = model_of(name)
    if model in known_models and not replace:
        raise UploadRefused(EXISTS.format(model=model))
    row = {"file": name, "data": data, "sha256": hashlib.sha256(data).hexdigest(), "uploaded_at": time.time()}
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # one upload transaction at a time (released at commit)
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('mmm-dash model uploads'))"))
            # Written before the check: SQLite then holds its write lock, so the check is one step with it too.
            conn.execute(sa.insert(model_uploads).values(uploaded_by=uploaded_by, **row))
            waiting = conn.execute(sa.select(model_uploads.c.file).where(model_uploads.c.file != name)).scalars()
            if any(model_of(file) == model for file in waiting):
                raise UploadRefused(PENDING.format(model=model))
    except sa.exc.IntegrityError:  # the same file name is already waiting
        raise UploadRefused(PENDING.format(model=model)) from None


def deliver_uploads(engine: sa.Engine, model_dir: Path) -> list[str]:
    """A worker writes uploads waiting in the database into its MODEL_DIR (then the manifest sees them).

    The web checked the name when it queued the upload; a model that appeared since gets the upload as
    its newest version (`add_model` with replace): nothing is ever overwritten."""
    written = []
    with engine.connect() as conn:
        pending = conn.execute(sa.select(model_uploads.c.file, model_uploads.c.sha256)).all()
    for file, sha256 in pending:
        with engine.begin() as conn:
            data = conn.execute(sa.select(model_uploads.c.data).where(model_uploads.c.file == file)).scalar()
            if data is None:
                continue  # another worker delivered it
            if hashlib.sha256(data).hexdigest() == sha256:
                written.append(relative(add_model(Path(model_dir), file, bytes(data), replace=True), model_dir))
            conn.execute(sa.delete(model_uploads).where(model_uploads.c.file == file))
    return written


def relative(added: Added, model_dir: Path) -> str:
    return added.path.relative_to(Path(model_dir)).as_posix()
