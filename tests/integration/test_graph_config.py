"""Every chart in the app goes through one config: no toolbar button sends the model's numbers to
Plotly's cloud or Chart Studio, and the PNG download stays."""

from __future__ import annotations

import json
import re

import pytest

from mmm_dash.cli.page_bench import callback_body, router_body
from mmm_dash.core.figures.theme import CHART_CONFIG, CLOUD_BUTTONS
from mmm_dash.web.dashboard.shell import app_pages
from tests.helpers import ROOT

MODEL = "demo_mmm"


def _graphs(node) -> list[dict]:
    """Every dcc.Graph (as Dash serialises it) in a callback response, depth first."""
    if isinstance(node, list):
        return [g for child in node for g in _graphs(child)]
    if not isinstance(node, dict):
        return []
    found = [node] if node.get("type") == "Graph" and node.get("namespace") == "dash_core_components" else []
    return found + [g for child in node.values() for g in _graphs(child)]


def _post(client, body: dict) -> dict:
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_json()


def _assert_no_cloud(config: dict, where: str) -> None:
    assert config.get("showSendToCloud") is False, where
    assert config.get("showEditInChartStudio") is False, where
    assert config.get("showLink") is False and config.get("displaylogo") is False, where
    assert set(CLOUD_BUTTONS) <= set(config.get("modeBarButtonsToRemove", ())), where
    removed = set(config.get("modeBarButtonsToRemove", ()))
    assert "toImage" not in removed and config.get("displayModeBar", True) is not False, where  # PNG stays


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_chart_on_every_page_has_no_cloud_button(app, signed_in):
    seen = 0
    for _name, path in app_pages():
        for graph in _graphs(_post(signed_in, router_body(path, f"?model={MODEL}"))):
            _assert_no_cloud(graph["props"].get("config") or {}, f"{path} {graph['props'].get('id')}")
            seen += 1
    # Charts a callback builds after the page loads: the ladder's, and the curve picker's.
    view = {"model": MODEL, "period": "all"}
    bundle = app.server.extensions["mmm_dash"].models.bundle(MODEL)
    hist = bundle.period("all").curves.historical_spend.tolist()
    n = len(hist)
    ladder = _post(
        signed_in,
        {
            "output": "..sc-ladder-result.children...sc-ladder-spend.data...sc-ladder-apply.disabled..",
            "outputs": [
                {"id": "sc-ladder-result", "property": "children"},
                {"id": "sc-ladder-spend", "property": "data"},
                {"id": "sc-ladder-apply", "property": "disabled"},
            ],
            "inputs": [{"id": "sc-ladder-run", "property": "n_clicks", "value": 1}],
            "changedPropIds": ["sc-ladder-run.n_clicks"],
            "state": [
                {"id": "sc-view", "property": "data", "value": view},
                {"id": "sc-spend", "property": "data", "value": hist},
                {"id": "sc-ladder-slice", "property": "value", "value": 5},
                {"id": "sc-ladder-steps", "property": "value", "value": 10},
                {"id": "sc-ladder-cost", "property": "value", "value": None},
                [{"id": {"type": "sc-lower", "index": i}, "property": "value", "value": 70} for i in range(n)],
                [{"id": {"type": "sc-upper", "index": i}, "property": "value", "value": 130} for i in range(n)],
            ],
        },
    )
    curves = _post(
        signed_in,
        callback_body(
            ("curve-panels", "children"),
            [("curve-channel", "value", bundle.info.paid_channels[0])],
            [("curves-view", "data", view)],
        ),
    )
    late = _graphs(ladder) + _graphs(curves)
    assert late, "the ladder and the curve picker draw charts"
    for graph in late:
        _assert_no_cloud(graph["props"].get("config") or {}, str(graph["props"].get("id")))
    assert seen >= 20


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_html_reports_charts_have_no_cloud_button(signed_in):
    """The exported report inlines plotly.js, whose toolbar offers "Share chart" unless told not to."""
    response = signed_in.get(f"/export/report.html?model={MODEL}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    charts = page.count("Plotly.newPlot(")
    assert charts >= 4 and page.count('"showSendToCloud": false') == charts
    assert page.count(json.dumps({"modeBarButtonsToRemove": CHART_CONFIG["modeBarButtonsToRemove"]})[1:-1]) == charts


def test_every_graph_in_the_code_is_made_by_the_one_helper():
    """A dcc.Graph made anywhere else would not carry the config above."""
    makers = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "mmm_dash").rglob("*.py")
        if re.search(r"\bGraph\(", path.read_text())
    ]
    assert makers == ["mmm_dash/web/dashboard/components.py"], makers
