"""The planner's contracts: modes from the enum, frozen validated settings, the saved-payload shape,
and the state machine that every widget change goes through."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest

from mmm_dash.core import planner
from mmm_dash.core.planner import (
    MAX_PAYLOAD_BYTES,
    NumberEntered,
    OptimizeRequested,
    PlannerSettings,
    ResetToHistorical,
    SavedPayload,
    ScenarioOpened,
    SliderMoved,
    SpendUnit,
)
from mmm_dash.core.scenario import (
    FixedBudgetScenario,
    FlexibleBudgetScenario,
    OptimizerMode,
    ScenarioError,
    ScenarioModel,
)
from tests.unit.synthetic import curve_set

CHANNELS = ("A", "B", "C")


@pytest.fixture()
def model():
    return ScenarioModel(curve_set(list(CHANNELS), [100.0, 200.0, 50.0], [(400, 0.8), (300, 1.5), (90, 0.4, 2.0)]))


def test_modes_are_one_enum_with_the_stored_strings():
    assert [m.value for m in OptimizerMode] == ["fixed", "target_roi", "target_mroi"]
    assert OptimizerMode.parse("target_roi") is OptimizerMode.TARGET_ROI
    with pytest.raises(ScenarioError, match="optimizer mode"):
        OptimizerMode.parse("fixed; drop table")
    assert set(planner.MODE_LABELS) == set(OptimizerMode)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: FixedBudgetScenario(-1.0), "non-negative"),
        (lambda: FixedBudgetScenario(float("nan")), "non-negative"),
        (lambda: FixedBudgetScenario("100"), "non-negative"),
        (lambda: FlexibleBudgetScenario(OptimizerMode.FIXED, 1.0), "target"),
        (lambda: FlexibleBudgetScenario("target_roi", 0.0), "positive"),
        (lambda: FlexibleBudgetScenario("target_mroi", float("inf")), "positive"),
        (lambda: PlannerSettings(mode="bogus"), "optimizer mode"),
        (lambda: PlannerSettings(budget="lots"), "budget"),
        (lambda: PlannerSettings(lower_pct=(70, 70), upper_pct=(130,)), "bound"),
        (lambda: PlannerSettings(lower_pct=("x",), upper_pct=(130,)), "bound"),
    ],
)
def test_scenario_dataclasses_refuse_bad_values_when_built(make, message):
    with pytest.raises(ScenarioError, match=message):
        make()


def test_scenario_dataclasses_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        FixedBudgetScenario(1.0).budget = 2.0
    assert FlexibleBudgetScenario("target_roi", 2).mode is OptimizerMode.TARGET_ROI


def test_settings_ask_for_the_boxes_the_optimizer_needs():
    with pytest.raises(ScenarioError, match="Enter a total budget"):
        PlannerSettings(OptimizerMode.FIXED, None, 1.0, (70,), (130,)).scenario()
    with pytest.raises(ScenarioError, match="Enter a target"):
        PlannerSettings(OptimizerMode.TARGET_MROI, 10.0, None, (70,), (130,)).scenario()
    with pytest.raises(ScenarioError, match="lower and an upper bound"):
        PlannerSettings(OptimizerMode.FIXED, 10.0, None, (70, None), (130, 130)).bounds(np.ones(2))


def test_optimize_follows_the_settings(model):
    settings = PlannerSettings.default(3, budget=350.0)
    spend = planner.optimize(model, settings)
    lower, upper = settings.bounds(model.historical_spend)
    np.testing.assert_allclose(spend, model.optimize_fixed(350.0, lower, upper))
    np.testing.assert_allclose(lower, model.historical_spend * 0.7)
    flexible = dataclasses.replace(settings, mode=OptimizerMode.TARGET_MROI, target=1.0)
    expected = model.optimize_flexible(lower, upper, target_mroi=1.0)
    np.testing.assert_allclose(planner.optimize(model, flexible), expected)


def test_conversions_between_spend_and_widgets():
    spend, hist = np.array([50.0, 300.0, 0.0]), np.array([100.0, 150.0, 0.0])
    assert planner.display_numbers(spend, hist, SpendUnit.PERCENT) == [50.0, 200.0, 0]
    assert planner.display_numbers(spend, hist, SpendUnit.ABSOLUTE) == [50, 300, 0]
    assert planner.slider_positions(np.array([50.0, 400.0, 0.0]), hist) == [50, planner.SLIDER_MAX, 0]
    assert planner.percent_to_spend(130, 200.0) == pytest.approx(260.0)


def test_state_machine_events(model):
    hist = model.historical_spend
    assert planner.next_spend(model, hist, SliderMoved(1, 150))[1] == pytest.approx(300.0)
    assert planner.next_spend(model, hist, SliderMoved(1, None))[1] == 0.0
    assert planner.next_spend(model, hist, NumberEntered(0, 120.0, SpendUnit.ABSOLUTE))[0] == 120.0
    assert planner.next_spend(model, hist, NumberEntered(0, 50, SpendUnit.PERCENT))[0] == 50.0
    assert planner.next_spend(model, hist * 1.5, ResetToHistorical()) == pytest.approx(hist)
    assert planner.next_spend(model, hist, ScenarioOpened((10.0, 20.0, 30.0))).tolist() == [10.0, 20.0, 30.0]
    optimized = planner.next_spend(model, hist, OptimizeRequested(PlannerSettings.default(3, 350.0)))
    assert optimized.sum() == pytest.approx(350.0)
    assert planner.next_spend(model, hist, None) == pytest.approx(hist)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (SliderMoved(7, 100), "not part of this model"),
        (SliderMoved("0", 100), "not part of this model"),
        (SliderMoved(0, "100"), "must be a number"),
        (NumberEntered(0, None, SpendUnit.PERCENT), "Enter a number"),
        (NumberEntered(0, -5, SpendUnit.ABSOLUTE), "cannot be negative"),
        (NumberEntered(0, 900, SpendUnit.PERCENT), "2x historical spend"),
        (ScenarioOpened(("a", "b", "c")), "must be a number"),
        (ScenarioOpened((1.0,)), "one spend per channel"),
    ],
)
def test_state_machine_refuses_what_it_cannot_use(model, event, message):
    with pytest.raises(ScenarioError, match=message):
        planner.next_spend(model, model.historical_spend, event)


def test_saved_payload_round_trips_in_the_stored_shape():
    settings = PlannerSettings(OptimizerMode.TARGET_MROI, None, 1.2, (70, None, 50), (130, 130, 150))
    payload = SavedPayload(CHANNELS, [1, 2.5, 3], settings)
    stored = payload.to_dict()
    assert stored == {
        "channels": ["A", "B", "C"],
        "spend": [1.0, 2.5, 3.0],
        "mode": "target_mroi",
        "budget": None,
        "target": 1.2,
        "lower_pct": [70.0, None, 50.0],
        "upper_pct": [130.0, 130.0, 150.0],
    }
    assert SavedPayload.from_dict(json.loads(json.dumps(stored)), CHANNELS) == payload


def test_saved_payload_of_spend_only_takes_the_page_defaults():
    payload = SavedPayload.from_dict({"spend": [1, 2, 3]}, CHANNELS)
    assert payload.settings == PlannerSettings.default(3)
    assert payload.settings.lower_pct == (70.0,) * 3 and payload.settings.target == 1.0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (["spend"], "must be an object"),
        ({"spend": ["a", "b", "c"]}, "must be a number"),
        ({"spend": "123"}, "one spend per channel"),
        ({"spend": [1, 2]}, "one spend per channel"),
        ({"spend": [1, 2, float("nan")]}, "must be a number"),
        ({"spend": [1, True, 3]}, "must be a number"),
        ({}, "one spend per channel"),
        ({"spend": [1, 2, 3], "mode": "yolo"}, "optimizer mode"),
        ({"spend": [1, 2, 3], "channels": ["X", "Y", "Z"]}, "other channels"),
        ({"spend": [1, 2, 3], "lower_pct": [70]}, "bound"),
        ({"spend": [1, 2, 3], "extra": 1}, "Unknown scenario field"),
        ({"spend": [1, 2, 3], "blob": "x" * 700_000}, "too large"),
        ({"spend": [1.0] * 90_000}, "too large"),
    ],
)
def test_saved_payload_refuses_bad_shapes(data, message):
    with pytest.raises(ScenarioError, match=message):
        SavedPayload.from_dict(data, CHANNELS)


def test_payload_limit_fits_a_large_model():
    channels = tuple(f"Channel number {i:03d} with a long name" for i in range(100))
    payload = SavedPayload(channels, [123456.789] * 100, PlannerSettings.default(100, 1e9))
    assert len(json.dumps(payload.to_dict())) < MAX_PAYLOAD_BYTES / 2


# -- the ladder and goal seek boxes ------------------------------------------------------------------
def test_ladder_settings_and_their_threshold():
    from mmm_dash.core.planner import LadderSettings

    default = LadderSettings()
    assert (default.slice_pct, default.max_steps, default.slice_fraction) == (5.0, 40, 0.05)
    assert LadderSettings(10, 12.0).max_steps == 12
    assert default.threshold(has_revenue=True) == 1.0  # a slice returning less than it costs
    assert default.threshold(has_revenue=False) == 0.0  # KPI without a target: bounds and steps stop it
    assert LadderSettings(cost_per_kpi=25.0).threshold(has_revenue=False) == pytest.approx(1 / 25)
    assert LadderSettings(cost_per_kpi=25.0).threshold(has_revenue=True) == 1.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"slice_pct": None}, "more than 0%"),
        ({"slice_pct": 0}, "more than 0%"),
        ({"slice_pct": 51}, "at most 50%"),
        ({"slice_pct": "5"}, "must be a number"),
        ({"max_steps": 0}, "whole number"),
        ({"max_steps": 3.5}, "whole number"),
        ({"max_steps": 201}, "whole number"),
        ({"max_steps": True}, "whole number"),
        ({"cost_per_kpi": 0}, "positive"),
        ({"cost_per_kpi": float("inf")}, "positive"),
    ],
)
def test_ladder_settings_refuse_bad_boxes(kwargs, message):
    from mmm_dash.core.planner import LadderSettings

    with pytest.raises(ScenarioError, match=message):
        LadderSettings(**kwargs)


def test_goal_seek_settings():
    from mmm_dash.core.planner import GoalSeekSettings

    assert GoalSeekSettings(1e6).probability is None
    assert GoalSeekSettings(1e6, 90).probability == pytest.approx(0.9)
    for target, probability, message in (
        (None, None, "Enter a target"),
        (0, None, "positive"),
        ("1e6", None, "must be a number"),
        (1e6, 0.5, "from 1% to 99.9%"),
        (1e6, 100, "from 1% to 99.9%"),
        (1e6, "90", "must be a number"),
    ):
        with pytest.raises(ScenarioError, match=message):
            GoalSeekSettings(target, probability)


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("1,250,000", 1_250_000.0),
        ("$1.25M", 1_250_000.0),
        ("800k", 800_000.0),
        (" 44497046 ", 44_497_046.0),
        (12.5, 12.5),
    ],
)
def test_budget_boxes_take_amounts_as_people_type_them(typed, amount):
    from mmm_dash.core.planner import parse_amount

    assert parse_amount(typed) == pytest.approx(amount)


@pytest.mark.parametrize("typed", ["lots", "1,2,3,,", "12 apples", ""])
def test_an_amount_that_is_not_one_gets_a_sentence(typed):
    from mmm_dash.core.planner import parse_amount

    with pytest.raises(ScenarioError, match="must be an amount"):
        parse_amount(typed)


def test_a_kpi_models_target_is_a_cost_per_kpi():
    from mmm_dash.core.planner import PlannerSettings

    settings = PlannerSettings(OptimizerMode.TARGET_MROI, None, 4.0, (70,), (130,), target_is_cost=True)
    assert settings.scenario().target == pytest.approx(0.25)  # $4 per KPI: at least 0.25 KPI per unit of spend


# -- settings as a saved scenario stores them ------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"budget": -1}, "The total budget must be an amount from 0 to 700"),
        ({"budget": 1e308}, "The total budget must be an amount from 0 to 700"),
        ({"target": -2}, "The target must be a positive number"),
        ({"upper_pct": (130, 1e308, 130)}, "B: bounds must be between 0% and 200%"),
        ({"lower_pct": (-5, 70, 70)}, "A: bounds must be between 0% and 200%"),
        ({"lower_pct": (70, 150, 70), "upper_pct": (130, 120, 130)}, "B: the lower bound (150%) is above"),
    ],
)
def test_saved_settings_are_checked(model, change, message):
    from mmm_dash.core.planner import check_saved_settings

    fields = {"mode": "fixed", "budget": 350, "target": 1.0, "lower_pct": (70,) * 3, "upper_pct": (130,) * 3}
    with pytest.raises(ScenarioError, match=re.escape(message)):
        check_saved_settings(PlannerSettings(**{**fields, **change}), model)
    check_saved_settings(PlannerSettings(**fields), model)
    check_saved_settings(PlannerSettings("fixed", None, None, (None,) * 3, (None,) * 3), model)  # empty boxes
