"""The fast budget optimizer and what-if evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from mmm_dash.core.scenario import ScenarioError, ScenarioModel
from tests.unit.synthetic import curve_set


@pytest.fixture()
def model():
    curves = curve_set(["A", "B", "C"], [100.0, 200.0, 50.0], [(400, 0.8), (300, 1.5), (90, 0.4, 2.0)])
    return ScenarioModel(curves)


def test_fixed_budget_is_spent_exactly_within_bounds(model):
    lower, upper = model.default_bounds()
    for budget in (lower.sum(), 330.0, 350.0, 400.0, upper.sum()):
        spend = model.optimize_fixed(budget, lower, upper)
        assert spend.sum() == pytest.approx(budget, rel=1e-9)
        assert np.all(spend >= lower - 1e-9) and np.all(spend <= upper + 1e-9)


def test_optimum_beats_every_feasible_grid_allocation(model):
    lower, upper = model.default_bounds()
    budget = 350.0
    best = model.expected_outcome(model.optimize_fixed(budget, lower, upper)).sum()
    rng = np.random.default_rng(0)
    for _ in range(2000):
        w = rng.dirichlet(np.ones(3))
        candidate = lower + w * (budget - lower.sum())
        if np.all(candidate <= upper):
            assert model.expected_outcome(candidate).sum() <= best * (1 + 1e-4)


def test_outcome_is_monotone_in_budget(model):
    lower, upper = model.historical_spend * 0.0, model.historical_spend * 2
    outcomes = [model.expected_outcome(model.optimize_fixed(b, lower, upper)).sum() for b in np.linspace(0, 700, 15)]
    assert all(b >= a - 1e-9 for a, b in zip(outcomes, outcomes[1:], strict=False))


@pytest.mark.parametrize("budget", [100.0, 300.0, 500.0])
def test_s_shaped_curve_is_handled(model, budget):
    """C has a Hill slope of 2 (S-shaped, convex below its inflection at 0.23x of its 50 spend):
    the optimum still beats every allocation on a fine grid, and C is either unused or taken past
    its convex start, never left where its next step pays more than the last."""
    lower, upper = np.zeros(3), model.historical_spend * 2
    spend = model.optimize_fixed(budget, lower, upper)
    ours = model.expected_outcome(spend).sum()
    best_on_grid = max(
        model.expected_outcome(np.array([a, budget - a - c, c])).sum()
        for a in np.arange(0.0, upper[0] + 1e-9, 2.0)
        for c in np.arange(0.0, upper[2] + 1e-9, 1.0)
        if 0 <= budget - a - c <= upper[1]
    )
    assert ours >= best_on_grid * (1 - 1e-4)
    inflection = 50.0 * 0.4 * (1 / 3) ** 0.5
    assert spend[2] == 0 or spend[2] > inflection


def test_flexible_budget_with_target_mroi_stops_where_next_step_pays_less(model):
    lower, upper = np.zeros(3), model.historical_spend * 2
    spend = model.optimize_flexible(lower, upper, target_mroi=1.0)
    step = 1.0
    for i in range(3):
        if spend[i] + step <= upper[i]:
            bumped = spend.copy()
            bumped[i] += step
            gain = model.expected_outcome(bumped).sum() - model.expected_outcome(spend).sum()
            assert gain / step < 1.05


def test_flexible_budget_with_target_roi_meets_it(model):
    lower, upper = np.zeros(3), model.historical_spend * 2
    spend = model.optimize_flexible(lower, upper, target_roi=1.5)
    assert model.expected_outcome(spend).sum() / spend.sum() >= 1.5 - 1e-6
    higher = model.optimize_flexible(lower, upper, target_roi=3.0)
    assert higher.sum() < spend.sum()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: m.optimize_fixed(-1.0), "non-negative"),
        (lambda m: m.optimize_fixed(10.0, *m.default_bounds()), "below the sum of the lower bounds"),
        (lambda m: m.optimize_fixed(10_000.0, np.zeros(3), m.historical_spend * 2), "above the sum of the upper"),
        (lambda m: m.optimize_fixed(300.0, [50, 50, 50], [10, 300, 100]), "lower bound is above the upper"),
        (lambda m: m.optimize_fixed(300.0, [-5, 0, 0], [100, 300, 100]), "cannot be negative"),
        (lambda m: m.evaluate([-1, 0, 0]), "cannot be negative"),
        (lambda m: m.evaluate([1000, 0, 0]), "2x historical spend"),
        (lambda m: m.optimize_flexible(np.zeros(3), m.historical_spend), "either a target"),
    ],
)
def test_bad_inputs_give_one_sentence(model, call, message):
    with pytest.raises(ScenarioError, match=message):
        call(model)


def test_interval_of_total_comes_from_draws_not_sums_of_intervals(model):
    outcome = model.evaluate(model.historical_spend)
    assert outcome.total_mean == pytest.approx(outcome.outcome_mean.sum())
    summed_width = (outcome.outcome_ci_hi - outcome.outcome_ci_lo).sum()
    assert outcome.total_ci_hi - outcome.total_ci_lo < summed_width  # correlated draws, not added intervals
    assert outcome.total_ci_lo < outcome.total_mean < outcome.total_ci_hi


def test_a_larger_budget_never_takes_spend_from_a_channel(model):
    """Goal seek's bisection relies on this: with fixed bounds the allocations grow with the budget."""
    lower, upper = np.zeros(3), model.historical_spend * 2
    allocate = model.fixed_budget_allocator(lower, upper)
    previous = allocate(0.0)
    for budget in np.linspace(0, upper.sum(), 40)[1:]:
        spend = allocate(budget)
        assert spend.sum() == pytest.approx(budget, rel=1e-9)
        assert np.all(spend >= previous - 1e-9)
        assert spend == pytest.approx(model.optimize_fixed(budget, lower, upper))
        previous = spend
    with pytest.raises(ScenarioError, match="above the sum of the upper bounds"):
        allocate(upper.sum() * 1.1)


def test_per_draw_outcome_is_what_evaluate_summarises(model):
    spend = model.historical_spend * np.array([1.2, 0.5, 1.9])
    draws = model.per_draw_outcome(spend)
    evaluated = model.evaluate(spend)
    assert draws.shape == (200, 3)
    assert draws.mean(axis=0) == pytest.approx(evaluated.outcome_mean)
    assert np.quantile(draws.sum(axis=1), 0.95) == pytest.approx(evaluated.total_ci_hi)
    assert model.channel_draws(1, np.array([spend[1]]))[:, 0] == pytest.approx(draws[:, 1])
