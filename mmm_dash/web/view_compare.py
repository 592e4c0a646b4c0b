"""Both sides of the Compare page from request arguments, for the page and its downloads:
`model`, `version`, `period`, `geo` name B (this view), the same with `base_` name A (the baseline);
without any `base_` argument A is the page's like-for-like default."""

from __future__ import annotations

import json

from flask import Blueprint, current_app, jsonify, request

from mmm_dash.builder.catalog import ModelUnavailable
from mmm_dash.core.bundle import Bundle, PeriodAnalysis, UnknownGeoError, UnknownPeriodError
from mmm_dash.core.compare_views import ViewSide, compare_views, default_baseline
from mmm_dash.core.exports.comparison import comparison_csv, comparison_document
from mmm_dash.core.trust import channel_ess, converged
from mmm_dash.core.windows import range_key
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
    ess = channel_ess(rhat)  # the figure the trust banner and Diagnostics quote
    return ViewSide(
        label=side_label(bundle, analysis),
        info=bundle.info,
        analysis=analysis,
        health=bundle.health,
        max_rhat=float(rhat["max_r_hat"].max()) if len(rhat) else float("nan"),
        min_ess=ess.value if ess is not None else float("nan"),
        converged=converged(bundle),
    )


def _bundle(model: str | None, version: str | None) -> tuple[str, Bundle]:
    """(model, bundle) of `model`'s `version` (its newest when None); SideUnavailable says why not."""
    catalog = current_app.extensions["mmm_dash"].models
    names = catalog.models()
    model = model or (names[0] if names else None)
    if model is None or (model not in names and not catalog.versions(model)):
        raise SideUnavailable(f"Unknown model {model!r}; available: {', '.join(names)}.", 404)
    entry = catalog.version_entry(model, version)
    if entry is None:
        raise SideUnavailable(f"{model} has no version {version!r}.", 404)
    try:
        return model, catalog.bundle(entry.name)
    except ModelUnavailable as exc:
        if exc.state.status.pending:
            catalog.request_build(entry.name)
            raise SideUnavailable(f"{entry.name} is being analysed; try again in a few minutes.", 503) from None
        raise SideUnavailable(exc.state.message, 422) from None


def _analysis(bundle: Bundle, period: str | None, geo: str | None) -> PeriodAnalysis:
    try:
        return bundle.period(period or "all", geo or None)
    except (UnknownPeriodError, UnknownGeoError) as exc:
        raise SideUnavailable(str(exc), 400) from None


def side_from_args(prefix: str = "") -> ViewSide:
    """The side named by `<prefix>model`, `<prefix>version`, `<prefix>period` and `<prefix>geo`."""
    args = request.args
    _model, bundle = _bundle(args.get(prefix + "model"), args.get(prefix + "version") or None)
    return make_side(bundle, _analysis(bundle, args.get(prefix + "period"), args.get(prefix + "geo")))


def default_sides() -> tuple[ViewSide, ViewSide]:
    """(A, B) when the query names no baseline: as the page, like for like (`default_baseline`): the
    previous version over the weeks both cover, or the same weeks a year earlier, on B's geo."""
    args = request.args
    catalog = current_app.extensions["mmm_dash"].models
    model, bundle = _bundle(args.get("model"), args.get("version") or None)
    geo = args.get("geo") or None
    asked = _analysis(bundle, args.get("period"), geo).period
    labels = [e.version for e in catalog.versions(model) if e.version]
    i = labels.index(bundle.info.version) if bundle.info.version in labels else len(labels)
    previous = labels[i + 1] if i + 1 < len(labels) else None
    earlier = _bundle(model, previous)[1] if previous else None
    window = (asked.start, asked.end) if args.get("period") else None
    choice = default_baseline(bundle.draws.times, window, previous, earlier.draws.times if earlier else None)
    if choice.base is None:
        raise SideUnavailable(choice.note, 404)
    base = earlier if choice.base_version else bundle
    base_geo = geo if geo in base.info.geos else None
    return (
        make_side(base, _analysis(base, range_key(*choice.base), base_geo)),
        make_side(bundle, _analysis(bundle, range_key(*choice.view), geo)),
    )


@bp.get("/download.<ext>")
@limit_route("comparison", "comparison downloads")
def download(ext: str):
    """This comparison's numbers as CSV or JSON (the page's query, see the module docstring)."""
    if ext not in ("csv", "json"):
        return jsonify(error="Comparisons download as .csv or .json."), 404
    try:
        if any(request.args.get(k) for k in ("base_model", "base_version", "base_period", "base_geo")):
            b, a = side_from_args(""), side_from_args("base_")
        else:
            a, b = default_sides()
    except SideUnavailable as exc:
        return jsonify(error=str(exc)), exc.status
    c = compare_views(a, b)
    body = json.dumps(comparison_document(c), indent=2) if ext == "json" else comparison_csv(c)
    name = "-".join(safe_filename_part(p) for p in (a.label, "vs", b.label))
    return attachment(body, f"mmm-compare-{name}.{ext}")
