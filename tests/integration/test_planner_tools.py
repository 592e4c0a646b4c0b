"""The ladder and goal seek panels of the Scenarios page, posted as a browser (or an attacker) would:
answers come from the core functions on the demo bundle, bad values get one sentence, never a 500."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from mmm_dash.core.budget_search import budget_ladder, goal_seek

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

VIEW = {"model": "demo_mmm", "period": "all"}


def _key(app, fragment: str) -> str:
    return next(k for k in app.callback_map if fragment in k)


def _many(kind: str, values) -> list[dict]:
    return [{"id": {"type": kind, "index": i}, "property": "value", "value": v} for i, v in enumerate(values)]


def _post(client, body):
    response = client.post(
        "/_dash-update-component",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Origin": "http://localhost"},
    )
    assert response.status_code == 200, response.data[:300]
    return response.json["response"]


@pytest.fixture()
def demo(demo_bundle):
    from mmm_dash.core.scenario import ScenarioModel

    model = ScenarioModel(demo_bundle.period("all").curves)
    return model, model.historical_spend.tolist()


def ladder(app, client, spend, slice_pct=5, steps=40, cost=None, lower=None, upper=None, n=5):
    body = {
        "output": _key(app, "sc-ladder-result.children"),
        "outputs": [
            {"id": "sc-ladder-result", "property": "children"},
            {"id": "sc-ladder-spend", "property": "data"},
            {"id": "sc-ladder-apply", "property": "disabled"},
        ],
        "inputs": [{"id": "sc-ladder-run", "property": "n_clicks", "value": 1}],
        "state": [
            {"id": "sc-view", "property": "data", "value": VIEW},
            {"id": "sc-spend", "property": "data", "value": spend},
            {"id": "sc-ladder-slice", "property": "value", "value": slice_pct},
            {"id": "sc-ladder-steps", "property": "value", "value": steps},
            {"id": "sc-ladder-cost", "property": "value", "value": cost},
            _many("sc-lower", [70] * n if lower is None else lower),
            _many("sc-upper", [130] * n if upper is None else upper),
        ],
        "changedPropIds": ["sc-ladder-run.n_clicks"],
    }
    return _post(client, body)


def goal(app, client, n, target, probability=None, lower=None, upper=None):
    body = {
        "output": _key(app, "sc-goal-result.children"),
        "outputs": [
            {"id": "sc-goal-result", "property": "children"},
            {"id": "sc-goal-spend", "property": "data"},
            {"id": "sc-goal-apply", "property": "disabled"},
        ],
        "inputs": [{"id": "sc-goal-run", "property": "n_clicks", "value": 1}],
        "state": [
            {"id": "sc-view", "property": "data", "value": VIEW},
            {"id": "sc-goal-target", "property": "value", "value": target},
            {"id": "sc-goal-prob", "property": "value", "value": probability},
            _many("sc-lower", [70] * n if lower is None else lower),
            _many("sc-upper", [130] * n if upper is None else upper),
        ],
        "changedPropIds": ["sc-goal-run.n_clicks"],
    }
    return _post(client, body)


def test_ladder_answers_what_the_core_computes(app, signed_in, demo):
    model, hist = demo
    answer = ladder(app, signed_in, hist)
    expected = budget_ladder(model, hist, upper=np.array(hist) * 1.3)
    text = json.dumps(answer["sc-ladder-result"])
    assert "sc-ladder-table" in text and "sc-ladder-chart" in text
    assert answer["sc-ladder-spend"]["data"] == pytest.approx(expected.final_spend.tolist())
    assert answer["sc-ladder-apply"]["disabled"] is False
    for step in expected.steps:
        assert step.channel in text
    assert "Stopped: the best next slice" in text  # the demo's returns fall below 1 within the bounds


def test_ladder_says_when_channels_already_sit_at_their_caps(app, signed_in, demo):
    """After the optimizer, the channels worth more sit at +30%: the ladder says so instead of only
    "no slice returns enough", and which box lifts them."""
    model, hist = demo
    first = budget_ladder(model, hist, upper=np.array(hist) * 1.3)
    good = {s.channel for s in first.steps}
    capped = [h * 1.3 if ch in good else h for ch, h in zip(model.channels, hist, strict=True)]
    text = json.dumps(ladder(app, signed_in, capped)["sc-ladder-result"], ensure_ascii=False)
    assert "+30% of historical" in text and "Raise the high % bounds" in text
    stop = next(part for part in text.split('"children": "') if "upper bound" in part)
    assert all(ch in stop for ch in good), stop
    assert "No slice returns enough" not in text

    everywhere = json.dumps(ladder(app, signed_in, [h * 1.3 for h in hist])["sc-ladder-result"], ensure_ascii=False)
    assert "No step taken: every channel sits at its upper bound (+30% of historical)" in everywhere
    assert "No slice returns enough" not in everywhere


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"slice_pct": 0}, "more than 0%"),
        ({"slice_pct": "5"}, "must be a number"),
        ({"slice_pct": 80}, "at most 50%"),
        ({"steps": 2.5}, "whole number"),
        ({"steps": 10_000}, "whole number"),
        ({"cost": -3}, "positive"),
        ({"upper": [130, 130]}, "for every channel"),
        ({"upper": [130, None, 130, 130, 130]}, "bound"),
        ({"spend": [1e18] * 5}, "2x historical"),
        ({"spend": "lots"}, "one spend per channel"),
    ],
)
def test_ladder_refuses_bad_values_with_a_sentence(app, signed_in, demo, change, message):
    _model, hist = demo
    spend = change.pop("spend", hist)
    answer = ladder(app, signed_in, spend, **change)
    assert message in json.dumps(answer["sc-ladder-result"])
    assert answer["sc-ladder-apply"]["disabled"] is True


def test_goal_seek_answers_what_the_core_computes(app, signed_in, demo):
    model, hist = demo
    n = len(hist)
    target = 1.05 * model.evaluate(hist).total_mean
    lower, upper = np.array(hist) * 0.7, np.array(hist) * 1.3
    answer = goal(app, signed_in, n, target)
    expected = goal_seek(model, target, lower=lower, upper=upper)
    assert answer["sc-goal-spend"]["data"] == pytest.approx(expected.spend.tolist())
    assert "Smallest budget for" in json.dumps(answer["sc-goal-result"])
    surer = goal(app, signed_in, n, target, probability=95)
    assert sum(surer["sc-goal-spend"]["data"]) > sum(answer["sc-goal-spend"]["data"])
    far = goal(app, signed_in, n, target * 10)
    assert "Not reachable within the bounds" in json.dumps(far["sc-goal-result"])
    assert far["sc-goal-apply"]["disabled"] is True


@pytest.mark.parametrize(
    ("target", "probability", "message"),
    [
        (None, None, "Enter a target"),
        (-5, None, "positive"),
        ("1e9", None, "must be a number"),
        (1e6, 100, "from 1% to 99.9%"),
        (1e6, 0, "from 1% to 99.9%"),
    ],
)
def test_goal_seek_refuses_bad_values_with_a_sentence(app, signed_in, demo, target, probability, message):
    _model, hist = demo
    answer = goal(app, signed_in, len(hist), target, probability)
    assert message in json.dumps(answer["sc-goal-result"])


def test_the_panels_answer_quickly(app, signed_in, demo):
    """Measured through the real callback path (signed in, JSON in and out); generous bounds for a busy box."""
    model, hist = demo
    target = 1.05 * model.evaluate(hist).total_mean
    timings = {}
    for name, call in (
        ("ladder", lambda: ladder(app, signed_in, hist)),
        ("goal seek", lambda: goal(app, signed_in, len(hist), target, probability=80)),
    ):
        call()
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            call()
            runs.append(time.perf_counter() - start)
        timings[name] = sorted(runs)[2]
    assert timings["ladder"] < 1.0 and timings["goal seek"] < 1.0, timings


def test_goal_seeks_are_limited_per_user_with_a_sentence(app, signed_in, demo, monkeypatch):
    from mmm_dash.web import costly

    model, hist = demo
    monkeypatch.setattr(costly, "RATE", (2, 60))
    target = 1.05 * model.evaluate(hist).total_mean
    answers = [goal(app, signed_in, len(hist), target) for _ in range(3)]
    assert all(a["sc-goal-apply"]["disabled"] is False for a in answers[:2])
    refused = json.dumps(answers[2]["sc-goal-result"])
    assert "You asked for goal seeks 2 times in the last minute; wait 60 seconds and try again." in refused
    assert answers[2]["sc-goal-apply"]["disabled"] is True
