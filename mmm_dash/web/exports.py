"""`/export/<file>`: downloads for the selected model and period (signed-in users only, via the guard)."""

from __future__ import annotations

import datetime as dt
import json
import re

from flask import Blueprint, Response, current_app, jsonify, request

from mmm_dash.builder.catalog import ModelUnavailable
from mmm_dash.core import formats
from mmm_dash.core.bundle import UnknownPeriodError
from mmm_dash.core.insights import build_insights

bp = Blueprint("exports", __name__, url_prefix="/export")

MIME = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "html": "text/html; charset=utf-8",
}
FILES = ("insights.json", "insights.csv", "insights.txt", "metrics.csv", "metrics.json", "report.html")


def safe_filename_part(part: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", part)[:80] or "model"


def _attachment(body: str, kind: str, ext: str, model: str, period: str) -> Response:
    name = f"mmm-{safe_filename_part(model)}-{safe_filename_part(period)}-{dt.date.today().isoformat()}-{kind}.{ext}"
    return Response(
        body,
        mimetype=MIME[ext].split(";")[0],
        content_type=MIME[ext],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@bp.get("/<filename>")
def download(filename: str):
    if filename not in FILES:
        return jsonify(error=f"Unknown export {filename!r}; available: {', '.join(FILES)}."), 404
    catalog = current_app.extensions["mmm_dash"].models
    names = catalog.names()
    model = request.args.get("model") or (names[0] if names else None)
    if model is None:
        return jsonify(error="No model in MODEL_DIR yet; add one or run `python -m mmm_dash demo-model`."), 404
    if model not in names:
        return jsonify(error=f"Unknown model {model!r}; available: {', '.join(names)}."), 404
    try:
        bundle = catalog.bundle(model)
    except ModelUnavailable as exc:
        status = 503 if exc.state.status.pending else 422
        return jsonify(error=exc.state.message or "The model is still being analysed; try again shortly."), status
    period = request.args.get("period") or "all"
    try:
        analysis = bundle.period(period)
    except UnknownPeriodError as exc:
        return jsonify(error=str(exc)), 400

    kind, ext = filename.split(".")
    if kind == "metrics":
        body = (
            json.dumps(formats.metrics_document(bundle, analysis), indent=2)
            if ext == "json"
            else formats.metrics_csv(analysis)
        )
        return _attachment(body, kind, ext, model, period)
    insights = build_insights(bundle.info, analysis)
    if kind == "report":
        body = formats.report_html(bundle, analysis, insights)
    elif ext == "json":
        body = json.dumps(formats.insights_document(bundle, analysis, insights), indent=2)
    elif ext == "csv":
        body = formats.insights_csv(insights)
    else:
        body = formats.insights_text(bundle, analysis, insights)
    return _attachment(body, kind, ext, model, period)
