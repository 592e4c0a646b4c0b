"""A geo's row on the Geos page equals Meridian's own `summary_metrics(selected_geos=[geo])` for the
paid total, on the small geo test models (one with revenue, one KPI-only for cost per KPI).

Tolerances as in test_windows.py: spend is exact; outcome metrics come from the per-geo float16 cubes,
within 0.2% of Meridian (see that module's docstring for why)."""

from __future__ import annotations

import numpy as np
import pytest

from mmm_dash.core.bundle import TOTAL_CHANNEL
from mmm_dash.core.geos import geo_breakdown
from tests.model.conftest import meridian_model

pytestmark = pytest.mark.slow


def paid_total(ds):
    """Meridian's paid-total row: its last channel (named "All Channels" or "All Paid Channels" by
    Meridian version; the app calls it TOTAL_CHANNEL)."""
    total = ds.isel(channel=-1)
    assert str(total["channel"].item()) in ("All Channels", TOTAL_CHANNEL)
    return total


GEO_SHAPES = ["geo_organic_non_media", "geo_rf_no_revenue"]  # revenue (ROI), KPI only (cost per KPI)


@pytest.mark.parametrize("shape_bundle", GEO_SHAPES, indirect=True)
def test_each_geos_row_equals_meridians_selected_geos(shape_bundle):
    from meridian.analysis import analyzer

    shape, model_dir, bundle = shape_bundle
    an = analyzer.Analyzer(meridian_model(model_dir, shape))
    use_kpi = not bundle.info.has_revenue
    quarter = next(k for k, p in bundle.presets.items() if p.kind == "quarter" and p.n_times >= 12)
    for key in ("all", quarter):
        period = bundle.presets[key]
        weeks = [t for t in bundle.draws.times if period.start <= t <= period.end]
        breakdown = geo_breakdown(bundle, key)
        metric = breakdown.efficiency
        assert metric == ("cpik" if use_kpi else "roi")
        national = an.summary_metrics(selected_times=weeks, use_kpi=use_kpi, confidence_level=0.9)
        all_spend = float(paid_total(national)["spend"])
        for _i, row in breakdown.geos.iterrows():
            geo = row["geo"]
            ds = an.summary_metrics(selected_times=weeks, selected_geos=[geo], use_kpi=use_kpi, confidence_level=0.9)
            ds = paid_total(ds)
            what = f"{shape} {key} {geo}"
            np.testing.assert_allclose(row["spend"], float(ds["spend"]), rtol=1e-9, err_msg=what)
            np.testing.assert_allclose(row["pct_of_spend"], float(ds["spend"]) / all_spend * 100, rtol=1e-9)
            for name in ("incremental_outcome", "pct_of_contribution", metric):
                theirs = ds[name].sel(distribution="posterior")
                for stat in ("mean", "ci_lo", "ci_hi"):
                    expected = float(theirs.sel(metric=stat))
                    np.testing.assert_allclose(row[f"{name}_{stat}"], expected, rtol=2e-3, err_msg=f"{what} {name}")
        assert breakdown.geos["pct_of_spend"].sum() == pytest.approx(100.0)
