"""`/export/<file>`: downloads of the selected view (model, version, period or range of weeks, geo),
for signed-in users only (via the guard). Unknown values answer with one sentence naming what exists."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from mmm_dash.builder.catalog import ModelUnavailable
from mmm_dash.core.bundle import UnknownGeoError, UnknownPeriodError
from mmm_dash.core.exports.files import BY_NAME, render
from mmm_dash.web.costly import limit_route
from mmm_dash.web.downloads import attachment, export_filename

bp = Blueprint("exports", __name__, url_prefix="/export")


@bp.get("/<filename>")
@limit_route("export", "exports")
def download(filename: str):
    export = BY_NAME.get(filename)
    if export is None:
        return jsonify(error=f"Unknown export {filename!r}; available: {', '.join(BY_NAME)}."), 404
    catalog = current_app.extensions["mmm_dash"].models
    names = catalog.models()
    model = request.args.get("model") or (names[0] if names else None)
    if model is None:
        return jsonify(error="No model in MODEL_DIR yet; add one or run `python -m mmm_dash demo-model`."), 404
    if model not in names and not catalog.versions(model):
        return jsonify(error=f"Unknown model {model!r}; available: {', '.join(names)}."), 404
    version = request.args.get("version") or None
    entry = catalog.version_entry(model, version)
    if entry is None:
        known = ", ".join(e.version for e in catalog.versions(model) if e.version) or "none (one file)"
        return jsonify(error=f"{model} has no version {version!r}; its versions: {known}."), 404
    try:
        bundle = catalog.bundle(entry.name)
    except ModelUnavailable as exc:
        if not exc.state.status.pending:
            return jsonify(error=exc.state.message), 422
        catalog.request_build(entry.name)  # a download link opened before any page: start the analysis too
        response = jsonify(error="This model is being analysed; try the download again in a few minutes.")
        return response, 503, {"Retry-After": "30"}
    period = request.args.get("period") or "all"
    geo = request.args.get("geo") or None
    try:
        analysis = bundle.period(period, geo)
    except (UnknownPeriodError, UnknownGeoError) as exc:
        return jsonify(error=str(exc)), 400
    body = render(export, bundle, analysis)
    return attachment(
        body, export_filename(model, analysis.period.key, export.kind, export.ext, entry.version, geo or "")
    )
