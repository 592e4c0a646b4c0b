"""The units toggle on the demo, whose KPI comes with revenue per KPI: with units=kpi, Overview, Contribution and
ROI state the incremental KPI and cost per KPI, the same numbers as metrics.json; without it, revenue and ROI."""

from __future__ import annotations

import json

import pytest

from mmm_dash.cli.page_bench import router_body
from mmm_dash.core.formatting import compact, kpi_cost_scale, money
from tests.helpers import callback_body
from tests.integration.test_geos_and_over_time import find, text_of

MODEL = "demo_mmm"
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def page(client, path: str, search: str = ""):
    response = client.post("/_dash-update-component", json=router_body(path, f"?model={MODEL}{search}"))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_json()["response"]["_pages_content"]["children"]


def metrics_json(client, search: str = "") -> dict:
    response = client.get(f"/export/metrics.json?model={MODEL}{search}")
    assert response.status_code == 200
    return json.loads(response.data)


@pytest.mark.parametrize("search", ["", "&period=2024-q2&geo=West"])
def test_overview_in_kpi_states_the_kpi_and_its_cost_as_metrics_json(signed_in, demo_bundle, search):
    kpi = demo_bundle.info.kpi_name
    assert demo_bundle.info.has_both_units
    content = page(signed_in, "/", search + "&units=kpi")
    total = metrics_json(signed_in, search)["total"]  # the exports carry both units whatever the toggle
    outcome = find(content, "card-outcome")
    assert f"Incremental {kpi}" in text_of(outcome) and "USD" not in text_of(outcome)
    assert text_of(find(content, "card-outcome-value")) == compact(total["incremental_kpi"]["mean"])
    detail = text_of(find(content, "card-outcome-detail"))
    assert compact(total["incremental_kpi"]["ci_lo"]) in detail and compact(total["incremental_kpi"]["ci_hi"]) in detail
    cost = find(content, "card-roi")
    scale = kpi_cost_scale(total["cpik"]["mean"])
    assert f"incremental {kpi}" in text_of(cost) and "ROI" not in text_of(cost)
    assert text_of(find(content, "card-roi-value")) == money(total["cpik"]["mean"] * scale)
    toggle = find(content, "units-select")["props"]
    assert toggle["value"] == "kpi" and [o["label"] for o in toggle["options"]] == ["Revenue", kpi]
    assert find(content, "view-notice") is None


def test_overview_in_revenue_by_default(signed_in, demo_bundle):
    page(signed_in, "/", "&units=kpi")  # memoized apart: the KPI view never stands in for the revenue one
    content = page(signed_in, "/")
    total = metrics_json(signed_in)["total"]
    assert text_of(find(content, "card-outcome-value")) == money(total["incremental_outcome"]["mean"])
    assert "Blended ROI" in text_of(find(content, "card-roi"))
    assert find(content, "units-select")["props"]["value"] == "revenue"


def test_roi_page_in_kpi_has_cost_per_kpi_charts_and_grid(signed_in, demo_bundle):
    content = page(signed_in, "/roi", "&units=kpi")
    doc = metrics_json(signed_in)
    grid = find(content, "roi-grid")["props"]
    fields = [c.get("field") for c in grid["columnDefs"]]
    assert {"incremental_kpi_mean", "incremental_kpi_ci_lo", "cpik_mean", "cpik_ci_hi", "mcpik_mean"} <= set(fields)
    assert "roi_mean" not in fields and "incremental_outcome_mean" not in fields
    rows = {r["channel"]: r for r in grid["rowData"]}
    for record in doc["channels"]:
        row = rows[record["channel"]]
        for metric in ("incremental_kpi", "cpik", "mcpik"):
            assert row[f"{metric}_mean"] == pytest.approx(record[metric]["mean"], rel=1e-12)
    cost = find(content, "roi-chart")["props"]["figure"]
    bars = dict(zip(cost["data"][0]["y"], cost["data"][0]["x"], strict=True))
    assert bars == pytest.approx({r["channel"]: r["cpik"]["mean"] for r in doc["channels"]})
    marginal = find(content, "mroi-chart")["props"]["figure"]
    bars = dict(zip(marginal["data"][0]["y"], marginal["data"][0]["x"], strict=True))
    assert bars == pytest.approx({r["channel"]: r["mcpik"]["mean"] for r in doc["channels"]})
    assert find(content, "roi-bubble") is None


def test_contribution_in_kpi_shows_each_channels_kpi_with_intervals(signed_in, demo_bundle):
    content = page(signed_in, "/contribution", "&period=2024&units=kpi")
    doc = metrics_json(signed_in, "&period=2024")
    figure = find(content, "contribution-chart")["props"]["figure"]
    paid = {r["channel"]: r["incremental_kpi"] for r in doc["channels"]}
    trace = figure["data"][0]
    shown = dict(zip(trace["y"], trace["x"], strict=True))
    assert {c: shown[c] for c in paid} == pytest.approx({c: k["mean"] for c, k in paid.items()})
    assert "error_x" in trace  # the intervals
    assert "USD" not in figure["layout"]["xaxis"]["title"]["text"]


def test_bad_units_fall_back_to_revenue_with_a_notice(signed_in):
    content = page(signed_in, "/", "&units=euros")
    notice = text_of(find(content, "view-notice"))
    assert "'euros'" in notice and "Units" in notice
    assert "Blended ROI" in text_of(find(content, "card-roi"))


def test_toggle_writes_units_into_the_url(app, signed_in):
    body = callback_body(
        app,
        "_controls_to_url",
        {"units-select": "kpi", "url": f"?model={MODEL}&period=2024", "controls-rendered": {}},
        ["units-select.value"],
    )
    response = signed_in.post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.get_json()["response"]["url"]["search"] == f"?model={MODEL}&period=2024&units=kpi"


def test_pie_callback_and_planner_keep_the_pages_units(app, signed_in, demo_bundle):
    content = page(signed_in, "/contribution", "&units=kpi")
    stored = find(content, "contribution-view")["props"]["data"]
    assert stored["units"] == "kpi"
    body = callback_body(app, "switch_chart", {"contribution-chart-type": "pie", "contribution-view": stored}, [])
    response = signed_in.post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    pie = response.get_json()["response"]["contribution-chart"]["figure"]["data"][0]
    values = dict(zip(pie["labels"], pie["values"], strict=True))
    a = demo_bundle.period("all")
    assert values["Baseline"] == pytest.approx(a.baseline["incremental_kpi_mean"])
    assert values["TV"] == pytest.approx(a.channels.loc["TV", "incremental_kpi_mean"])
    planner = page(signed_in, "/scenarios", "&units=kpi")
    assert f"plans in revenue, not in {demo_bundle.info.kpi_name}" in text_of(planner)
    assert "plans in revenue" not in text_of(page(signed_in, "/scenarios"))


def test_roi_over_time_in_kpi_is_cost_per_kpi_per_quarter(app, signed_in, demo_bundle):
    stored = find(page(signed_in, "/roi", "&units=kpi"), "roi-view")["props"]["data"]
    body = callback_body(app, "roi.show_over_time", {"roi-over-time-bucket": "quarter", "roi-view": stored}, [])
    response = signed_in.post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    card = response.get_json()["response"]["roi-over-time"]["children"]
    grid = find(card, "roi-over-time-grid")["props"]
    fields = [c.get("field") for c in grid["columnDefs"]]
    assert "cpik_mean" in fields and "incremental_kpi_ci_hi" in fields and "roi_mean" not in fields
    row = next(r for r in grid["rowData"] if r["bucket"] == "2024-q2" and r["channel"] == "TV")
    q2 = demo_bundle.period("2024-q2").channels.loc["TV"]
    assert row["cpik_mean"] == pytest.approx(q2["cpik_mean"]) and row["incremental_kpi_mean"] == pytest.approx(
        q2["incremental_kpi_mean"]
    )
