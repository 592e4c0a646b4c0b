"""ROI: return per channel with intervals, efficiency vs scale, and every metric in one table."""

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc

from mmm_dash.core import formatting
from mmm_dash.core.figures import charts
from mmm_dash.core.formatting import LEVEL
from mmm_dash.core.over_time import efficiency_metric
from mmm_dash.core.tables import channel_metrics, in_cost_scale
from mmm_dash.web.dashboard import over_time
from mmm_dash.web.dashboard.components import chart_card, download_buttons, graph, grid, number_col, page_header
from mmm_dash.web.dashboard.context import View, frame, resolve, stored_view
from mmm_dash.web.memo import cached

dash.register_page(__name__, path="/roi", name="ROI", title="ROI · mmm-dash", order=2)


def cost_label(info, scale: int, marginal: bool = False) -> str:
    """'Cost per 1,000 visits (€)': the view's one cost scale in every cost header and axis."""
    per = f"1,000 {info.kpi_name}" if scale > 1 else info.kpi_name
    return formatting.with_currency(f"{'Marginal cost' if marginal else 'Cost'} per {per}")


def column_defs(info, scale: int = 1, in_kpi: bool = False):
    """The grid's columns: the metrics that mean something for this model (headers wrap whole: the grid's default).
    ROI and mROI for revenue models; cost per KPI (and its marginal) for a KPI without revenue, all in the
    view's cost scale; also for a revenue model read in its KPI (`in_kpi`: units=kpi)."""
    inc, label = ("incremental_kpi", info.kpi_name) if in_kpi else ("incremental_outcome", info.outcome_label)
    cols = [
        {
            "field": "channel",
            "headerName": "Channel",
            "pinned": "left",
            "filter": "agTextColumnFilter",
            "minWidth": 130,
        },
        number_col("spend", formatting.with_currency("Spend"), ",.0f"),
        number_col("pct_of_spend", "% of spend", ".1f"),
        number_col(f"{inc}_mean", f"Incremental {label}", ",.0f"),
        number_col(f"{inc}_ci_lo", f"{LEVEL} CI low", ",.0f"),
        number_col(f"{inc}_ci_hi", f"{LEVEL} CI high", ",.0f"),
        number_col("pct_of_contribution_mean", "Contribution share (% of outcome)", ".1f"),
    ]
    if info.has_revenue and not in_kpi:
        cols += [
            number_col("roi_mean", "ROI", ".2f"),
            number_col("roi_ci_lo", f"ROI {LEVEL} CI low", ".2f"),
            number_col("roi_ci_hi", f"ROI {LEVEL} CI high", ".2f"),
            number_col("mroi_mean", "mROI", ".2f"),
        ]
        if info.kpi_type != "revenue":
            cols.append(number_col("cpik_mean", cost_label(info, scale), ",.3~f"))
    else:
        cols += [
            number_col("cpik_mean", cost_label(info, scale), ",.4~f"),
            number_col("cpik_ci_lo", f"{LEVEL} CI low", ",.4~f"),
            number_col("cpik_ci_hi", f"{LEVEL} CI high", ",.4~f"),
            number_col("mcpik_mean", cost_label(info, scale, marginal=True), ",.4~f"),
        ]
    cols.append(number_col("effectiveness_mean", "Effectiveness (per impression)", ".3~g"))
    return cols


def efficiency_charts(view: View, table) -> list:
    """Two charts of what each channel returns: ROI and mROI for revenue, costs per KPI otherwise."""
    info = view.info
    if view.in_revenue:
        return [
            chart_card(
                "ROI",
                graph("roi-chart", charts.metric_bars(table, "roi", "ROI", reference=1.0)),
                note=f"Incremental revenue per unit of spend, with its {LEVEL} interval; right of 1 pays back.",
            ),
            chart_card(
                "Marginal ROI",
                graph("mroi-chart", charts.metric_bars(table, "mroi", "mROI", reference=1.0)),
                note="What the next unit of spend returns at current levels; below 1 it returns less than it costs.",
            ),
        ]
    kpi, scale = info.kpi_name, view.analysis.cost_scale
    table = in_cost_scale(table, scale)
    return [
        chart_card(
            f"Cost per incremental {kpi}",
            graph("roi-chart", charts.metric_bars(table, "cpik", cost_label(info, scale))),
            note=f"Spend per incremental {kpi}, with its {LEVEL} interval; lower is better.",
        ),
        chart_card(
            f"Marginal cost per {kpi}",
            graph("mroi-chart", charts.metric_bars(table, "mcpik", cost_label(info, scale, marginal=True))),
            note=f"What the next incremental {kpi} costs at current spend (1 / mROI); lower is better.",
        ),
    ]


def content(view: View):
    return frame(view, *cached(view, __name__, lambda: body(view)))


def body(view: View) -> list:
    """Everything below the controls: the same on every visit to this model and period."""
    info, a = view.info, view.analysis
    table = a.channel_table()
    efficiency = efficiency_metric(info) if view.in_revenue else "cpik"  # a revenue model read in its KPI: cpik
    exports = download_buttons(
        view.model,
        view.period_key,
        which=("metrics.csv", "metrics.json", "report.html"),
        id_prefix="roi-download",
        version=view.pinned_version,
        geo=view.geo,
    )
    return [
        page_header(
            "Return on investment" if view.in_revenue else f"Cost per incremental {info.kpi_name}",
            f"Per paid channel · {a.period.label} · intervals are {LEVEL} credible",
            right=exports,
        ),
        dcc.Store(id="roi-view", data=view.keys()),
        dbc.Row([dbc.Col(card, lg=6) for card in efficiency_charts(view, table)]),
        chart_card(
            "ROI vs effectiveness",
            graph("roi-bubble", charts.roi_bubble(table, "ROI")),
            note=f"Bubble area: spend; whiskers: the {LEVEL} interval of ROI. Top right: efficient per impression "
            "and per unit of spend.",
        )
        if view.in_revenue
        else None,
        chart_card(
            "Every metric per channel",
            grid(
                "roi-grid",
                in_cost_scale(channel_metrics(a), a.cost_scale),
                column_defs(info, a.cost_scale, view.in_kpi),
            ),
            note=f"Sort and filter any column; posterior means unless marked as {LEVEL} interval ends. Every "
            "metric, with medians, is in the Metrics downloads.",
        ),
        over_time.card(
            "roi",
            f"{over_time.metric_label(info, efficiency)} by quarter or month",
            f"{over_time.scope_note(view)} "
            + ("Dashed line: ROI = 1 (break-even)." if view.in_revenue else "Lower is better."),
        ),
    ]


def layout(model=None, period=None, geo=None, version=None, units=None, **_):
    view = resolve(model, period, geo, version, units or "")
    return content(view) if isinstance(view, View) else view


@callback(
    Output("roi-over-time", "children"),
    Input("roi-over-time-bucket", "value"),
    State("roi-view", "data"),
)
def show_over_time(bucket, selected):
    """Fills the over-time card when the page arrives and when the quarter/month toggle changes."""
    view = stored_view(selected)
    reference = 1.0 if view.in_revenue else None
    return over_time.memoized_parts(__name__, "roi", view, bucket, "efficiency", reference)
