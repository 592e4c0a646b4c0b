"""Trust signals through the app: the demo refitted as if its sampler had not converged (R-hat 5.52)
shows no probability and no planner link on any page or in any download, while the converged demo
does; the banner, Compare and Diagnostics quote one effective sample size; pages name the KPI one way."""

from __future__ import annotations

import dataclasses
import json
import pickle
import re

import dash
import plotly
import pytest

from mmm_dash.core.trust import NOT_MEANINGFUL, channel_ess
from tests.fake_build import FAKE_BUNDLE
from tests.helpers import DEMO_MODEL, create_user, login, make_app
from tests.unit.test_trust import STATED_PROBABILITY

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
PAGES = ("/", "/insights", "/roi", "/scenarios", "/compare", "/diagnostics")


def _render(app, path: str, **query) -> str:
    """The page's layout as the browser receives it (JSON), for a signed-in analyst."""
    from flask_login import login_user

    from mmm_dash.web.auth.accounts import find_user

    with app.server.test_request_context("/"):
        login_user(find_user("analyst@example.com"))
        page = next(p for p in dash.page_registry.values() if p["path"] == path)
        return json.dumps(page["layout"](**query), cls=plotly.utils.PlotlyJSONEncoder, ensure_ascii=False)


@pytest.fixture()
def unconverged_app(tmp_path, demo_bundle, monkeypatch):
    rhat = demo_bundle.rhat.copy()
    rhat.loc[rhat["param"] == "beta_m", "max_r_hat"] = 5.52
    source = tmp_path / "unconverged-bundle.pkl"
    source.write_bytes(pickle.dumps(dataclasses.replace(demo_bundle, rhat=rhat), protocol=pickle.HIGHEST_PROTOCOL))
    monkeypatch.setenv(FAKE_BUNDLE, str(source))
    model_dir = tmp_path / "models"
    model_dir.mkdir()
    (model_dir / "stuck.pkl").write_bytes(DEMO_MODEL.read_bytes())
    app = make_app(
        f"sqlite:///{tmp_path / 'db.sqlite3'}",
        model_dir,
        tmp_path / "cache",
        BUILD_STEP="tests.fake_build:demo_bundle_step",
    )
    assert app.server.extensions["mmm_dash"].models.build("stuck").bundle is not None
    create_user(app)
    return app


def _plan(bundle) -> str:
    """A move of budget (as the planner's `plan=` multiples) that the planner scores with P(better)."""
    n = len(bundle.info.paid_channels)
    return ",".join(["1.2", "0.8"] + ["1"] * (n - 2))


def test_pages_and_downloads_of_an_unconverged_model_state_no_probability_and_no_planner_link(unconverged_app):
    bundle = unconverged_app.server.extensions["mmm_dash"].models.bundle("stuck")
    for path in PAGES:
        page = _render(unconverged_app, path, model="stuck")
        assert not STATED_PROBABILITY.search(page), (path, STATED_PROBABILITY.search(page))
        assert "plan=" not in page and "Open in the planner" not in page, path
        assert "did not converge" in page, path  # the banner says why
    for path in ("/", "/insights"):
        assert f"No planner move: {NOT_MEANINGFUL}" in _render(unconverged_app, path, model="stuck")
    planned = _render(unconverged_app, "/scenarios", model="stuck", plan=_plan(bundle))
    assert f"P(better): {NOT_MEANINGFUL}" in planned and not STATED_PROBABILITY.search(planned)

    client = unconverged_app.server.test_client()
    login(client, "analyst@example.com", "correct-horse")
    doc = client.get("/export/insights.json?model=stuck").get_json()
    assert all(i["probability"] is None for i in doc["insights"])
    assert any(NOT_MEANINGFUL in (i["probability_reason"] or "") for i in doc["insights"])
    table = client.get("/export/insights.csv?model=stuck").data.decode()
    assert ",probability,probability_reason," in table.splitlines()[0]
    for name in ("insights.csv", "insights.txt", "report.html"):
        body = client.get(f"/export/{name}?model=stuck").data.decode()
        assert not STATED_PROBABILITY.search(body), name
    compare = client.get("/compare/download.json?model=stuck&base_model=stuck&base_period=2024").get_json()
    assert compare["rows"] and all(r["prob_up"] is None for r in compare["rows"])
    assert NOT_MEANINGFUL in compare["findings"][0] and NOT_MEANINGFUL in compare["probability_reason"]

    plan = _saved_plan(unconverged_app, bundle)  # Compare plans: P(row beats column) too
    plans = client.get(f"/scenarios/compare.json?model=stuck&period=all&compare=historical,{plan}").get_json()
    assert plans["pairs"] and all(p["prob_a_beats_b"] is None for p in plans["pairs"])
    assert NOT_MEANINGFUL in plans["probability_reason"]
    page = _render(unconverged_app, "/compare-scenarios", model="stuck", compare=f"historical,{plan}")
    assert f"P: {NOT_MEANINGFUL}" in page and not re.search(r"P [=<>] ?\d", page)  # the matrix's "P = 55%"


def _saved_plan(app, bundle) -> int:
    from mmm_dash.web.auth.accounts import find_user
    from mmm_dash.web.scenarios import service

    spend = (bundle.period("all").curves.historical_spend * 1.1).tolist()
    with app.server.app_context():
        return service.save_scenario(find_user("analyst@example.com").id, "More", "stuck", "all", {"spend": spend}).id


@SQLITE
def test_the_converged_demo_states_its_probabilities_and_planner_links(app):
    """The counter-case: the same checks on the converged demo find probabilities and planner links."""
    create_user(app)
    page = _render(app, "/insights", model="demo_mmm")
    assert STATED_PROBABILITY.search(page) and "plan=" in page and NOT_MEANINGFUL not in page


@SQLITE
def test_banner_compare_and_diagnostics_quote_one_effective_sample_size(app, demo_bundle):
    create_user(app)
    ess = channel_ess(demo_bundle.rhat)
    figure = f"{ess.value:.0f}"
    smallest = f"{demo_bundle.rhat['min_ess'].min():.3g}"  # a baseline group's (knot_values, mu_t): not the figure
    assert figure != f"{float(smallest):.0f}"
    overview = _render(app, "/", model="demo_mmm")
    assert f"smallest effective sample size of channel parameters {figure} ({ess.param})" in overview
    compare = _render(app, "/compare", model="demo_mmm")
    row = re.search(r"Smallest effective sample size \(channel parameters\).{0,400}", compare).group(0)
    assert row.count(f'"children": "{figure}"') == 2 and smallest not in row
    diagnostics = _render(app, "/diagnostics", model="demo_mmm")
    assert f"Smallest effective sample size of channel parameters: {figure} ({ess.param})" in diagnostics
    assert "small sample (baseline)" in diagnostics


@SQLITE
def test_pages_name_the_kpi_and_its_type_one_way(app, demo_bundle):
    create_user(app)
    description = demo_bundle.info.kpi_description
    for path in ("/", "/diagnostics"):
        page = _render(app, path, model="demo_mmm")
        assert description in page and "non_revenue" not in page, path
