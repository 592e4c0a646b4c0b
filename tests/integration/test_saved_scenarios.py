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
