"""The scenario page's callbacks, posted as a browser (or an attacker) would: every malformed value is
answered with a message on the page, never a 500, and a refused action never reports success."""

from __future__ import annotations

import json

import pytest

from tests.helpers import create_user, login

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

VIEW = {"model": "demo_mmm", "period": "all"}


def _key(app, fragment: str) -> str:
    return next(k for k in app.callback_map if fragment in k)


def _many(kind: str, prop: str, values: list) -> list[dict]:
    return [{"id": {"type": kind, "index": i}, "property": prop, "value": v} for i, v in enumerate(values)]


def _one(component: str, prop: str, value=None) -> dict:
    return {"id": component, "property": prop, "value": value}


def _post(client, body: dict):
    return client.post(
        "/_dash-update-component",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Origin": "http://localhost"},
    )


@pytest.fixture()
def demo(demo_bundle):
    analysis = demo_bundle.period("all")
    return {"n": len(analysis.curves.channels), "hist": analysis.curves.historical_spend.tolist()}


def update_spend(
    app,
    client,
    n,
    *,
    trigger,
    sliders=None,
    numbers=None,
    unit="pct",
    spend=None,
    lower=None,
    upper=None,
    mode="fixed",
    budget=1000.0,
    target=1.0,
    hist=None,
):
    sliders = [100] * n if sliders is None else sliders
    numbers = [100] * n if numbers is None else numbers
    lower = [70] * n if lower is None else lower
    upper = [130] * n if upper is None else upper
    body = {
        "output": _key(app, "..sc-spend.data..."),
        "outputs": [
            {"id": "sc-spend", "property": "data"},
            [{"id": {"type": "sc-slider", "index": i}, "property": "value"} for i in range(n)],
            [{"id": {"type": "sc-number", "index": i}, "property": "value"} for i in range(n)],
            {"id": "sc-error", "property": "children"},
            {"id": "sc-budget", "property": "value"},
        ],
        "inputs": [
            _many("sc-slider", "value", sliders),
            _many("sc-number", "value", numbers),
            _one("sc-unit", "value", unit),
            _one("sc-optimize", "n_clicks", 1),
            _one("sc-reset", "n_clicks", 1),
            _one("sc-loaded", "data", None),
        ],
        "changedPropIds": [trigger],
        "state": [
            _one("sc-view", "data", {**VIEW, "historical": hist}),
            _one("sc-mode", "value", mode),
            _one("sc-budget", "value", budget),
            _one("sc-target", "value", target),
            _many("sc-lower", "value", lower),
            _many("sc-upper", "value", upper),
            _one("sc-spend", "data", hist if spend is None else spend),
        ],
    }
    return _post(client, body)


def _slider(i: int) -> str:
    return json.dumps({"index": i, "type": "sc-slider"}, separators=(",", ":")) + ".value"


def _error_text(response) -> str:
    assert response.status_code == 200, response.data[:300]
    return json.dumps(response.json["response"].get("sc-error", {}))


def test_a_valid_slider_move_still_updates_the_spend(app, signed_in, demo):
    response = update_spend(
        app, signed_in, demo["n"], trigger=_slider(1), sliders=[100, 200, 100, 100, 100][: demo["n"]], hist=demo["hist"]
    )
    assert response.status_code == 200
    spend = response.json["response"]["sc-spend"]["data"]
    assert spend[1] == pytest.approx(2 * demo["hist"][1])
    assert response.json["response"]["sc-error"]["children"] is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sliders": ["a", "b", "c", "d", "e"]}, "must be a number"),
        ({"sliders": [100, 100]}, "reload"),  # wrong length
        ({"sliders": "100"}, "reload"),  # a string where a list belongs
        ({"spend": "abc", "trigger": "sc-reset.n_clicks"}, "one spend per channel"),
        ({"spend": ["x", 1, 2, 3, 4], "trigger": "sc-reset.n_clicks"}, "must be a number"),
        ({"lower": ["x"] * 5, "trigger": "sc-optimize.n_clicks"}, "lower and an upper bound"),
        ({"lower": [70, 70], "trigger": "sc-optimize.n_clicks"}, "lower and an upper bound"),
        ({"mode": "drop tables", "trigger": "sc-optimize.n_clicks"}, "optimizer mode"),
        ({"budget": "lots", "trigger": "sc-optimize.n_clicks"}, "budget must be an amount"),
        ({"unit": "furlongs", "numbers": [50] * 5, "trigger": '{"index":0,"type":"sc-number"}.value'}, "percent"),
    ],
)
def test_malformed_callback_inputs_get_a_message_not_a_500(app, signed_in, demo, change, message):
    change = dict(change)
    trigger = change.pop("trigger", _slider(0))
    response = update_spend(app, signed_in, demo["n"], trigger=trigger, hist=demo["hist"], **change)
    assert message in _error_text(response)


def test_a_typed_budget_survives_an_optimize_the_bounds_refuse(app, signed_in, demo):
    """Typed budget, bounds edited so they cannot hold it, Optimize: the message says why and the
    budget box still holds what was typed (it used to fall back silently to the scenario's total)."""
    n, hist = demo["n"], demo["hist"]
    typed = "5,000,000"  # far below what the 90% lower bounds need
    response = update_spend(app, signed_in, n, trigger="sc-optimize.n_clicks", budget=typed, lower=[90] * n, hist=hist)
    assert "lower bounds" in _error_text(response)
    assert "sc-budget" not in response.json["response"]  # left as typed

    # Bounds that hold it: the optimizer spends exactly the typed budget, and the box says so.
    fits = round(sum(hist) * 1.1)
    response = update_spend(app, signed_in, n, trigger="sc-optimize.n_clicks", budget=f"{fits:,}", hist=hist)
    assert response.json["response"]["sc-error"]["children"] is None
    assert sum(response.json["response"]["sc-spend"]["data"]) == pytest.approx(fits, rel=1e-6)
    assert response.json["response"]["sc-budget"]["value"] == f"{fits:,}"


def test_forged_view_store_gets_a_message(app, signed_in, demo):
    body = {
        "output": _key(app, "..sc-summary.children..."),
        "outputs": [
            {"id": "sc-summary", "property": "children"},
            {"id": "sc-allocation", "property": "figure"},
            {"id": "sc-table", "property": "children"},
            {"id": "sc-curve", "property": "figure"},
        ],
        "inputs": [_one("sc-spend", "data", ["a"] * demo["n"]), _one("sc-curve-channel", "value", {"x": 1})],
        "changedPropIds": ["sc-spend.data"],
        "state": [_one("sc-view", "data", VIEW)],
    }
    response = _post(signed_in, body)
    assert response.status_code == 200 and "must be a number" in json.dumps(response.json)
    body["state"] = [_one("sc-view", "data", {"model": ["x"], "period": 3})]
    response = _post(signed_in, body)
    assert response.status_code == 200 and "no longer available" in json.dumps(response.json)


def open_saved(app, client, value):
    body = {
        "output": _key(app, "..sc-loaded.data..."),
        "outputs": [
            {"id": "sc-loaded", "property": "data"},
            {"id": "sc-dl-csv", "property": "href"},
            {"id": "sc-dl-json", "property": "href"},
            {"id": "sc-dl-csv", "property": "disabled"},
            {"id": "sc-dl-json", "property": "disabled"},
            {"id": "sc-name", "property": "value"},
            {"id": "sc-saved-msg", "property": "children"},
        ],
        "inputs": [_one("sc-saved", "value", value)],
        "changedPropIds": ["sc-saved.value"],
    }
    return _post(client, body)


@pytest.mark.parametrize("value", ["abc", [1], {"id": 1}, 1.5, True])
def test_open_saved_with_a_non_id_answers_with_a_message(app, signed_in, value):
    response = open_saved(app, signed_in, value)
    assert response.status_code == 200
    assert "Pick a saved scenario" in json.dumps(response.json["response"]["sc-saved-msg"])
    assert response.json["response"]["sc-loaded"]["data"] is None


def save_or_delete(app, client, n, trigger, *, name="Plan", selected=None, spend=None, lower=None):
    body = {
        "output": _key(app, "..sc-saved.options..."),
        "outputs": [
            {"id": "sc-saved", "property": "options"},
            {"id": "sc-saved", "property": "value"},
            {"id": "sc-saved-msg", "property": "children"},
        ],
        "inputs": [_one("sc-save", "n_clicks", 1), _one("sc-delete", "n_clicks", 1)],
        "changedPropIds": [f"{trigger}.n_clicks"],
        "state": [
            _one("sc-name", "value", name),
            _one("sc-saved", "value", selected),
            _one("sc-spend", "data", spend),
            _one("sc-view", "data", VIEW),
            _one("sc-mode", "value", "fixed"),
            _one("sc-budget", "value", 1000),
            _one("sc-target", "value", 1.0),
            _many("sc-lower", "value", [70] * n if lower is None else lower),
            _many("sc-upper", "value", [130] * n),
        ],
    }
    return _post(client, body)


def _message(response) -> str:
    assert response.status_code == 200, response.data[:300]
    return json.dumps(response.json["response"]["sc-saved-msg"]["children"])


def test_save_through_the_page_validates_the_payload(app, signed_in, demo):
    n = demo["n"]
    assert "Saved" in _message(save_or_delete(app, signed_in, n, "sc-save", spend=demo["hist"]))
    assert "must be a number" in _message(save_or_delete(app, signed_in, n, "sc-save", name="B", spend=["x"] * n))
    assert "one spend per channel" in _message(save_or_delete(app, signed_in, n, "sc-save", name="C", spend=[1.0] * 3))
    big = [1.0] * 90_000  # about 700 KB of JSON
    assert "one spend per channel" in _message(save_or_delete(app, signed_in, n, "sc-save", name="D", spend=big))
    bad_bounds = save_or_delete(app, signed_in, n, "sc-save", name="E", spend=demo["hist"], lower=["x"] * n)
    assert "bound" in _message(bad_bounds)


def test_refused_cross_user_delete_does_not_say_deleted(app, client, demo):
    from mmm_dash.web.auth.accounts import find_user
    from mmm_dash.web.scenarios import service

    owner, _ = create_user(app, email="owner@example.com")
    other, password = create_user(app, email="other@example.com")
    with app.server.app_context():
        scenario_id = service.save_scenario(find_user(owner).id, "Mine", "demo_mmm", "all", {"spend": demo["hist"]}).id
    login(client, other, password)
    message = _message(save_or_delete(app, client, demo["n"], "sc-delete", selected=scenario_id))
    assert "Deleted" not in message and "No such saved scenario" in message
    assert "Pick a saved scenario" in _message(save_or_delete(app, client, demo["n"], "sc-delete", selected="abc"))
    with app.server.app_context():
        assert service.get_scenario(find_user(owner).id, scenario_id) is not None
