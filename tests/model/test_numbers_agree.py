"""The same number on every page: a fitted KPI-only geo model (no revenue) read through the signed-in
Flask test client as the browser asks for it. Overview, ROI, the planner, Insights and metrics.json
state one blended cost per KPI (Meridian's cpik, in one scale), and every channel's cost agrees between
the ROI grid, the planner's table at historical spend and the export."""

from __future__ import annotations

import json

import pytest
from plotly.utils import PlotlyJSONEncoder

from mmm_dash.cli.page_bench import router_body
from mmm_dash.core.formatting import cost_per_kpi, money
from tests.helpers import TEST_CACHE, create_user, login, make_app
from tests.integration.test_geos_and_over_time import find, text_of
from tests.model.conftest import build_shape

pytestmark = pytest.mark.slow
SHAPE = "geo_rf_no_revenue"


@pytest.fixture(scope="module")
def kpi_model(tmp_path_factory):
    return build_shape(SHAPE, tmp_path_factory)


@pytest.fixture()
def client(kpi_model, tmp_path):
    _shape, model_dir, _bundle = kpi_model
    app = make_app(f"sqlite:///{tmp_path / 'agree.sqlite3'}", model_dir, TEST_CACHE / "cache")
    email, password = create_user(app)
    client = app.server.test_client()
    assert login(client, email, password).status_code == 302
    return client


def _page(client, path: str):
    response = client.post("/_dash-update-component", json=router_body(path, f"?model={SHAPE}"))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_json()["response"]["_pages_content"]["children"]


def test_every_page_states_one_cost_per_kpi(kpi_model, client):
    _shape, _dir, bundle = kpi_model
    analysis = bundle.period("all")
    total, scale, kpi = analysis.total(), analysis.cost_scale, bundle.info.kpi_name
    blended = money(total.cpik_mean * scale)

    overview = text_of(find(_page(client, "/"), "card-roi"))
    assert blended in overview, overview

    planner = _page(client, "/scenarios")
    summary = text_of(find(planner, "sc-card-roi"))
    assert f"historical {blended}" in summary and summary.startswith(f"Cost per {'1,000 ' if scale > 1 else ''}"), (
        summary
    )
    from mmm_dash.web.pages.scenarios import results_table  # the page's own table (filled by a callback)
    from mmm_dash.web.scenarios import service

    model = service.scenario_model(bundle, "all")
    historical = model.evaluate(model.historical_spend)
    sent = json.loads(json.dumps(results_table(model, historical, historical, bundle.info), cls=PlotlyJSONEncoder))
    table = text_of(sent)

    roi = _page(client, "/roi")
    rows = {r["channel"]: r for r in find(roi, "roi-grid")["props"]["rowData"]}
    for channel in analysis.paid_channels:
        mean = analysis.channel_table().loc[channel, "cpik_mean"]
        assert rows[channel]["cpik_mean"] == pytest.approx(mean * scale, rel=1e-9)  # the grid, in the view's scale
        assert rows[channel]["mcpik_mean"] is not None  # the marginal cost column is filled
        assert cost_per_kpi(mean, kpi, scale) in table, (channel, table)  # the planner at historical spend

    insights = text_of(_page(client, "/insights"))
    assert cost_per_kpi(total.cpik_mean, f"incremental {kpi}", scale) in insights

    metrics = client.get(f"/export/metrics.json?model={SHAPE}&period=all").get_json()
    exported = {c["channel"]: c for c in metrics["channels"]}
    for channel in analysis.paid_channels:
        assert exported[channel]["cpik"]["mean"] == pytest.approx(analysis.channel_table().loc[channel, "cpik_mean"])
