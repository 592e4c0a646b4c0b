"""ROI: return per channel with intervals, efficiency vs scale, and every metric in one table."""

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc

from mmm_dash.core.figures import charts
from mmm_dash.core.formatting import LEVEL
from mmm_dash.core.over_time import efficiency_metric
from mmm_dash.core.tables import channel_metrics
from mmm_dash.web.dashboard import over_time
from mmm_dash.web.dashboard.components import chart_card, download_buttons, graph, grid, number_col, page_header
from mmm_dash.web.dashboard.context import View, frame, resolve, stored_view
from mmm_dash.web.memo import cached

dash.register_page(__name__, path="/roi", name="ROI", title="ROI · mmm-dash", order=2)


def column_defs(info):
    ci = {"hide": False}
    return [
        {
            "field": "channel",
            "headerName": "Channel",
            "pinned": "left",
            "filter": "agTextColumnFilter",
            "minWidth": 140,
        },
        number_col("spend", "Spend", ",.0f"),
        number_col("pct_of_spend", "% spend", ".1f"),
        number_col("incremental_outcome_mean", f"Incr. {info.outcome_label}", ",.0f"),
        number_col("incremental_outcome_ci_lo", "Incr. 5%", ",.0f", **ci),
        number_col("incremental_outcome_ci_hi", "Incr. 95%", ",.0f", **ci),
        number_col("pct_of_contribution_mean", "% contribution", ".2f"),
        number_col("roi_mean", info.roi_label, ".2f"),
        number_col("roi_median", f"{info.roi_label} median", ".2f"),
        number_col("roi_ci_lo", f"{info.roi_label} 5%", ".2f"),
        number_col("roi_ci_hi", f"{info.roi_label} 95%", ".2f"),
        number_col("mroi_mean", "mROI", ".2f"),
        number_col("mroi_ci_lo", "mROI 5%", ".2f"),
        number_col("mroi_ci_hi", "mROI 95%", ".2f"),
        number_col("effectiveness_mean", "Effectiveness", ".3~g"),
        number_col("cpik_mean", "CPIK", ",.2f"),
        number_col("cpik_ci_lo", "CPIK 5%", ",.2f"),
        number_col("cpik_ci_hi", "CPIK 95%", ",.2f"),
        number_col("impressions", "Impressions", ",.0f"),
    ]


def content(view: View):
    return frame(view, *cached(view, __name__, lambda: body(view)))


def body(view: View) -> list:
    """Everything below the controls: the same on every visit to this model and period."""
    info, a = view.info, view.analysis
    table = a.channel_table()
    exports = download_buttons(
        view.model, view.period_key, which=("metrics.csv", "metrics.json", "report.html"), id_prefix="roi-download"
    )
    return [
        page_header(
            "Return on investment",
            f"Per paid channel · {a.period.label} · intervals are {LEVEL} credible",
            right=exports,
        ),
        dcc.Store(id="roi-view", data=view.keys()),
        dbc.Row(
            [
                dbc.Col(
                    chart_card(
                        info.roi_label,
                        graph(
                            "roi-chart",
                            charts.metric_bars(
                                table, "roi", info.roi_label, reference=1.0 if info.has_revenue else None
                            ),
                        ),
                        note=f"{info.roi_label}: incremental {info.outcome_label} per unit of spend.",
                    ),
                    lg=4,
                ),
                dbc.Col(
                    chart_card(
                        "Marginal ROI",
                        graph(
                            "mroi-chart",
                            charts.metric_bars(table, "mroi", "mROI", reference=1.0 if info.has_revenue else None),
                        ),
                        note="Return on the next unit of spend at current levels; below 1, extra spend loses money.",
                    ),
                    lg=4,
                ),
                dbc.Col(
                    chart_card(
                        "Cost per incremental KPI",
                        graph("cpik-chart", charts.metric_bars(table, "cpik", "CPIK")),
                        note=f"Spend per incremental {info.kpi_name}; lower is better.",
                    ),
                    lg=4,
                ),
            ]
        ),
        chart_card(
            f"{info.roi_label} vs effectiveness",
            graph("roi-bubble", charts.roi_bubble(table, info.roi_label)),
            note="Bubble size: spend. Top right: efficient per impression and per unit of spend.",
        ),
        chart_card(
            "Every metric per channel",
            grid("roi-grid", channel_metrics(a), column_defs(info)),
            note=f"Sort and filter any column; mean unless marked 5%/95% (the {LEVEL} interval).",
        ),
        over_time.card(
            "roi",
            f"{over_time.metric_label(info, efficiency_metric(info))} by quarter or month",
            f"{over_time.scope_note(view)} "
            + ("Dashed line: ROI = 1 (break-even)." if info.has_revenue else "Lower is better."),
        ),
    ]


def layout(model=None, period=None, geo=None, version=None, **_):
    view = resolve(model, period, geo, version)
    return content(view) if isinstance(view, View) else view


@callback(
    Output("roi-over-time", "children"),
    Input("roi-over-time-bucket", "value"),
    State("roi-view", "data"),
)
def show_over_time(bucket, selected):
    """Fills the over-time card when the page arrives and when the quarter/month toggle changes."""
    view = stored_view(selected)
    reference = 1.0 if view.info.has_revenue else None
    return over_time.memoized_parts(__name__, "roi", view, bucket, "efficiency", reference)
