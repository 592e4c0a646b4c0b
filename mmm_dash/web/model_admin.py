"""`/admin/models`: the admin's model list (status, file, size, sha256, Meridian version, build time,
message) with rebuild, archive, default and upload. Server-rendered forms with CSRF tokens; every
route checks the role itself (permissions.MANAGE_MODELS), whatever the navbar shows."""

from __future__ import annotations

import datetime as dt
import logging

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from wtforms.validators import ValidationError

from mmm_dash.builder.discovery import relative_file
from mmm_dash.builder.keys import meridian_version
from mmm_dash.builder.model_admin import MAX_UPLOAD_BYTES, UploadRefused, add_model, model_of, queue_upload, upload_name
from mmm_dash.web import audit
from mmm_dash.web.permissions import Action, may

log = logging.getLogger(__name__)

bp = Blueprint("model_admin", __name__, url_prefix="/admin/models")


def _catalog():
    return current_app.extensions["mmm_dash"].models


def _audit(action: str, obj: str, outcome: str = "ok", detail: str = "") -> None:
    audit.record(action, object=obj, outcome=outcome, detail=detail)


@bp.before_request
def _admins_only():
    if not may(Action.MANAGE_MODELS):
        abort(403)
    if request.endpoint == "model_admin.upload":  # this route only; the app's limit is 1 MB
        request.max_content_length = MAX_UPLOAD_BYTES + 64 * 1024
    if request.method == "POST":
        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError as exc:
            raise CSRFError(str(exc)) from None


def _when(stamp) -> str:
    return dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if stamp else ""


def model_rows() -> list[dict]:
    """One row per model file, archived ones included."""
    catalog = _catalog()
    archived, default = catalog.archived(), catalog.default_name()
    history = {}
    if hasattr(catalog.book, "history"):  # the shared build book keeps finished builds
        history = {row["key"]: row for row in catalog.book.history()}
    rows = []
    for entry in catalog.all_entries():
        key = catalog.key(entry)
        state = catalog.state(entry.name)
        record = catalog.book.record(key)
        past = history.get(key, {})
        built_seconds = state.bundle.timings.get("build_seconds") if state.bundle is not None else None
        rows.append(
            {
                "name": entry.name,
                "file": relative_file(entry, catalog.model_dir),
                "size_mb": entry.size / 1e6,
                "sha256": catalog.sha256(entry),
                "meridian": key.split(":")[1] if ":" in key else meridian_version(),
                "status": str(state.status),
                "progress": state.progress,
                "message": state.message,
                "attempts": (record.attempts if record else past.get("attempts")) or "",
                "built_at": _when(past.get("built_at")),
                "build_seconds": built_seconds,
                "archived": entry.name in archived or entry.model in archived,
                "default": default in (entry.name, entry.model),
            }
        )
    return rows


@bp.get("")
def index():
    return render_template(
        "model_admin.html",
        section="models",
        rows=model_rows(),
        max_upload_mb=MAX_UPLOAD_BYTES // (1024 * 1024),
        team=_catalog().queue is not None,
        csrf_token=generate_csrf,
    )


def _named(name: str):
    entry = _catalog().entry(name)
    if entry is None:
        abort(404)
    return entry


@bp.post("/<name>/rebuild")
def rebuild(name: str):
    _named(name)
    state = _catalog().rebuild(name)
    _audit(audit.MODEL_REBUILD, name, detail=str(state.status))
    flash(f"{name}: rebuild requested ({state.status}).", "info")
    return redirect("/admin/models")


@bp.post("/<name>/archive")
def archive(name: str):
    entry = _named(name)
    archive = request.form.get("archived", "1") == "1"
    _catalog().flags.set_archived(name, archive)
    if not archive and entry.model != name:  # archived as a model before a replace made it versions
        _catalog().flags.set_archived(entry.model, False)
    _audit(audit.MODEL_ARCHIVE if archive else audit.MODEL_UNARCHIVE, name)
    flash(f"{name} is {'archived: hidden from pages, file kept' if archive else 'shown again'}.", "info")
    return redirect("/admin/models")


@bp.post("/<name>/default")
def make_default(name: str):
    _named(name)
    _catalog().flags.set_default(name)
    _audit(audit.MODEL_DEFAULT, name)
    flash(f"{name} is now the default model: pages open it first.", "info")
    return redirect("/admin/models")


@bp.post("/upload")
def upload():
    file = request.files.get("model_file")
    replace = request.form.get("replace") == "1"
    catalog = _catalog()
    try:
        if file is None or not file.filename:
            raise UploadRefused("Choose a model file to upload.")
        name = upload_name(file.filename)
        data = file.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise UploadRefused(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
        if not data:
            raise UploadRefused("The file is empty.")
        model = model_of(name)
        if catalog.queue is not None:  # team deployment: a worker writes it into its MODEL_DIR
            known = {e.model for e in catalog.all_entries()}
            queue_upload(catalog.book.engine, name, data, current_user.email, replace, known)
            replaced = replace and model in known
            where = f" as the newest version of {model} (its current file is kept as the previous version)"
            message = (
                f"Uploaded {name}{where if replaced else ''}; a worker adds it within a few seconds and analyses it."
            )
        else:
            added = add_model(catalog.model_dir, name, data, replace=replace)
            catalog.request_build(added.entry)
            replaced = added.entry != model
            kept = f", {' and '.join(added.kept)} kept as the previous version" if added.kept else ""
            where = f" as {added.entry}, the newest version of {model}{kept}"
            message = f"Uploaded {name}{where if replaced else ''}; its analysis has started."
    except UploadRefused as exc:
        _audit(audit.MODEL_UPLOAD, getattr(file, "filename", "") or "", outcome=audit.DENIED, detail=str(exc))
        flash(str(exc), "danger")
        return redirect("/admin/models")
    _audit(audit.MODEL_UPLOAD, name, detail=f"{len(data)} bytes" + (f"; replace: written{where}" if replaced else ""))
    flash(message, "success")
    return redirect("/admin/models")
