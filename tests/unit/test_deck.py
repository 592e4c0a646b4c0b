"""The PowerPoint report: native charts whose data are the bundle's numbers, tables in the currency."""

from __future__ import annotations

import io

import pytest
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from mmm_dash.core import formatting
from mmm_dash.core.exports.deck import report_pptx
from mmm_dash.core.insights import build_insights
from tests.unit.synthetic import make_bundle


def deck(bundle, period="all", geo=None):
    analysis = bundle.period(period, geo)
    insights = build_insights(bundle, analysis)
    return Presentation(io.BytesIO(report_pptx(bundle, analysis, insights))), analysis, insights


def slides_by_title(prs) -> dict:
    return {s.shapes.title.text: s for s in prs.slides}


def only(slide, shape_type):
    (shape,) = [s for s in slide.shapes if s.shape_type == shape_type]
    return shape


def chart_values(slide) -> dict[str, float]:
    chart = only(slide, MSO_SHAPE_TYPE.CHART).chart
    (series,) = chart.plots[0].series
    return dict(zip(chart.plots[0].categories, series.values, strict=True))


def test_revenue_deck_charts_are_native_and_hold_the_bundles_numbers():
    prs, analysis, insights = deck(make_bundle())
    table = analysis.channel_table()
    slides = slides_by_title(prs)
    assert list(slides)[0] == "Media-mix model report: synthetic"

    contribution = slides["Incremental revenue by channel ($)"]
    assert chart_values(contribution) == pytest.approx(table.incremental_outcome_mean.to_dict(), rel=1e-12)
    chart = only(contribution, MSO_SHAPE_TYPE.CHART).chart
    assert chart.plots[0].data_labels.number_format == '"$"#,##0'
    assert chart.part.chart_workbook.xlsx_part is not None  # its data sits in a workbook: Edit Data works
    assert chart_values(slides["ROI by channel"]) == pytest.approx(table.roi_mean.to_dict(), rel=1e-12)
    fit = only(slides["Expected vs actual revenue ($)"], MSO_SHAPE_TYPE.CHART).chart
    actual, expected = fit.plots[0].series
    assert list(actual.values) == pytest.approx(analysis.series.actual.tolist())
    assert list(expected.values) == pytest.approx(analysis.series.expected_mean.tolist())

    grid = only(slides["Per-channel metrics"], MSO_SHAPE_TYPE.TABLE).table
    rows = [[c.text for c in r.cells] for r in grid.rows]
    assert rows[0][1] == "Spend (USD)" and [r[0] for r in rows[1:]] == list(analysis.channels.index)
    for row, (_channel, metrics) in zip(rows[1:], analysis.channels.iterrows(), strict=True):
        assert row[1] == formatting.money(metrics.spend) and row[1].startswith("$")
        assert row[2].startswith("$") and row[5].startswith("$")  # incremental revenue, cost per KPI

    verdicts = only(slides["One verdict per channel"], MSO_SHAPE_TYPE.TABLE).table
    expected_verdicts = [(i.channel, i.text) for i in insights if i.action]
    assert [(r.cells[0].text, r.cells[2].text) for r in list(verdicts.rows)[1:]] == expected_verdicts
    headline = " ".join(s.text_frame.text for s in slides["Headline numbers"].shapes if s.has_text_frame)
    assert formatting.money(analysis.total().spend) in headline and "Trust:" in headline


def test_kpi_deck_speaks_in_cost_per_kpi_in_the_configured_currency(monkeypatch):
    monkeypatch.setattr(formatting, "CURRENCY", formatting.Currency("EUR", "€"))
    prs, analysis, _insights = deck(make_bundle(has_revenue=False, geos=("North", "South")), "2024-q2", "South")
    slides = slides_by_title(prs)
    assert "ROI by channel" not in slides
    cost = slides["Cost per incremental KPI (€) by channel"]
    assert chart_values(cost) == pytest.approx(analysis.channel_table().cpik_mean.to_dict(), rel=1e-12)
    assert only(cost, MSO_SHAPE_TYPE.CHART).chart.value_axis.tick_labels.number_format == '"€"#,##0.00'
    grid = only(slides["Per-channel metrics"], MSO_SHAPE_TYPE.TABLE).table
    assert grid.cell(0, 1).text == "Spend (EUR)"
    assert all(grid.cell(i, 1).text.startswith("€") for i in range(1, len(grid.rows)))
    footer = " ".join(s.text_frame.text for s in cost.shapes if s.has_text_frame)
    assert "South" in footer and analysis.period.label in footer


def test_long_tables_continue_on_more_slides_with_their_header():
    from mmm_dash.core.exports.deck import _table_slides

    prs = Presentation()
    rows = [[f"Channel {k}", f"${k}"] for k in range(13)]
    _table_slides(prs, "Per-channel metrics", "footer", ["Channel", "Spend (USD)"], rows, (1, 1), 12, 6)
    titles = [s.shapes.title.text for s in prs.slides]
    assert titles == ["Per-channel metrics"] + ["Per-channel metrics (continued)"] * 2
    tables = [only(s, MSO_SHAPE_TYPE.TABLE).table for s in prs.slides]
    assert all(t.cell(0, 1).text == "Spend (USD)" for t in tables)
    assert [t.cell(i, 0).text for t in tables for i in range(1, len(t.rows))] == [r[0] for r in rows]
