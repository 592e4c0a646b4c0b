"""The "results over time" card the Contribution and ROI pages share: a quarter/month toggle, a
chart of one metric per channel across buckets, and a table of every number.

The card arrives empty with its page and its page's callback fills it (Dash calls it once the card
is on screen): a month view answers 36 windows on the demo (about 0.3 s the first time in a process),
which would otherwise hold up every first render of the page. Both parts are memoized per bucket.
"""

from __future__ import annotations

import dataclasses

import dash_bootstrap_components as dbc
from dash import dcc, html

from mmm_dash.core import formatting
from mmm_dash.core.bundle import ModelInfo
from mmm_dash.core.figures.breakdowns import over_time_chart
from mmm_dash.core.formatting import LEVEL
from mmm_dash.core.over_time import BUCKETS, DEFAULT_BUCKET, OverTime, results_over_time
from mmm_dash.web.dashboard.components import chart_card, graph, grid, number_col
from mmm_dash.web.dashboard.context import View
from mmm_dash.web.memo import cached


def bucket_value(value) -> str:
    """The toggle's value, or the default for anything else a client sends."""
    return value if value in BUCKETS else DEFAULT_BUCKET


def metric_label(info: ModelInfo, metric: str) -> str:
    if metric == "incremental_outcome":
        return formatting.with_currency(f"Incremental {info.outcome_label}", info.has_revenue)
    if metric == "incremental_kpi":
        return f"Incremental {info.kpi_name}"
    if metric == "pct_of_contribution":
        return "Contribution share (% of outcome)"
    if metric == "cpik":
        return formatting.with_currency(f"Cost per incremental {info.kpi_name}")
    return "ROI"


def card(prefix: str, title: str, note: str):
    """The empty card: its page's callback fills `<prefix>-over-time` for the toggle's bucket."""
    toggle = dbc.RadioItems(
        id=f"{prefix}-over-time-bucket",
        options=[{"label": "Quarter", "value": "quarter"}, {"label": "Month", "value": "month"}],
        value=DEFAULT_BUCKET,
        inline=True,
        className="small",
    )
    body = dcc.Loading(html.Div(id=f"{prefix}-over-time", style={"minHeight": "420px"}), type="default")
    return chart_card(title, body, note=note, header_right=toggle, card_id=f"{prefix}-over-time-card")


def column_defs(info: ModelInfo, efficiency: str, bucket: str, outcome: str = "incremental_outcome") -> list[dict]:
    eff = metric_label(info, efficiency)
    eff_fmt = ",.4~f" if efficiency == "cpik" else ".2f"
    return [
        {"field": "label", "headerName": bucket.title(), "pinned": "left", "minWidth": 110, "sortable": False},
        {"field": "start", "headerName": "From", "minWidth": 110},
        number_col("n_weeks", "Weeks", "d", minWidth=80),
        {"field": "channel", "headerName": "Channel", "filter": "agTextColumnFilter", "minWidth": 140},
        number_col("spend", formatting.with_currency("Spend"), ",.0f"),
        number_col("pct_of_spend", "% of spend", ".1f"),
        number_col(f"{outcome}_mean", metric_label(info, outcome), ",.0f"),
        number_col(f"{outcome}_ci_lo", f"{LEVEL} CI low", ",.0f"),
        number_col(f"{outcome}_ci_hi", f"{LEVEL} CI high", ",.0f"),
        number_col("pct_of_contribution_mean", "Contribution share (% of outcome)", ".2f"),
        number_col("pct_of_contribution_ci_lo", f"{LEVEL} CI low", ".2f"),
        number_col("pct_of_contribution_ci_hi", f"{LEVEL} CI high", ".2f"),
        number_col(f"{efficiency}_mean", eff, eff_fmt),
        number_col(f"{efficiency}_ci_lo", f"{LEVEL} CI low", eff_fmt),
        number_col(f"{efficiency}_ci_hi", f"{LEVEL} CI high", eff_fmt),
    ]


def _partial_note(results: OverTime) -> str:
    parts = [f"{p.label.split(' (')[0]} has {p.n_times} weeks" for p in results.partial]
    return f" The data starts or ends inside a {results.bucket}: {', '.join(parts)}." if parts else ""


def parts(prefix: str, view: View, bucket: str, metric: str, reference: float | None = None) -> list:
    """The chart of `metric` per channel and the table, for the view's geo over the whole range, in the view's
    units (a revenue model read in its KPI: incremental KPI and cost per KPI)."""
    info = view.info
    results = results_over_time(view.bundle, bucket, view.geo)
    efficiency = "cpik" if view.in_kpi else results.efficiency
    metric = efficiency if metric == "efficiency" else metric
    metric = view.outcome_metric if metric == "incremental_outcome" else metric
    figure = over_time_chart(results.channel_rows(), metric, metric_label(info, metric), reference)
    return [
        graph(f"{prefix}-over-time-chart", figure),
        html.Div(
            f"Points: posterior mean; error bars: {LEVEL} credible interval; each {bucket} is its own window of "
            f"weeks.{_partial_note(results)}",
            className="small-note mb-2",
        ),
        grid(
            f"{prefix}-over-time-grid",
            results.table,
            column_defs(info, efficiency, bucket, view.outcome_metric),
            height=360,
        ),
    ]


def whole_range(view: View) -> View:
    """The view as the over-time card sees it: every bucket of the whole range whatever the period,
    so it is memoized once per geo and bucket, not once per period."""
    return dataclasses.replace(view, period_key=view.bundle.presets["all"].key)


def memoized_parts(page: str, prefix: str, view: View, bucket, metric: str, reference: float | None = None):
    bucket = bucket_value(bucket)
    return cached(
        whole_range(view), f"{page}.over_time", lambda: parts(prefix, view, bucket, metric, reference), bucket
    )


def scope_note(view: View) -> str:
    first, last = view.bundle.draws.times[0], view.bundle.draws.times[-1]
    where = f"geo {view.geo}" if view.geo else "all geos"
    return f"Whole range ({first} – {last}), {where}, whatever the period selected above."
