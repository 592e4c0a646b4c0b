"""A model with both units (revenue from a KPI with revenue per KPI): the window table states the incremental KPI
and the marginal cost per KPI beside revenue, as the per-draw sums of revenue over revenue per KPI, and the
metrics exports carry them."""

from __future__ import annotations

import numpy as np
import pytest

from mmm_dash.core.bundle import MARGINAL_INCREASE, STATS, TOTAL_CHANNEL
from mmm_dash.core.exports.documents import metrics_csv, metrics_document
from mmm_dash.core.metrics import cost_per_kpi, cost_per_kpi_draws
from mmm_dash.core.windows import summarise
from tests.unit.synthetic import CHANNELS, N_DRAWS, channel_draws, make_bundle

GEOS = ("North", "South", "East")
N_WEEKS = 52


def revenue_per_kpi() -> np.ndarray:
    """(G, T) revenue per KPI that differs by geo and week, so no single ratio converts the totals."""
    weeks = np.arange(N_WEEKS)
    return np.stack([40.0 + 10 * g + 5 * np.cos(weeks / (3 + g)) for g in range(len(GEOS))])


def raw_kpi(bundle, geo: str | None, start: str, end: str) -> tuple[np.ndarray, np.ndarray]:
    """(S, C) per-draw incremental and marginal KPI straight from the synthetic ROI draws, weeks and geos."""
    roi, mroi = channel_draws(1)
    d = bundle.draws
    weeks = d.time_index(start, end)
    geos = range(len(GEOS)) if geo is None else [GEOS.index(geo)]
    rpk = revenue_per_kpi()
    spend_per_kpi = sum((d.spend[g, weeks] / rpk[g, weeks, None]).sum(axis=0) for g in geos)  # (C,)
    return roi * spend_per_kpi[None], mroi * MARGINAL_INCREASE * spend_per_kpi[None]


@pytest.fixture(scope="module")
def bundle():
    return make_bundle(geos=GEOS, n_weeks=N_WEEKS, revenue_per_kpi=revenue_per_kpi())


@pytest.mark.parametrize(("period", "geo"), [("all", None), ("2024-q2", None), ("all", "South"), ("2024-q3", "East")])
def test_kpi_columns_are_the_per_draw_sums_of_revenue_over_revenue_per_kpi(bundle, period, geo):
    assert bundle.info.has_both_units
    a = bundle.period(period, geo)
    kpi, marginal_kpi = raw_kpi(bundle, geo, a.period.start, a.period.end)
    rel = 1e-6 if geo is None else 2e-3  # one geo reads the float16 geo cubes (all geos: the national KPI cube)
    marginal_rel = 2e-3  # the marginal KPI reads the geo cubes, each geo with its own revenue per KPI
    np.testing.assert_allclose(a.draws.incremental_kpi, kpi, rtol=rel)
    np.testing.assert_allclose(a.draws.marginal_kpi, marginal_kpi, rtol=marginal_rel)
    table = a.channels
    for i, channel in enumerate(CHANNELS):
        expected = summarise(kpi[:, i])
        for stat in STATS:
            assert table.loc[channel, f"incremental_kpi_{stat}"] == pytest.approx(expected[stat], rel=rel)
        # cost per KPI: Meridian's cpik, the one definition (mean of per-draw spend / incremental KPI)
        spend = table.loc[channel, "spend"]
        assert table.loc[channel, "cpik_mean"] == pytest.approx(cost_per_kpi(spend, kpi[:, i]).mean, rel=rel)
        mcpik = cost_per_kpi_draws(MARGINAL_INCREASE * spend, marginal_kpi[:, i])
        assert table.loc[channel, "mcpik_mean"] == pytest.approx(mcpik.mean(), rel=marginal_rel)
        assert table.loc[channel, "mcpik_ci_hi"] == pytest.approx(np.quantile(mcpik, 0.95), rel=marginal_rel)
    total = summarise(kpi.sum(axis=1))
    for stat in STATS:
        assert table.loc[TOTAL_CHANNEL, f"incremental_kpi_{stat}"] == pytest.approx(total[stat], rel=rel)
    # the KPI is not revenue divided by one average revenue per KPI: the weeks' and geos' own ratios count
    flat = a.draws.incremental / revenue_per_kpi().mean()
    assert not np.allclose(a.draws.incremental_kpi, flat, rtol=1e-3)


def test_baseline_has_its_kpi_too(bundle):
    a = bundle.period("all")
    assert 0 < a.baseline["incremental_kpi_mean"] < a.baseline["incremental_outcome_mean"] / 30


def test_metrics_exports_carry_the_kpi_with_intervals(bundle):
    a = bundle.period("2024-q2")
    doc = metrics_document(bundle, a)
    for record in [*doc["channels"], doc["total"]]:
        row = a.channels.loc[record["channel"]]
        assert record["incremental_kpi"] == pytest.approx({s: row[f"incremental_kpi_{s}"] for s in STATS})
        assert record["cpik"]["mean"] == pytest.approx(row["cpik_mean"])
    assert [r["mcpik"]["mean"] for r in doc["channels"]] == pytest.approx(list(a.channel_table()["mcpik_mean"]))
    assert doc["baseline"]["incremental_kpi"]["mean"] == pytest.approx(a.baseline["incremental_kpi_mean"])
    header = metrics_csv(a).splitlines()[0].split(",")
    assert {"incremental_kpi_mean", "incremental_kpi_ci_lo", "incremental_kpi_ci_hi", "mcpik_mean_usd"} <= set(header)


def test_models_with_one_unit_keep_their_columns():
    revenue = make_bundle().period("all")
    assert "incremental_kpi_mean" not in revenue.channels and "mcpik_mean" not in revenue.channels
    kpi_only = make_bundle(has_revenue=False).period("all")
    assert "incremental_kpi_mean" not in kpi_only.channels  # its outcome is the KPI
    table = kpi_only.channel_table()
    inverse = 1 / kpi_only.mroi_draws  # a KPI model's marginal cost per KPI is 1 / mROI, draw by draw
    np.testing.assert_allclose(table["mcpik_mean"], inverse.mean(axis=0), rtol=1e-12)
    assert kpi_only.draws.incremental_kpi.shape == (N_DRAWS, len(CHANNELS))


def test_a_national_model_converts_week_by_week_too():
    rpk = revenue_per_kpi()[:1]  # (1, T)
    bundle = make_bundle(n_weeks=N_WEEKS, revenue_per_kpi=rpk)
    assert bundle.info.is_national and not bundle.draws.by_geo
    a = bundle.period("2024-q3")
    roi, mroi = channel_draws(1)
    weeks = bundle.draws.time_index(a.period.start, a.period.end)
    spend = bundle.draws.spend[0, weeks]  # (T', C)
    spend_per_kpi = (spend / rpk[0, weeks, None]).sum(axis=0)
    np.testing.assert_allclose(a.draws.incremental_kpi, roi * spend_per_kpi, rtol=1e-6)
    np.testing.assert_allclose(a.draws.marginal_kpi, mroi * MARGINAL_INCREASE * spend_per_kpi, rtol=1e-6)
