"""Paired comparison of scenarios: every probability is a count over the same posterior draws."""

from __future__ import annotations

import numpy as np
import pytest

from mmm_dash.core.comparison import compare_scenarios, prob_greater
from mmm_dash.core.metrics import Objective
from mmm_dash.core.scenario import ScenarioError, ScenarioModel
from tests.unit.synthetic import curve_set, make_bundle


@pytest.fixture()
def model():
    """Wide draws (30% noise per channel), so scenarios that move spend between channels overlap."""
    curves = curve_set(["A", "B", "C"], [100.0, 200.0, 50.0], [(400, 0.8), (300, 1.5), (90, 0.4)], noise=0.3)
    return ScenarioModel(curves)


def test_probability_is_the_share_of_draws_where_a_beats_b(model):
    hist = model.historical_spend
    a = hist * np.array([1.3, 0.85, 1.0])  # more on A, less on B
    b = hist * np.array([1.1, 0.95, 1.0])  # the same budget (350): judged on outcome
    result = compare_scenarios(model, [a, b], ["A-heavy", "B-heavy"])
    total_a = model.per_draw_outcome(a).sum(axis=1)
    total_b = model.per_draw_outcome(b).sum(axis=1)
    direct = np.count_nonzero(total_a > total_b) / len(total_a)
    assert 0.05 < direct < 0.95  # a real contest, not a foregone one
    assert result.prob_beats[0, 1] == pytest.approx(direct, abs=1e-12)
    assert result.prob_beats[0, 1] + result.prob_beats[1, 0] == pytest.approx(1.0)
    assert np.isnan(result.prob_beats[0, 0])
    diff = total_a - total_b
    d = result.difference(0, 1)
    assert d.mean == pytest.approx(diff.mean())
    assert (d.ci_lo, d.ci_hi) == pytest.approx(tuple(np.quantile(diff, [0.05, 0.95])))
    assert result.n_draws == len(total_a)


def test_identical_scenarios_tie_at_one_half(model):
    hist = model.historical_spend
    result = compare_scenarios(model, [hist, hist.copy(), hist * 1.1], ["one", "same", "more"])
    assert result.prob_beats[0, 1] == 0.5 and result.prob_beats[1, 0] == 0.5  # every draw ties: each counts half
    d = result.difference(0, 1)
    assert (d.mean, d.ci_lo, d.ci_hi) == (0.0, 0.0, 0.0)


def test_ties_count_half():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    b = np.array([1.0, 0.0, 5.0, 4.0])  # tie, win, loss, tie
    assert prob_greater(a, b) == pytest.approx((1 + 0.5 * 2) / 4)
    assert prob_greater(b, a) == pytest.approx(1 - prob_greater(a, b))
    with pytest.raises(ValueError, match="paired"):
        prob_greater(a, b[:3])


def test_more_spend_wins_on_outcome_in_every_draw_but_is_judged_on_net_return(model):
    """1% more spend on every channel: on paired draws its outcome is ahead in every single draw (which
    summed intervals could never show), yet more outcome for more money is not better by itself: the
    budgets differ, so the pair is judged on net return, and here the extra spend never pays back."""
    hist = model.historical_spend
    result = compare_scenarios(model, [hist * 1.01, hist], ["more", "historical"])
    more, base = result.scenarios
    assert more.total.ci_lo < base.total.ci_hi  # overlapping intervals
    more_draws, base_draws = (model.per_draw_outcome(s).sum(axis=1) for s in (hist * 1.01, hist))
    assert prob_greater(more_draws, base_draws) == 1.0  # ahead on outcome in every draw
    assert result.objective(0, 1) is Objective.NET_RETURN
    net = (more_draws - more.total_spend) - (base_draws - base.total_spend)
    assert result.prob_beats[0, 1] == pytest.approx(np.mean(net > 0)) == 0.0
    assert result.difference(0, 1).mean == pytest.approx(net.mean())
    assert result.pairs()[0]["judged_on"] == "net_return"


def test_kpi_models_compare_unequal_budgets_on_cost_per_kpi(model):
    hist = model.historical_spend
    result = compare_scenarios(model, [hist * 0.8, hist], ["less", "historical"], has_revenue=False)
    less, base = (model.per_draw_outcome(s).sum(axis=1) for s in (hist * 0.8, hist))
    cost_less, cost_base = hist.sum() * 0.8 / less, hist.sum() / base
    assert result.objective(0, 1) is Objective.COST_PER_KPI
    assert result.prob_beats[0, 1] == pytest.approx(np.mean(cost_less < cost_base))
    assert result.prob_beats[0, 1] > 0.5  # concave curves: the cut buys each KPI more cheaply


def test_per_channel_and_total_summaries_match_the_planner(model):
    hist = model.historical_spend
    plans = [hist, hist * np.array([1.2, 0.9, 0.5]), hist * 0.7, hist * np.array([0.1, 2.0, 1.0])]
    result = compare_scenarios(model, plans, ["a", "b", "c", "d"])
    assert result.prob_beats.shape == (4, 4)
    for plan, compared in zip(plans, result.scenarios, strict=True):
        evaluated = model.evaluate(plan)
        assert compared.total_spend == pytest.approx(evaluated.total_spend)
        assert (compared.total.mean, compared.total.ci_lo, compared.total.ci_hi) == pytest.approx(
            (evaluated.total_mean, evaluated.total_ci_lo, evaluated.total_ci_hi)
        )
        assert compared.channel_mean == pytest.approx(evaluated.outcome_mean)
        assert compared.channel_ci_lo == pytest.approx(evaluated.outcome_ci_lo)
        assert compared.roi.mean == pytest.approx(evaluated.total_roi_mean)
    rows = result.rows()
    assert len(rows) == 4 * (3 + 1) and rows[3]["channel"] == "Total"
    pairs = result.pairs()
    assert len(pairs) == 12 and {p["a"] for p in pairs} == {"a", "b", "c", "d"}


def test_works_on_a_whole_synthetic_bundle():
    bundle = make_bundle()
    model = ScenarioModel(bundle.period("all").curves)
    hist = model.historical_spend
    best = model.optimize_fixed(hist.sum())
    result = compare_scenarios(model, [best, hist], ["optimised", "historical"])
    assert result.scenarios[0].total.mean >= result.scenarios[1].total.mean
    assert result.prob_beats[0, 1] > 0.5


@pytest.mark.parametrize("count", [0, 1, 5])
def test_two_to_four_scenarios(model, count):
    with pytest.raises(ScenarioError, match="2 to 4"):
        compare_scenarios(model, [model.historical_spend] * count, ["x"] * count)


def test_spend_is_validated(model):
    with pytest.raises(ScenarioError, match="one spend per channel"):
        compare_scenarios(model, [model.historical_spend, [1.0, 2.0]], ["a", "b"])
    with pytest.raises(ScenarioError, match="2x historical"):
        compare_scenarios(model, [model.historical_spend, model.historical_spend * 3], ["a", "b"])
