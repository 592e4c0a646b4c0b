"""The definitions every page shares (core/metrics.py): Meridian's cost per KPI, one cost scale per view,
and P(better) judged on what a budget owner optimizes."""

from __future__ import annotations

import numpy as np
import pytest

from mmm_dash.core.metrics import Objective, cost_per_kpi, cost_per_kpi_draws, judge_plans
from mmm_dash.core.scenario import ScenarioModel
from mmm_dash.core.tables import channel_metrics, in_cost_scale
from tests.unit.synthetic import make_bundle


def test_cost_per_kpi_is_meridians_mean_of_per_draw_costs_not_a_ratio_of_means():
    kpi = np.array([10.0, 12.0, 8.0, 0.5])  # one draw near zero: the per-draw costs have a long tail
    spend = 100.0
    cost = cost_per_kpi(spend, kpi)
    assert cost.mean == pytest.approx(np.mean(spend / kpi))  # Analyzer.summary_metrics' cpik
    assert cost.median == pytest.approx(np.median(spend / kpi))
    assert cost.mean > spend / kpi.mean() * 2  # the ratio of means would understate it badly
    assert cost_per_kpi_draws(np.array([1.0, 2.0]), np.array([[2.0, 4.0]]))[0] == pytest.approx([0.5, 0.5])


def test_window_table_and_planner_state_one_cost_per_kpi():
    """The KPI model's window table (Overview, ROI, insights, exports) and the planner at historical
    spend both call the one definition, draw by draw."""
    bundle = make_bundle(has_revenue=False, kpi_type="non_revenue")
    analysis = bundle.period("all")
    table = analysis.channel_table()
    w = analysis.draws
    for i, channel in enumerate(analysis.paid_channels):
        assert table.loc[channel, "cpik_mean"] == pytest.approx(cost_per_kpi(w.spend[i], w.incremental_kpi[:, i]).mean)
    model = ScenarioModel(analysis.curves)
    historical = model.evaluate(model.historical_spend)
    per_draw = model.per_draw_outcome(model.historical_spend)
    assert historical.total_cost_per_kpi.mean == pytest.approx(
        np.mean(model.historical_spend.sum() / per_draw.sum(axis=1))
    )
    assert historical.cost_per_kpi == pytest.approx(np.mean(model.historical_spend / per_draw, axis=0))


def test_every_cost_of_a_view_is_stated_in_the_blended_costs_scale():
    """€12.2 per 1,000 on Overview must not read €0.0122 per KPI on ROI: one scale per view, and the
    marginal cost per KPI column is filled (it was '–' for every channel while the chart plotted it)."""
    bundle = make_bundle(has_revenue=False, kpi_type="non_revenue", roi_scale=100.0)  # cheap KPI: < 0.1 each
    analysis = bundle.period("all")
    assert analysis.total().cpik_mean < 0.1 and analysis.cost_scale == 1000
    table = channel_metrics(analysis)
    assert table["mcpik_mean"].notna().all()
    scaled = in_cost_scale(table, analysis.cost_scale)
    assert scaled["cpik_mean"].to_numpy() == pytest.approx(table["cpik_mean"].to_numpy() * 1000)
    assert scaled["mcpik_ci_hi"].to_numpy() == pytest.approx(table["mcpik_ci_hi"].to_numpy() * 1000)
    assert scaled["roi_mean"].to_numpy() == pytest.approx(table["roi_mean"].to_numpy(), nan_ok=True)


def test_a_cheaper_plan_that_loses_revenue_is_judged_on_net_return():
    """The issue's case: cutting TV 20% saves 2.49M and loses 2.17M of revenue; P(better) on outcome
    alone said '< 1%', but the budget owner keeps 0.32M more."""
    rng = np.random.default_rng(0)
    today = 20.0 + rng.normal(0, 1.0, 1000)
    cut = today - 2.17 + rng.normal(0, 0.05, 1000)
    judged = judge_plans(True, 12.45 - 2.49, cut, 12.45, today)
    assert judged.objective is Objective.NET_RETURN
    assert judged.difference.mean == pytest.approx(np.mean((cut - 9.96) - (today - 12.45)))
    assert judged.p_better > 0.99
    kpi = judge_plans(False, 9.96, cut, 12.45, today)  # without revenue: cost per KPI, lower is better
    assert kpi.objective is Objective.COST_PER_KPI
    assert kpi.p_better == pytest.approx(np.mean(9.96 / cut < 12.45 / today))


def test_plans_of_the_same_budget_are_judged_on_outcome():
    a, b = np.array([1.0, 3.0, 2.0, 5.0]), np.array([2.0, 1.0, 2.0, 4.0])
    judged = judge_plans(True, 100.0, a, 100.0 * (1 + 1e-9), b)
    assert judged.objective is Objective.OUTCOME
    assert judged.p_better == pytest.approx((2 + 0.5) / 4)
    assert judged.difference.mean == pytest.approx(np.mean(a - b))
