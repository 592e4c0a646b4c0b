"""Any real Meridian model, not only the demo: national and geo, with and without reach & frequency,
organic media and non-media treatments, revenue and non-revenue KPIs (with and without revenue per KPI)."""

from __future__ import annotations

import numpy as np
import pytest

from mmm_dash.core.exports import documents, inspection, report
from mmm_dash.core.insights import build_insights
from mmm_dash.core.scenario import ScenarioModel
from tests.helpers import TEST_CACHE
from tests.model.conftest import meridian_model

pytestmark = pytest.mark.slow


def test_model_info_matches_the_shape(shape_bundle):
    shape, _dir, bundle = shape_bundle
    info = bundle.info
    if shape == "national_revenue":
        assert info.is_national and info.kpi_type == "revenue" and info.has_revenue
        assert info.paid_channels == ("TV", "Paid Search", "Social")
    elif shape == "geo_rf_no_revenue":
        assert not info.is_national and info.n_geos == 3
        assert info.rf_channels == ("Connected TV",) and not info.has_revenue
        assert info.roi_label != "ROI"
    else:
        assert info.organic_media_channels == ("Newsletter",) and info.non_media_channels == ("promotion",)
        assert info.kpi_type == "non_revenue" and info.has_revenue


def test_bundle_holds_every_section(shape_bundle):
    shape, _dir, bundle = shape_bundle
    assert list(bundle.presets)[0] == "all" and "last52" in bundle.presets
    for key in bundle.presets:
        analysis = bundle.period(key)
        table = analysis.channel_table()
        assert list(table.index) == list(bundle.info.paid_channels)
        assert np.all(table.roi_ci_lo <= table.roi_mean) and np.all(table.roi_mean <= table.roi_ci_hi)
        curves = analysis.curves
        assert curves.mean.shape == (len(bundle.info.paid_channels), 41)
        assert np.all(np.diff(curves.mean, axis=1) >= -1e-6 * np.abs(curves.mean).max())  # monotone
    if shape == "geo_rf_no_revenue":
        frequency = bundle.period("all").optimal_frequency
        assert "Connected TV" in frequency.index
        assert 1.5 <= frequency.loc["Connected TV", "current_frequency"] <= 3.5  # the simulated 1.5-3.5 range
        assert {"mean", "ci_lo", "ci_hi"} <= set(frequency.loc["Connected TV", "roi_by_frequency"])
    if shape == "geo_organic_non_media":
        assert {"Newsletter", "promotion"} <= set(bundle.period("all").non_paid.index)
    assert len(bundle.rhat) > 0 and len(bundle.period("all").series) == bundle.info.n_times
    assert bundle.health is not None and bundle.health.checks


def test_fast_optimizer_matches_meridian_on_every_shape(shape_bundle):
    from mmm_dash.builder.meridian.optimizer_check import meridian_optimizations

    shape, model_dir, bundle = shape_bundle
    analysis = bundle.period("all")
    model = ScenarioModel(analysis.curves)
    mmm = meridian_model(model_dir, shape)
    for factor, meridian in meridian_optimizations(mmm, analysis.period, not bundle.info.has_revenue).items():
        spend = model.optimize_fixed(meridian.budget, meridian.lower_bound, meridian.upper_bound)
        assert model.expected_outcome(spend).sum() >= 0.99 * meridian.total_optimal_outcome, factor


def test_insights_and_exports_work_on_every_shape(shape_bundle):
    _shape, _dir, bundle = shape_bundle
    analysis = bundle.period("all")
    insights = build_insights(bundle, analysis)
    assert insights and all(i.numbers for i in insights)
    assert documents.metrics_document(bundle, analysis)["channels"]
    assert "Per-channel metrics" in report.report_html(bundle, analysis, insights)
    assert bundle.info.name in inspection.inspect_text(bundle, analysis)


def test_curves_equal_meridians_response_curves(shape_bundle):
    """The bundle keeps per-draw curves; their summary is exactly Meridian's response_curves."""
    from meridian.analysis import analyzer

    shape, model_dir, bundle = shape_bundle
    mmm = meridian_model(model_dir, shape)
    curves = bundle.period("all").curves
    use_kpi = not bundle.info.has_revenue
    ds = analyzer.Analyzer(mmm).response_curves(spend_multipliers=[0.5, 1.0, 1.5], use_kpi=use_kpi)
    for j, mult in enumerate([0.5, 1.0, 1.5]):
        k = int(np.argmin(np.abs(curves.multipliers - mult)))
        expected = ds["incremental_outcome"].sel(metric="mean").values[j]
        np.testing.assert_allclose(curves.mean[:, k], expected, rtol=1e-6)


ERROR_PLACEHOLDERS = {"model-error", "building", "no-models", "view-notice"}


def _components(node) -> list[dict]:
    """Every component in a serialised Dash layout, depth first."""
    if isinstance(node, list):
        return [c for child in node for c in _components(child)]
    if not isinstance(node, dict):
        return []
    if "type" in node and "props" in node:
        return [node, *_components(node["props"])]
    return [c for child in node.values() for c in _components(child)]


def test_pages_render_for_every_shape(shape_bundle, tmp_path):
    """Each page shows this model's own content: the model and period asked for, no error,
    progress or substitution notice in its place, and charts, grids or insights with data in them."""
    import json

    import dash
    import plotly
    from flask_login import login_user

    from mmm_dash.web.auth.accounts import find_user
    from mmm_dash.web.scenarios import service
    from tests.helpers import create_user, make_app

    shape, model_dir, bundle = shape_bundle
    app = make_app(f"sqlite:///{tmp_path / 'db.sqlite3'}", model_dir, TEST_CACHE / "cache")
    email, _password = create_user(app)
    with app.server.test_request_context("/"):
        login_user(find_user(email))  # pages are only ever rendered for a signed-in user
        historical = bundle.period("all").curves.historical_spend
        saved = service.save_scenario(
            find_user(email).id, "More of all", shape, "all", {"spend": list(historical * 1.1)}
        )
        for page in (p for p in dash.page_registry.values() if p["path"] != "/404"):
            query = {"compare": f"historical,{saved.id}"} if page["path"] == "/compare-scenarios" else {}
            layout = page["layout"](model=shape, period="all", **query)
            components = _components(json.loads(json.dumps(layout, cls=plotly.utils.PlotlyJSONEncoder)))
            by_id = {c["props"].get("id"): c for c in components if isinstance(c["props"].get("id"), str)}
            assert not ERROR_PLACEHOLDERS & set(by_id), (page["path"], ERROR_PLACEHOLDERS & set(by_id))
            assert by_id["model-select"]["props"]["value"] == shape, page["path"]
            period_select = by_id["period-select"]["props"]
            main = [k for k, p in bundle.presets.items() if p.kind in ("all", "year", "last52")]
            offered = [o["value"] for o in period_select["options"]]
            if page["path"] == "/compare":  # B narrowed to the weeks compared like for like, and it says so
                assert "compare-default" in by_id and "compare-result" in by_id and offered[: len(main)] == main
            else:
                assert period_select["value"] == "all" and offered == main, page["path"]
            graphs_with_data = [
                c for c in components if c["type"] == "Graph" and (c["props"].get("figure") or {}).get("data")
            ]
            grids_with_rows = [c for c in components if c["type"] == "AgGrid" and c["props"].get("rowData")]
            insights = by_id.get("insight-list", {}).get("props", {}).get("children")
            if page["path"] == "/geos" and bundle.info.is_national:
                assert "geos-national" in by_id, "a national model's Geos page says it has no geos"
                continue
            assert graphs_with_data or grids_with_rows or insights, f"{page['path']} shows no content"
