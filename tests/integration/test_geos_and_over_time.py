"""The Geos page and the over-time cards of Contribution and ROI on the demo (5 geos), rendered
through the signed-in Flask test client as the browser asks for them, and the over-time downloads."""

from __future__ import annotations

import csv
import io

import pytest

from mmm_dash.cli.page_bench import callback_body, router_body
from mmm_dash.core.bundle import TOTAL_CHANNEL
from mmm_dash.web.memo import EXTENSION_KEY, as_sent

MODEL = "demo_mmm"
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _post(client, body: dict) -> dict:
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_json()["response"]


def find(tree, component_id: str):
    """The component (as Dash sends it) whose id is `component_id`, anywhere in `tree`."""
    if isinstance(tree, dict):
        if tree.get("props", {}).get("id") == component_id:
            return tree
        children = tree.values()
    elif isinstance(tree, list):
        children = tree
    else:
        return None
    for child in children:
        found = find(child, component_id)
        if found is not None:
            return found
    return None


def text_of(tree) -> str:
    """The text a reader sees: the string children of every component in `tree`."""
    if isinstance(tree, str):
        return tree
    if isinstance(tree, dict):
        return text_of(tree.get("props", {}).get("children"))
    if isinstance(tree, list):
        return " ".join(t for t in (text_of(v) for v in tree) if t)
    return ""


def page(client, path: str, search: str = ""):
    return _post(client, router_body(path, f"?model={MODEL}{search}"))["_pages_content"]["children"]


@pytest.mark.parametrize("search", ["", "&period=2024-q2", "&period=2024-02-05..2024-06-24&geo=West"])
def test_geos_page_shows_every_demo_geo_with_the_window_engines_numbers(app, signed_in, demo_bundle, search):
    content = page(signed_in, "/geos", search)
    period = "all" if "period" not in search else search.split("period=")[1].split("&")[0]
    grid = find(content, "geos-grid")
    rows = {r["geo"]: r for r in grid["props"]["rowData"]}
    assert set(rows) == set(demo_bundle.info.geos)  # every geo, whichever one the URL selects
    for geo, row in rows.items():
        total = demo_bundle.period(period, geo).total()
        for column in ("spend", "incremental_outcome_mean", "incremental_outcome_ci_lo", "roi_ci_hi"):
            assert row[column] == pytest.approx(total[column], rel=1e-12), (geo, column)
        assert row["pct_of_contribution_mean"] == pytest.approx(total["pct_of_contribution_mean"], rel=1e-12)
    assert sum(r["pct_of_spend"] for r in rows.values()) == pytest.approx(100.0)
    outcome = find(content, "geos-outcome")["props"]["figure"]
    assert [a["text"] for a in outcome["layout"]["annotations"]] == sorted(rows, key=lambda g: -rows[g]["spend"])
    assert "same y-axis scale" in text_of(content)
    assert find(content, "geos-efficiency") and find(content, "geos-spend-share")
    assert find(content, "geos-top-note") is None  # 5 geos: every one is charted
    assert find(content, "geos-national") is None


def test_geos_page_is_memoized_whatever_the_geo_selection(app, signed_in):
    first = page(signed_in, "/geos")["props"]["children"]
    memo = app.server.extensions[EXTENSION_KEY]
    stored = len(memo)
    again = page(signed_in, "/geos", "&geo=West")["props"]["children"]
    assert again[2:] == first[2:]  # below the controls and the trust banner (the geo's own fit): the same page
    assert len(memo) == stored + 2 and memo.hits >= 1  # only West's controls and trust banner are new


def test_a_national_model_has_one_sentence_on_the_geos_page(app):
    import dataclasses

    from mmm_dash.web.dashboard.context import View
    from mmm_dash.web.pages import geos
    from tests.unit.synthetic import make_bundle

    bundle = make_bundle()
    view = View("synthetic", "synthetic", "all", bundle, bundle.period("all"), names=["synthetic"])
    content = as_sent(geos.body(view))
    assert text_of(find(content, "geos-national")) == "This model is national, so it has no geos to compare."
    assert find(content, "geos-grid") is None
    assert find(as_sent(geos.body(dataclasses.replace(view, bundle=make_bundle(geos=("A", "B"))))), "geos-grid")


@pytest.mark.parametrize(("prefix", "metric"), [("contribution", "incremental_outcome"), ("roi", "roi")])
@pytest.mark.parametrize("bucket", ["quarter", "month"])
def test_over_time_cards_show_every_bucket(app, signed_in, demo_bundle, prefix, metric, bucket):
    content = page(signed_in, f"/{prefix}")
    assert find(content, f"{prefix}-over-time-bucket") and find(content, f"{prefix}-over-time")
    view = {"model": MODEL, "entry": MODEL, "period": "2024", "geo": "Southeast"}
    body = callback_body(
        (f"{prefix}-over-time", "children"),
        [(f"{prefix}-over-time-bucket", "value", bucket)],
        [(f"{prefix}-view", "data", view)],
    )
    children = _post(signed_in, body)[f"{prefix}-over-time"]["children"]
    keys = [k for k, p in demo_bundle.presets.items() if p.kind == bucket]
    figure = find(children, f"{prefix}-over-time-chart")["props"]["figure"]
    assert [t["name"] for t in figure["data"]] == list(demo_bundle.info.paid_channels)
    assert all(len(t["x"]) == len(keys) for t in figure["data"])
    rows = find(children, f"{prefix}-over-time-grid")["props"]["rowData"]
    assert len(rows) == len(keys) * (len(demo_bundle.info.paid_channels) + 1)
    last = [r for r in rows if r["bucket"] == keys[-1]]
    theirs = demo_bundle.period(keys[-1], "Southeast").channels  # the whole range's buckets, not 2024's
    for row in last:
        assert row[f"{metric}_mean"] == pytest.approx(theirs.loc[row["channel"], f"{metric}_mean"], rel=1e-12)
    assert last[-1]["channel"] == TOTAL_CHANNEL


def test_over_time_downloads_follow_the_views_geo(app, signed_in, demo_bundle):
    response = signed_in.get(f"/export/over_time.csv?model={MODEL}&period=2024&geo=West")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    quarters = [k for k, p in demo_bundle.presets.items() if p.kind == "quarter"]
    months = [k for k, p in demo_bundle.presets.items() if p.kind == "month"]
    assert len(rows) == (len(quarters) + len(months)) * (len(demo_bundle.info.paid_channels) + 1)
    tv = next(r for r in rows if r["bucket"] == quarters[0] and r["channel"] == "TV")
    assert float(tv["spend"]) == pytest.approx(demo_bundle.period(quarters[0], "West").channels.loc["TV", "spend"])
    doc = signed_in.get(f"/export/over_time.json?model={MODEL}&geo=West").get_json()
    assert doc["geo"] == "West" and doc["coverage"]["period_applies"] is False
    assert [b["bucket"] for b in doc["buckets"]["quarter"]] == quarters


def test_an_unknown_bucket_from_a_client_shows_quarters(app, signed_in, demo_bundle):
    view = {"model": MODEL, "entry": MODEL, "period": "all", "geo": None}
    body = callback_body(
        ("roi-over-time", "children"), [("roi-over-time-bucket", "value", "fortnight")], [("roi-view", "data", view)]
    )
    rows = find(_post(signed_in, body)["roi-over-time"]["children"], "roi-over-time-grid")["props"]["rowData"]
    assert {r["bucket"] for r in rows} == {k for k, p in demo_bundle.presets.items() if p.kind == "quarter"}
