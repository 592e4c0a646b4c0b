"""Every download response in one place: file name, MIME type, headers that keep a file out of
shared caches (`Cache-Control: no-store`) and stop browsers from guessing its type (`nosniff`), and
the audit event saying who downloaded what."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from flask import Response, request

from mmm_dash.web import audit

MIME = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}


def safe_filename_part(part: str) -> str:
    """A model, period or scenario name made safe for a file name (at most 80 characters)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", part)[:80] or "model"


def export_filename(model: str, period: str, kind: str, ext: str, *extra: str) -> str:
    """`mmm-<model>[-<version>]-<period>[-<geo>]-<date>-<kind>.<ext>`: a view's export, dated today
    (`extra`: the version and geo, where they were chosen)."""
    named = [model, *[e for e in extra if e], period]
    parts = (*(safe_filename_part(p) for p in named), dt.date.today().isoformat(), kind)
    return "mmm-" + "-".join(parts) + f".{ext}"


def scenario_filename(model: str, period: str, name: str, ext: str) -> str:
    """`mmm-scenario-<model>-<period>-<name>.<ext>`: one saved scenario."""
    return "mmm-scenario-" + "-".join(safe_filename_part(p) for p in (model, period, name)) + f".{ext}"


def attachment(body: str | bytes | Iterable[str], filename: str) -> Response:
    """`body` (text, bytes, or an iterable of text to stream) as a download named `filename`, typed by its
    extension, never cached or sniffed; recorded in the audit trail."""
    ext = filename.rsplit(".", 1)[-1]
    audit.record(audit.DOWNLOAD, filename, detail=request.full_path.rstrip("?"))
    return Response(
        body,
        mimetype=MIME[ext].split(";")[0],
        content_type=MIME[ext],
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
