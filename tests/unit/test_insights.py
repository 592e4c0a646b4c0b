"""Insights are a pure function of the bundle: rules checked on known, synthetic cases."""

from __future__ import annotations

import re

import pytest

from mmm_dash.core.insights import build_insights, saturation_multiplier
from tests.unit.synthetic import four_channel_case, info, make_bundle


@pytest.fixture()
def insights():
    return build_insights(info(), four_channel_case())


def by_id(insights):
    return {i.id: i for i in insights}


def test_strong_channel_is_an_opportunity_with_numbers(insights):
    strong = by_id(insights)["scale-Strong"]
    assert strong.kind == "opportunity" and strong.probability > 0.99
    assert "P(ROI > 1) > 99%" in strong.text and "mROI 1.6" in strong.text


def test_saturated_channel_is_flagged_with_where(insights):
    saturated = by_id(insights)["saturated-Saturated"]
    assert saturated.kind == "warning"
    assert "mROI is 0.5" in saturated.text and "x of current spend" in saturated.text


def test_unprofitable_channel_is_flagged(insights):
    loser = by_id(insights)["unprofitable-Loser"]
    assert "P(ROI < 1) > 99%" in loser.text


def test_wide_interval_is_too_uncertain(insights):
    assert by_id(insights)["uncertain-Noisy"].kind == "caution"
    assert "uncertain-Strong" not in by_id(insights)


def test_reallocation_uses_meridian_optimization(insights):
    realloc = by_id(insights)["reallocate-budget"]
    assert realloc.numbers["outcome_gain"] == pytest.approx(8.35 - 7.5)
    assert "Increase Strong" in by_id(insights)["move-Strong"].title


def test_every_insight_states_numbers(insights):
    for insight in insights:
        assert insight.numbers, insight.id
        assert re.search(r"\d", insight.text), insight.id


def test_non_revenue_models_speak_in_cost_per_kpi():
    out = build_insights(info(has_revenue=False), four_channel_case())
    assert not any(i.id.startswith(("scale-", "saturated-", "unprofitable-")) for i in out)
    assert any(i.id.startswith("cpik-") for i in out)


def test_saturation_point_definition():
    analysis = four_channel_case()
    # Saturated: 250 * x / (x + 0.3) at spend 100x -> slope below 1 early; Strong stays above 1 longer.
    assert saturation_multiplier(analysis, "Saturated") < saturation_multiplier(analysis, "Strong")


def test_insights_quote_the_bundle():
    bundle = make_bundle()
    analysis = bundle.period("all")
    out = build_insights(bundle.info, analysis)
    assert out[0].id in {"portfolio", "reallocate-budget"}
    table = analysis.channel_table()
    scale = [i for i in out if i.id.startswith("scale-")]
    assert [i.channel for i in scale] == ["Strong"]  # without one, the checks below would check nothing
    for insight in scale:
        row = table.loc[insight.channel]
        assert f"ROI {row.roi_mean:.2f}" in insight.text
        assert f"{row.roi_ci_lo:.2f}–{row.roi_ci_hi:.2f}" in insight.text
        assert insight.probability == pytest.approx(analysis.prob_roi_above(insight.channel))
    best = table.roi_mean.idxmax()
    assert f"Highest ROI: {best}" in next(i for i in out if i.id == "portfolio").text


def test_saturation_point_of_zero_is_reported_not_lost():
    """A curve whose very first step already returns less than 1 saturates at 0x, which is a number."""
    import dataclasses

    import numpy as np

    from tests.unit.synthetic import curve_set

    analysis = four_channel_case()
    flat = curve_set(
        ["Strong", "Saturated", "Loser", "Noisy"],
        [100.0, 100.0, 100.0, 100.0],
        [(600, 1.0), (20, 0.3), (80, 0.5), (150, 1.0)],  # Saturated: slope 0.67 per unit from the start
    )
    analysis = dataclasses.replace(analysis, curves=flat)
    assert saturation_multiplier(analysis, "Saturated") == 0.0
    saturated = by_id(build_insights(info(), analysis))["saturated-Saturated"]
    assert saturated.numbers["saturation_multiplier"] == 0.0
    assert not np.isnan(saturated.numbers["saturation_multiplier"])
    assert "at 0.00x of current spend" in saturated.text
