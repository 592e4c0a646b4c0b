"""Every export parsed back and compared with the bundle: exports and pages never disagree."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest

from mmm_dash.core.insights import build_insights
from mmm_dash.core.tables import channel_metrics

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.mark.parametrize("period", ["all", "2024", "last52"])
def test_metrics_json_matches_bundle(signed_in, demo_bundle, period):
    response = signed_in.get(f"/export/metrics.json?model=demo_mmm&period={period}")
    assert response.status_code == 200
    doc = json.loads(response.data)
    analysis = demo_bundle.period(period)
    assert doc["period"]["key"] == period and doc["model"]["name"] == "demo_mmm"
    table = analysis.channel_table()
    assert [c["channel"] for c in doc["channels"]] == list(table.index)
    for record in doc["channels"]:
        row = table.loc[record["channel"]]
        for metric in ("incremental_outcome", "roi", "mroi", "cpik", "effectiveness", "pct_of_contribution"):
            for stat in ("mean", "median", "ci_lo", "ci_hi"):
                assert record[metric][stat] == pytest.approx(row[f"{metric}_{stat}"], rel=1e-12)
        assert record["spend"] == pytest.approx(row["spend"])
    assert doc["total"]["roi"]["mean"] == pytest.approx(analysis.total()["roi_mean"])


def test_metrics_csv_matches_bundle(signed_in, demo_bundle):
    response = signed_in.get("/export/metrics.csv?model=demo_mmm&period=2024")
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8"))))
    expected = channel_metrics(demo_bundle.period("2024"))
    assert [r["channel"] for r in rows] == list(expected.channel)
    for row, (_i, exp) in zip(rows, expected.iterrows(), strict=True):  # six significant digits, amounts to the cent
        assert float(row["roi_mean"]) == pytest.approx(exp.roi_mean, rel=5e-6)
        assert float(row["cpik_ci_hi_usd"]) == pytest.approx(exp.cpik_ci_hi, rel=5e-6)
        assert float(row["spend_usd"]) == pytest.approx(exp.spend, abs=0.005)


def test_insights_json_csv_txt_agree_with_bundle(signed_in, demo_bundle):
    analysis = demo_bundle.period("all")
    expected = build_insights(demo_bundle, analysis)
    doc = json.loads(signed_in.get("/export/insights.json?model=demo_mmm").data)
    assert [i["id"] for i in doc["insights"]] == [i.id for i in expected]
    for got, exp in zip(doc["insights"], expected, strict=True):
        assert got["text"] == exp.text
        for key, value in exp.numbers.items():
            if value == value:  # NaN is null in JSON
                assert got["numbers"][key] == pytest.approx(value)
    rows = list(csv.DictReader(io.StringIO(signed_in.get("/export/insights.csv?model=demo_mmm").data.decode())))
    assert [r["id"] for r in rows] == [i.id for i in expected]
    assert all(r["text"] for r in rows)
    text = signed_in.get("/export/insights.txt?model=demo_mmm").data.decode()
    for insight in expected:
        assert insight.text in text


def test_report_is_self_contained(signed_in):
    response = signed_in.get("/export/report.html?model=demo_mmm&period=2025")
    html = response.data.decode()
    assert response.status_code == 200
    from plotly.offline import get_plotlyjs

    assert html.count(get_plotlyjs()[:2000]) == 1  # Plotly inlined exactly once
    assert "Per-channel metrics" in html and "Insights" in html and "Paid Search" in html
    page_without_library = html.replace(get_plotlyjs(), "")
    assert re.search(r'(src|href)="https?://', page_without_library) is None  # nothing fetched from the network


def test_report_pptx_is_a_deck_of_the_views_numbers(signed_in, demo_bundle):
    from pptx import Presentation
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    from mmm_dash.core.formatting import money

    response = signed_in.get("/export/report.pptx?model=demo_mmm&period=2024&geo=West")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    today = dt.date.today().isoformat()
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="mmm-demo_mmm-West-2024-{today}-report.pptx"'
    )
    prs = Presentation(io.BytesIO(response.data))
    slides = {s.shapes.title.text: s for s in prs.slides}
    table = demo_bundle.period("2024", "West").channel_table()
    charts = {
        title: next(s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.CHART).chart
        for title, slide in slides.items()
        if any(s.has_chart for s in slide.shapes)
    }
    for title, column in (
        ("Incremental revenue by channel ($)", "incremental_outcome_mean"),
        ("ROI by channel", "roi_mean"),
    ):
        plot = charts[title].plots[0]
        values = dict(zip(plot.categories, plot.series[0].values, strict=True))
        assert values == pytest.approx(table[column].to_dict(), rel=1e-12), title
    grid = next(s for s in slides["Per-channel metrics"].shapes if s.has_table).table
    spend = {grid.cell(i, 0).text: grid.cell(i, 1).text for i in range(1, len(grid.rows))}
    assert all(
        spend[channel] == money(row.spend) and spend[channel].startswith("$") for channel, row in table.iterrows()
    )


def test_download_headers(signed_in):
    response = signed_in.get("/export/insights.txt?model=demo_mmm&period=2024")
    today = dt.date.today().isoformat()
    assert response.headers["Content-Disposition"] == (f'attachment; filename="mmm-demo_mmm-2024-{today}-insights.txt"')


def test_unknown_model_period_and_file(signed_in):
    assert signed_in.get("/export/metrics.json?model=nope").status_code == 404
    bad_period = signed_in.get("/export/metrics.json?model=demo_mmm&period=1999")
    assert bad_period.status_code == 400 and "Unknown period" in bad_period.json["error"]
    assert signed_in.get("/export/secrets.json").status_code == 404


def test_anonymous_export_is_401(client):
    assert client.get("/export/metrics.csv?model=demo_mmm").status_code == 401
    assert client.get("/export/report.pptx?model=demo_mmm").status_code == 401


def test_deck_headline_numbers_are_the_overviews_cards(signed_in, demo_bundle):
    from mmm_dash.core.headline import headline_numbers
    from tests.integration.test_geos_and_over_time import find, page, text_of

    content = page(signed_in, "/", "&period=2024&geo=West")
    cards = [find(content, f"card-{name}") for name in ("spend", "outcome", "roi", "share")]
    shown = [tuple(text_of(div) for div in card["props"]["children"]["props"]["children"]) for card in cards]
    numbers = headline_numbers(demo_bundle.info, demo_bundle.period("2024", "West"))
    assert [(h.label, h.value, h.detail) for h in numbers] == shown
