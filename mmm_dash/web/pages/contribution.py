"""Contribution: what each channel added (paid, organic and non-media, as Meridian reports them beside
the baseline), with intervals, over time, and how it compares to its spend.

One definition of contribution share everywhere: Meridian's pct_of_contribution, the share of the
whole outcome (baseline included). The spend comparison uses the share of paid media's incremental
outcome instead, and is named so."""

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from mmm_dash.core.figures import charts
from mmm_dash.core.formatting import LEVEL
from mmm_dash.core.tables import in_units
from mmm_dash.web.dashboard import over_time
from mmm_dash.web.dashboard.components import chart_card, graph, page_header
from mmm_dash.web.dashboard.context import View, frame, resolve, stored_view
from mmm_dash.web.memo import cached

dash.register_page(__name__, path="/contribution", name="Contribution", title="Contribution · mmm-dash", order=1)


def content(view: View):
    return frame(view, *cached(view, __name__, lambda: body(view)))


def body(view: View) -> list:
    """Everything below the controls: the same on every visit to this model and period."""
    info, a = view.info, view.analysis
    table, non_paid, baseline, label = in_view_units(view)
    revenue_note = f" In revenue: the model keeps weekly results in its outcome, not in {label}." if view.in_kpi else ""
    toggle = dbc.RadioItems(
        id="contribution-chart-type",
        options=[{"label": "Bar", "value": "bar"}, {"label": "Pie", "value": "pie"}],
        value="bar",
        inline=True,
        className="small",
    )
    return [
        page_header(
            "Contribution",
            f"Incremental {label} by channel · {a.period.label}"
            + (" · organic and non-media channels hatched" if info.non_paid_channels else ""),
        ),
        dcc.Store(id="contribution-view", data=view.keys()),
        dbc.Row(
            [
                dbc.Col(
                    chart_card(
                        "Incremental outcome by channel",
                        [
                            graph("contribution-chart", charts.contribution_bars(table, label, non_paid)),
                            html.Div(chart_note("bar"), id="contribution-chart-note", className="small-note mt-2"),
                        ],
                        header_right=toggle,
                    ),
                    lg=6,
                ),
                dbc.Col(
                    chart_card(
                        "From baseline to total",
                        graph(
                            "contribution-waterfall",
                            charts.waterfall(baseline, table, label, non_paid),
                        ),
                        note="Posterior means: the baseline (no media and no treatments) plus each channel's "
                        "incremental outcome, paid, organic and non-media, adds up to the expected outcome.",
                    ),
                    lg=6,
                ),
            ]
        ),
        chart_card(
            "Contribution over time",
            graph(
                "contribution-time",
                charts.contribution_over_time(a.contribution_series, info.outcome_label),
            ),
            note="Posterior mean incremental outcome per week, stacked (organic and non-media channels too)."
            + revenue_note,
        ),
        over_time.card(
            "contribution",
            f"Incremental {label} by quarter or month",
            f"{over_time.scope_note(view)} The table adds spend, contribution share and "
            f"{'ROI' if view.in_revenue else 'cost per KPI'} with intervals, and the paid total per bucket.",
        ),
        chart_card(
            "Share of paid spend vs share of paid media's incremental outcome",
            graph("contribution-share", charts.spend_vs_contribution(table)),
            note="Both shares are of the paid total. A channel whose outcome share exceeds its spend share "
            "returns more per unit of spend than paid media on average.",
        ),
    ]


def in_view_units(view: View):
    """The channel and non-paid tables, the baseline and the label in the page's units: revenue (or a KPI-only
    model's KPI), or the KPI of a revenue model when units=kpi (the tables' incremental_kpi columns)."""
    a, metric = view.analysis, view.outcome_metric
    table, non_paid = in_units(a.channel_table(), metric), in_units(a.non_paid, metric)
    return table, non_paid, a.baseline[f"{metric}_mean"], view.outcome_label


def layout(model=None, period=None, geo=None, version=None, units=None, **_):
    view = resolve(model, period, geo, version, units or "")
    return content(view) if isinstance(view, View) else view


def chart_note(kind: str) -> str:
    if kind == "pie":
        return "Shares of the posterior means, baseline included; a pie cannot show intervals (switch to Bar)."
    return f"Error bars: {LEVEL} credible interval. Hatched: organic and non-media channels (no spend)."


@callback(
    Output("contribution-chart", "figure"),
    Input("contribution-chart-type", "value"),
    State("contribution-view", "data"),
    prevent_initial_call=True,
)
def switch_chart(kind, selected):
    view = stored_view(selected)
    kind = "pie" if kind == "pie" else "bar"
    return cached(view, f"{__name__}.chart", lambda: contribution_chart(view, kind), kind)


@callback(
    Output("contribution-chart-note", "children"),
    Input("contribution-chart-type", "value"),
    prevent_initial_call=True,
)
def switch_note(kind):
    """The note under the chart says what it shows: intervals for bars, none for the pie."""
    return chart_note("pie" if kind == "pie" else "bar")


def contribution_chart(view: View, kind: str):
    table, non_paid, baseline, label = in_view_units(view)
    if kind == "pie":
        return charts.contribution_pie(table, baseline, non_paid)
    return charts.contribution_bars(table, label, non_paid)


@callback(
    Output("contribution-over-time", "children"),
    Input("contribution-over-time-bucket", "value"),
    State("contribution-view", "data"),
)
def show_over_time(bucket, selected):
    """Fills the over-time card when the page arrives and when the quarter/month toggle changes."""
    view = stored_view(selected)
    return over_time.memoized_parts(__name__, "contribution", view, bucket, "incremental_outcome")
