"""Saved scenarios belong to their user, download as CSV/JSON and survive a restart."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from mmm_dash.core.scenario import ScenarioError
from tests.helpers import create_user, login, make_app


def _save(app, email, name, factor=1.0):
    from mmm_dash.web.auth.accounts import find_user
    from mmm_dash.web.scenarios import service

    with app.server.app_context():
        bundle = app.server.extensions["mmm_dash"].models.bundle("demo_mmm")
        spend = (bundle.period("all").curves.historical_spend * factor).tolist()
        saved = service.save_scenario(find_user(email).id, name, "demo_mmm", "all", {"spend": spend})
        return saved.id, spend


def test_save_download_and_ownership(app, database_url, demo_model_dir, demo_cache_dir):
    owner, password = create_user(app, email="owner@example.com")
    other, other_password = create_user(app, email="other@example.com")
    scenario_id, spend = _save(app, owner, "Plan =A", factor=1.1)

    client = app.server.test_client()
    login(client, owner, password)
    body = client.get(f"/scenarios/{scenario_id}.csv").data.decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert rows[-1]["channel"] == "Total"
    assert float(rows[-1]["scenario_spend"]) == pytest.approx(sum(spend))
    doc = client.get(f"/scenarios/{scenario_id}.json").json
    assert (
        doc["name"] == "Plan =A"
        and doc["total"]["incremental_outcome_ci_lo"] < doc["total"]["incremental_outcome_mean"]
    )

    intruder = app.server.test_client()
    login(intruder, other, other_password)
    assert intruder.get(f"/scenarios/{scenario_id}.json").status_code == 404
    assert app.server.test_client().get(f"/scenarios/{scenario_id}.json").status_code == 401

    restarted = make_app(database_url, demo_model_dir, demo_cache_dir)
    from mmm_dash.web.auth.accounts import find_user
    from mmm_dash.web.scenarios import service

    with restarted.server.app_context():
        saved = service.list_scenarios(find_user(owner).id, "demo_mmm")
        assert [s.name for s in saved] == ["Plan =A"]
        assert np.allclose(saved[0].payload["spend"], spend)


def test_same_name_overwrites_and_bad_names_are_refused(app):
    owner, _ = create_user(app)
    first, _ = _save(app, owner, "Q3 plan", 1.0)
    second, _ = _save(app, owner, "Q3 plan", 1.2)
    assert first == second
    with pytest.raises(ScenarioError, match="name"):
        _save(app, owner, "   ")
    with pytest.raises(ScenarioError, match="at most"):
        _save(app, owner, "x" * 121)


def _save_payload(app, email, name, payload, model="demo_mmm", period="all"):
    from mmm_dash.web.auth.accounts import find_user
    from mmm_dash.web.scenarios import service

    with app.server.app_context():
        return service.save_scenario(find_user(email).id, name, model, period, payload).id


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"spend": ["a", "b", "c", "d", "e"]}, "must be a number"),
        ({"spend": [1.0, 2.0]}, "one spend per channel"),
        ({"spend": [1.0] * 5, "blob": "x" * 700_000}, "too large"),
        ({"spend": [1.0] * 5, "mode": "free money"}, "optimizer mode"),
        ({"spend": [1e15] * 5}, "2x historical spend"),
        ("not a dict", "must be an object"),
    ],
)
def test_bad_payloads_are_refused_before_they_are_stored(app, payload, message):
    from mmm_dash.web.scenarios.models import SavedScenario

    owner, _ = create_user(app)
    with pytest.raises(ScenarioError, match=message):
        _save_payload(app, owner, "bad", payload)
    with app.server.app_context():
        from mmm_dash.web.extensions import db

        assert db.session.query(SavedScenario).count() == 0


def test_unknown_model_or_period_is_refused(app):
    owner, _ = create_user(app)
    with pytest.raises(ScenarioError, match="no longer available"):
        _save_payload(app, owner, "x", {"spend": [1.0] * 5}, model="nope")
    with pytest.raises(ScenarioError, match="Unknown period"):
        _save_payload(app, owner, "x", {"spend": [1.0] * 5}, period="1999")


def test_stored_payload_is_normalised(app):
    owner, _ = create_user(app)
    scenario_id = _save_payload(app, owner, "plan", {"spend": [1, 2, 3, 4, 5], "mode": "target_roi", "target": 2})
    from mmm_dash.web.extensions import db
    from mmm_dash.web.scenarios.models import SavedScenario

    with app.server.app_context():
        stored = db.session.get(SavedScenario, scenario_id).payload
    assert stored["spend"] == [1.0, 2.0, 3.0, 4.0, 5.0] and stored["mode"] == "target_roi"
    assert stored["lower_pct"] == [70.0] * 5 and stored["channels"][1] == "Paid Search"


def test_quota_per_user(database_url, demo_model_dir, demo_cache_dir):
    app = make_app(database_url, demo_model_dir, demo_cache_dir, SCENARIO_QUOTA="2")
    owner, _ = create_user(app, email="owner@example.com")
    other, _ = create_user(app, email="other@example.com")
    spend = {"spend": [1.0] * 5}
    _save_payload(app, owner, "one", spend)
    _save_payload(app, owner, "two", spend)
    with pytest.raises(ScenarioError, match="You have 2 saved scenarios, the most allowed"):
        _save_payload(app, owner, "three", spend)
    _save_payload(app, owner, "two", {"spend": [2.0] * 5})  # overwriting an existing name still works
    _save_payload(app, other, "one", spend)  # the quota is per user


def test_scenario_downloads_use_the_download_headers(app):
    owner, password = create_user(app)
    scenario_id, _ = _save(app, owner, "Plan A")
    client = app.server.test_client()
    login(client, owner, password)
    for ext, mime in (("csv", "text/csv; charset=utf-8"), ("json", "application/json")):
        response = client.get(f"/scenarios/{scenario_id}.{ext}")
        assert response.status_code == 200
        assert response.headers["Content-Type"] == mime
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="mmm-scenario-demo_mmm-all-Plan_A.{ext}"'
        )


def test_a_bad_row_stored_before_validation_answers_409_not_500(app):
    """Rows written by older versions (no validation) cannot break the download."""
    from mmm_dash.web.auth.accounts import find_user
    from mmm_dash.web.extensions import db
    from mmm_dash.web.scenarios.models import SavedScenario

    owner, password = create_user(app)
    with app.server.app_context():
        row = SavedScenario(
            user_id=find_user(owner).id,
            name="old",
            model="demo_mmm",
            period="all",
            payload={"spend": ["a", "b", "c", "d", "e"]},
        )
        db.session.add(row)
        db.session.commit()
        scenario_id = row.id
    client = app.server.test_client()
    login(client, owner, password)
    for ext in ("csv", "json"):
        response = client.get(f"/scenarios/{scenario_id}.{ext}")
        assert response.status_code == 409 and "must be a number" in response.json["error"]


def test_parallel_saves_keep_the_quota(database_url, demo_model_dir, demo_cache_dir, monkeypatch):
    """24 saves at once under SCENARIO_QUOTA=3 store 3: counting and inserting is one step per user
    (each count is made slow, as under load, so saves that are not serialized all see room)."""
    import threading
    import time

    from mmm_dash.web.auth.accounts import find_user
    from mmm_dash.web.extensions import db
    from mmm_dash.web.scenarios import service
    from mmm_dash.web.scenarios.models import SavedScenario

    app = make_app(database_url, demo_model_dir, demo_cache_dir, SCENARIO_QUOTA="3")
    owner, _ = create_user(app, email="owner@example.com")
    with app.server.app_context():
        user_id = find_user(owner).id
    start, outcomes = threading.Barrier(24), []
    count = service.count_scenarios

    def slow_count(user: int) -> int:
        found = count(user)
        time.sleep(0.05)
        return found

    monkeypatch.setattr(service, "count_scenarios", slow_count)

    def save(i: int) -> None:
        with app.server.app_context():
            start.wait()
            try:
                service.save_scenario(user_id, f"plan {i}", "demo_mmm", "all", {"spend": [1.0] * 5})
                outcomes.append("saved")
            except ScenarioError as exc:
                outcomes.append(str(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=save, args=(i,)) for i in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.server.app_context():
        stored = db.session.scalar(
            db.select(db.func.count()).select_from(SavedScenario).where(SavedScenario.user_id == user_id)
        )
    assert stored == 3 and outcomes.count("saved") == 3, outcomes
    assert all(o == "saved" or "the most allowed" in o for o in outcomes), outcomes


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sc-budget": -1}, "The total budget must be an amount from 0 to"),
        ({"sc-upper": [130, 1e308, 130, 130, 130]}, "Paid Search: bounds must be between 0% and 200%"),
        ({"sc-lower": [150, 70, 70, 70, 70]}, "TV: the lower bound (150%) is above the upper bound (130%)"),
    ],
)
def test_the_save_callback_refuses_unusable_settings_in_one_sentence(app, demo_bundle, change, message):
    import json

    from tests.helpers import post_callback, save_scenario_body

    client = app.server.test_client()
    login(client, *create_user(app))
    body = save_scenario_body(app, demo_bundle)
    values = {dep["id"] if isinstance(dep, dict) else dep[0]["id"]["type"]: dep for dep in body["state"]}
    for name, value in change.items():
        if isinstance(value, list):
            for item, v in zip(values[name], value, strict=True):
                item["value"] = v
        else:
            values[name]["value"] = value
    response = post_callback(client, body)
    assert response.status_code == 200
    answer = json.dumps(response.json["response"]["sc-saved-msg"], ensure_ascii=False)
    assert message in answer and "Saved" not in answer
