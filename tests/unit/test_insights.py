"""Insights are a pure function of the bundle: one reconciled verdict per channel, checked on known,
synthetic cases (Strong, Saturated, Loser, Noisy; see tests/unit/synthetic.py)."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from mmm_dash.core.insights import ACTIONS, break_even_multiplier, build_insights, channel_verdicts
from mmm_dash.core.scenario import ScenarioModel
from tests.unit.synthetic import CHANNELS, curve_set, make_bundle


def by_id(insights):
    return {i.id: i for i in insights}


@pytest.fixture()
def bundle():
    return make_bundle()


@pytest.fixture()
def insights(bundle):
    return build_insights(bundle, bundle.period("all"))


def test_every_channel_gets_exactly_one_verdict_uncertain_first(insights):
    verdicts = [i for i in insights if i.id.startswith("verdict-")]
    assert sorted(v.channel for v in verdicts) == sorted(CHANNELS)
    assert [ACTIONS.index(v.action) for v in verdicts] == sorted(ACTIONS.index(v.action) for v in verdicts)
    assert verdicts[0].channel == "Noisy" and verdicts[0].action == "test"


def test_a_confident_loss_is_cut_even_when_its_interval_is_wide(bundle):
    """Loser's interval is wide relative to its small mean, but it loses money with confidence."""
    analysis = bundle.period("all")
    wide = analysis.channels.assign(roi_ci_hi=analysis.channels.roi_mean * 3)
    verdicts = {v.channel: v for v in channel_verdicts(bundle, dataclasses.replace(analysis, channels=wide))}
    assert verdicts["Loser"].action == "cut"


def test_verdicts_follow_the_rules(insights):
    v = by_id(insights)
    assert v["verdict-Loser"].action == "cut" and "P(ROI < 1) > 99%" in v["verdict-Loser"].text
    assert v["verdict-Strong"].action == "shift-in"  # the planner moves budget to it within the same total
    assert "+30%" in v["verdict-Strong"].text
    assert "too uncertain" not in v["verdict-Strong"].text


def test_the_reallocation_holds_uncertain_channels_and_its_moves_add_up(bundle, insights):
    realloc = by_id(insights)["reallocate-budget"]
    moves = {k.removeprefix("spend_change_"): v for k, v in realloc.numbers.items() if k.startswith("spend_change_")}
    assert moves["Noisy"] == 0  # too uncertain to move: held at its spend
    assert sum(moves.values()) == pytest.approx(0, abs=1e-9 * bundle.period("all").curves.historical_spend.sum())
    assert "Noisy stay at their spend" in realloc.text


def test_the_reallocation_carries_its_interval_and_probability_from_the_draws(bundle, insights):
    analysis = bundle.period("all")
    model = ScenarioModel(analysis.curves)
    realloc = by_id(insights)["reallocate-budget"]
    planned = np.array(realloc.planned_spend)
    gain = model.per_draw_outcome(planned).sum(axis=1) - model.per_draw_outcome(model.historical_spend).sum(axis=1)
    assert realloc.numbers["outcome_gain"] == pytest.approx(gain.mean())
    assert realloc.numbers["outcome_gain_ci_lo"] == pytest.approx(np.quantile(gain, 0.05))
    assert realloc.numbers["outcome_gain_ci_hi"] == pytest.approx(np.quantile(gain, 0.95))
    assert realloc.probability == pytest.approx((gain > 0).mean() + 0.5 * (gain == 0).mean())
    shifted = by_id(insights)["verdict-Strong"]
    assert shifted.planned_spend == realloc.planned_spend  # "open in the planner" applies the same move


def test_without_moves_the_roi_rules_decide(bundle):
    """Equal curves for every channel: the planner moves nothing, so ROI and mROI decide."""
    analysis = bundle.period("all")
    same = curve_set(CHANNELS, [100.0] * 4, [(300, 1.0)] * 4, noise=0.0)
    verdicts = {v.channel: v for v in channel_verdicts(bundle, dataclasses.replace(analysis, curves=same))}
    assert verdicts["Strong"].action == "grow" and "mROI 1.6" in verdicts["Strong"].text
    assert verdicts["Saturated"].action == "hold-trim" and "break-even (mROI = 1)" in verdicts["Saturated"].text
    assert verdicts["Loser"].action == "cut"
    assert verdicts["Noisy"].action == "test"


def test_every_insight_states_numbers(insights):
    for insight in insights:
        assert insight.numbers, insight.id
        assert re.search(r"\d", insight.text), insight.id


def test_models_without_revenue_speak_in_cost_per_kpi():
    bundle = make_bundle(has_revenue=False)
    out = build_insights(bundle, bundle.period("all"))
    verdicts = [i for i in out if i.id.startswith("verdict-")]
    assert {v.action for v in verdicts} <= {"test", "shift-in", "shift-out", "hold"}
    assert all(re.search(r"\$[\d.]+ per (1,000 )?incremental KPI", v.text) and "ROI" not in v.text for v in verdicts)
    assert "mROI" not in " ".join(i.text for i in out)
    assert "Cheapest" in by_id(out)["portfolio"].text


def test_low_trust_leads_with_what_to_fix_and_softens_probabilities():
    bundle = make_bundle()
    rhat = bundle.rhat.assign(max_r_hat=[1.01, 5.5, 1.4])
    bundle = dataclasses.replace(bundle, rhat=rhat)
    out = build_insights(bundle, bundle.period("all"))
    assert out[0].id == "trust" and "did not converge" in out[0].text and "beta_m 5.50" in out[0].text
    assert "To fix:" in out[0].text
    for v in (i for i in out if i.id.startswith("verdict-")):
        assert v.title.endswith("(provisional)")
        assert v.probability is None  # did not converge: no probability at all (tests/unit/test_trust.py)
    analysis = make_bundle().period("all")
    poor = dataclasses.replace(analysis, fit={**analysis.fit, "r_squared": 0.3})  # low, but converged
    softened = [v for v in build_insights(make_bundle(), poor) if v.id.startswith("verdict-") and v.probability]
    assert softened and all("not trustworthy yet" in v.text for v in softened)


def test_when_every_channel_is_uncertain_no_reallocation_is_proposed():
    bundle = make_bundle()
    analysis = bundle.period("all")
    w = analysis.draws  # every channel's ROI straddles 1 widely, as Noisy's does
    noisy = w.spend[None, :] * np.random.default_rng(0).lognormal(0, 0.9, w.incremental.shape)
    wide = analysis.channels.assign(roi_ci_hi=analysis.channels.roi_mean * 3)
    out = build_insights(
        bundle, dataclasses.replace(analysis, channels=wide, draws=dataclasses.replace(w, incremental=noisy))
    )
    assert by_id(out)["reallocate-budget"].title == "No reallocation proposed"
    assert all(i.action == "test" for i in out if i.id.startswith("verdict-"))


def test_break_even_point_definition(bundle):
    analysis = bundle.period("all")
    # Saturated: 250 * x / (x + 0.3) at spend 100x -> slope below 1 early; Strong stays above 1 longer.
    assert break_even_multiplier(analysis, "Saturated") < break_even_multiplier(analysis, "Strong")


def test_break_even_at_zero_is_reported_not_lost(bundle):
    """A curve whose very first step already returns less than 1 breaks even at 0x, which is a number."""
    analysis = bundle.period("all")
    flat = curve_set(CHANNELS, [100.0] * 4, [(600, 1.0), (20, 0.3), (80, 0.5), (150, 1.0)])
    analysis = dataclasses.replace(analysis, curves=flat)
    assert break_even_multiplier(analysis, "Saturated") == 0.0
