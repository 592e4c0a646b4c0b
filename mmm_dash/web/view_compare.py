"""Both sides of the Compare page from request arguments, for the page and its downloads:
`model`, `version`, `period`, `geo` name B (this view), the same with `base_` name A (the baseline)."""

from __future__ import annotations

import json

from flask import Blueprint, current_app, jsonify, request

from mmm_dash.builder.catalog import ModelUnavailable
from mmm_dash.core.bundle import Bundle, PeriodAnalysis, UnknownGeoError, UnknownPeriodError
from mmm_dash.core.compare_views import ViewSide, compare_views
from mmm_dash.core.exports.comparison import comparison_csv, comparison_document
from mmm_dash.web.costly import limit_route
from mmm_dash.web.downloads import attachment, safe_filename_part

bp = Blueprint("compare_views", __name__, url_prefix="/compare")


class SideUnavailable(Exception):
    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def side_label(bundle: Bundle, analysis: PeriodAnalysis) -> str:
    info = bundle.info
    parts = [info.name] + ([info.version] if info.version else []) + [analysis.period.label, analysis.geo or "all geos"]
    return " · ".join(parts)


def make_side(bundle: Bundle, analysis: PeriodAnalysis) -> ViewSide:
    rhat = bundle.rhat
    return ViewSide(
        label=side_label(bundle, analysis),
        info=bundle.info,
        analysis=analysis,
        health=bundle.health,
        max_rhat=float(rhat["max_r_hat"].max()) if len(rhat) else float("nan"),
        min_ess=float(rhat["min_ess"].min()) if "min_ess" in rhat and len(rhat) else float("nan"),
    )


def side_from_args(prefix: str = "") -> ViewSide:
    """The side named by `<prefix>model`, `<prefix>version`, `<prefix>period` and `<prefix>geo`."""
    catalog = current_app.extensions["mmm_dash"].models
    names = catalog.models()
    model = request.args.get(prefix + "model") or (names[0] if names else None)
    if model is None or (model not in names and not catalog.versions(model)):
        raise SideUnavailable(f"Unknown model {model!r}; available: {', '.join(names)}.", 404)
    version = request.args.get(prefix + "version") or None
    entry = catalog.version_entry(model, version)
    if entry is None:
        raise SideUnavailable(f"{model} has no version {version!r}.", 404)
    try:
        bundle = catalog.bundle(entry.name)
    except ModelUnavailable as exc:
        if exc.state.status.pending:
            catalog.request_build(entry.name)
            raise SideUnavailable(f"{entry.name} is being analysed; try again in a few minutes.", 503) from None
        raise SideUnavailable(exc.state.message, 422) from None
    try:
        analysis = bundle.period(request.args.get(prefix + "period") or "all", request.args.get(prefix + "geo") or None)
    except (UnknownPeriodError, UnknownGeoError) as exc:
        raise SideUnavailable(str(exc), 400) from None
    return make_side(bundle, analysis)


@bp.get("/download.<ext>")
@limit_route("comparison", "comparison downloads")
def download(ext: str):
    """This comparison's numbers as CSV or JSON (the page's query, see the module docstring)."""
    if ext not in ("csv", "json"):
        return jsonify(error="Comparisons download as .csv or .json."), 404
    try:
        b = side_from_args("")
        a = side_from_args("base_")
    except SideUnavailable as exc:
        return jsonify(error=str(exc)), exc.status
    c = compare_views(a, b)
    body = json.dumps(comparison_document(c), indent=2) if ext == "json" else comparison_csv(c)
    name = "-".join(safe_filename_part(p) for p in (a.label, "vs", b.label))
    return attachment(body, f"mmm-compare-{name}.{ext}")
