"""The incremental budget ladder and goal seek, on monotone synthetic curves with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from mmm_dash.core.budget_search import LadderStop, budget_ladder, goal_seek
from mmm_dash.core.scenario import ScenarioError, ScenarioModel
from tests.unit.synthetic import curve_set


@pytest.fixture()
def model():
    # Marginal returns at historical spend: A about 2, B about 1.4 (both room to grow), C about 0.4.
    # Hill slope 1: every draw's curve is concave and rising.
    curves = curve_set(["A", "B", "C"], [100.0, 200.0, 50.0], [(800, 0.8), (1200, 1.5), (90, 0.4)], noise=0.2)
    return ScenarioModel(curves)


def _channel_outcome(model, spend, i):
    return model.per_draw_outcome(spend)[:, i]


# -- ladder ----------------------------------------------------------------------------------------
def test_each_step_takes_the_best_slice_and_records_it(model):
    hist = model.historical_spend
    upper = hist * 1.6
    ladder = budget_ladder(model, hist, slice_fraction=0.05, threshold=1.0, upper=upper, max_steps=60)
    assert ladder.slice_size == pytest.approx(0.05 * hist.sum())
    assert ladder.steps, "the strong channel must take at least one slice"
    spend = hist.copy()
    for step in ladder.steps:
        # Brute force: every channel with room, its slice's mean marginal return over the draws.
        returns = {}
        for i, channel in enumerate(model.channels):
            size = min(ladder.slice_size, upper[i] - spend[i])
            if size > 1e-9:
                bumped = spend.copy()
                bumped[i] += size
                gain = _channel_outcome(model, bumped, i) - _channel_outcome(model, spend, i)
                returns[channel] = (gain / size, size)
        best = max(returns, key=lambda ch: returns[ch][0].mean())
        marginal, size = returns[best]
        assert step.channel == best
        assert step.slice == pytest.approx(size)
        assert step.marginal.mean == pytest.approx(marginal.mean())
        assert (step.marginal.ci_lo, step.marginal.ci_hi) == pytest.approx(tuple(np.quantile(marginal, [0.05, 0.95])))
        assert step.prob_above == pytest.approx(np.mean(marginal > 1.0))
        spend[model.channels.index(best)] += size
        assert step.budget == pytest.approx(spend.sum())
        assert step.outcome.mean == pytest.approx(model.per_draw_outcome(spend).sum(axis=1).mean())
    assert ladder.final_spend == pytest.approx(spend)


def test_stops_when_the_next_slice_returns_less_than_one(model):
    ladder = budget_ladder(model, model.historical_spend, upper=model.historical_spend * 2, max_steps=200)
    assert ladder.stop is LadderStop.BELOW_THRESHOLD
    assert all(s.marginal.mean >= 1.0 for s in ladder.steps)
    channel, next_return = ladder.next_best
    assert next_return.mean < 1.0 and channel in model.channels
    means = [s.marginal.mean for s in ladder.steps]
    assert all(b <= a + 1e-9 for a, b in zip(means, means[1:], strict=False))  # concave curves: returns fall


def test_stops_at_the_optimizer_bounds(model):
    hist = model.historical_spend
    ladder = budget_ladder(model, hist, threshold=0.0, max_steps=200)  # default upper: historical +30%
    assert ladder.stop is LadderStop.AT_BOUNDS
    assert ladder.final_spend == pytest.approx(hist * 1.3)
    assert ladder.upper == pytest.approx(hist * 1.3)
    assert ladder.capped() == tuple(model.channels)
    assert budget_ladder(model, hist, threshold=0.0, max_steps=1).capped() == ()  # one slice fills no bound
    # A channel already above its bound gets nothing.
    start = hist * np.array([1.5, 1.0, 1.0])
    ladder = budget_ladder(model, start, threshold=0.0, max_steps=200)
    assert "A" not in {s.channel for s in ladder.steps}


def test_stops_after_max_steps_and_slices_are_configurable(model):
    hist = model.historical_spend
    ladder = budget_ladder(model, hist, slice_fraction=0.01, threshold=0.0, max_steps=3, upper=hist * 2)
    assert ladder.stop is LadderStop.MAX_STEPS and len(ladder.steps) == 3
    assert [s.step for s in ladder.steps] == [1, 2, 3]
    assert all(s.slice == pytest.approx(0.01 * hist.sum()) for s in ladder.steps)
    assert ladder.steps[-1].budget == pytest.approx(hist.sum() * 1.03)


def test_a_lower_threshold_goes_further(model):
    """For a KPI-only model the threshold is 1 / (target cost per KPI): a dearer target goes further."""
    hist = model.historical_spend
    strict = budget_ladder(model, hist, threshold=1.5, upper=hist * 2, max_steps=200)
    lenient = budget_ladder(model, hist, threshold=1 / 2.0, upper=hist * 2, max_steps=200)  # 2 per KPI
    assert lenient.steps[-1].budget > strict.steps[-1].budget


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"slice_fraction": 0}, "slice"),
        ({"slice_fraction": 1.5}, "slice"),
        ({"max_steps": 0}, "1 to 200"),
        ({"max_steps": 1000}, "1 to 200"),
        ({"max_steps": 2.5}, "1 to 200"),
        ({"threshold": -1}, "non-negative"),
        ({"threshold": float("nan")}, "non-negative"),
        ({"upper": [1.0, 2.0]}, "every channel"),
        ({"start": [1e9, 1, 1]}, "2x historical"),
    ],
)
def test_ladder_inputs_are_checked(model, kwargs, message):
    with pytest.raises(ScenarioError, match=message):
        budget_ladder(model, **kwargs)


# -- goal seek -------------------------------------------------------------------------------------
def _grid_answer(model, lower, upper, met, n=801):
    """Brute force: the first budget on a fine grid whose optimal allocation meets the criterion."""
    budgets = np.linspace(lower.sum(), upper.sum(), n)
    allocate = model.fixed_budget_allocator(lower, upper)  # optimize_fixed's own allocator, built once
    for k, budget in enumerate(budgets):
        totals = model.per_draw_outcome(allocate(budget)).sum(axis=1)
        if met(totals):
            return budgets[max(k - 1, 0)], budget
    return None


@pytest.mark.parametrize("factor", [0.9, 1.0, 1.1])
def test_goal_seek_expected_outcome_matches_a_brute_force_grid(model, factor):
    lower, upper = np.zeros(3), model.historical_spend * 2
    target = factor * model.evaluate(model.historical_spend).total_mean
    result = goal_seek(model, target, lower=lower, upper=upper)
    assert result.reachable and result.probability is None
    before, first = _grid_answer(model, lower, upper, lambda t: t.mean() >= target)
    tolerance = 1e-4 * upper.sum()
    assert before - tolerance <= result.budget <= first + tolerance
    assert result.outcome.mean >= target
    assert result.spend == pytest.approx(model.optimize_fixed(result.budget, lower, upper))
    just_below = model.per_draw_outcome(model.optimize_fixed(result.budget - 2 * tolerance, lower, upper))
    assert just_below.sum(axis=1).mean() < target  # the smallest budget, within the tolerance
    assert result.iterations <= 60


def test_goal_seek_with_probability_matches_a_brute_force_grid(model):
    lower, upper = np.zeros(3), model.historical_spend * 2
    target = model.evaluate(model.historical_spend).total_mean
    result = goal_seek(model, target, probability=0.9, lower=lower, upper=upper)
    assert result.reachable and result.prob_reach >= 0.9
    before, first = _grid_answer(model, lower, upper, lambda t: np.mean(t >= target) >= 0.9)
    tolerance = 1e-4 * upper.sum()
    assert before - tolerance <= result.budget <= first + tolerance
    at_half = goal_seek(model, target, probability=0.5, lower=lower, upper=upper)
    expected = goal_seek(model, target, lower=lower, upper=upper)
    assert at_half.budget < result.budget and expected.budget < result.budget  # surer costs more


def test_goal_seek_says_when_a_target_is_out_of_reach(model):
    lower, upper = model.default_bounds()
    most = model.evaluate(model.optimize_fixed(upper.sum(), lower, upper)).total_mean
    result = goal_seek(model, most * 1.2)
    assert not result.reachable
    assert result.budget == pytest.approx(upper.sum()) == pytest.approx(result.max_budget)
    assert result.outcome.mean == pytest.approx(most)
    assert not goal_seek(model, most * 0.99, probability=0.999, lower=lower, upper=upper).reachable


def test_goal_seek_reached_at_the_lowest_budget_the_bounds_allow(model):
    lower, upper = model.default_bounds()
    result = goal_seek(model, 1.0, lower=lower, upper=upper)
    assert result.reachable and result.budget == pytest.approx(lower.sum()) == pytest.approx(result.min_budget)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target": 0}, "positive"),
        ({"target": float("inf")}, "positive"),
        ({"target": 10, "probability": 1.0}, "between"),
        ({"target": 10, "probability": 0}, "between"),
        ({"target": 10, "lower": [0, 0, 0], "upper": [1.0, 1.0]}, "every channel"),
        ({"target": 10, "lower": [5, 0, 0], "upper": [1.0, 1.0, 1.0]}, "lower bound is above"),
    ],
)
def test_goal_seek_inputs_are_checked(model, kwargs, message):
    with pytest.raises(ScenarioError, match=message):
        goal_seek(model, **kwargs)
