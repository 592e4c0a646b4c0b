"""Response curves: diminishing returns per channel, the break-even point (mROI = 1), Hill and adstock,
and for reach & frequency channels why their curve is straight and where frequency saturates."""

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from mmm_dash.core.figures import curves as curve_figs
from mmm_dash.core.formatting import LEVEL, cost_interval, money, ratio
from mmm_dash.core.insights import BREAK_EVEN_MROI, break_even_multiplier
from mmm_dash.web.dashboard.components import chart_card, graph, page_header
from mmm_dash.web.dashboard.context import View, frame, resolve, stored_view
from mmm_dash.web.memo import cached, plain_div

dash.register_page(
    __name__, path="/response-curves", name="Response curves", title="Response curves · mmm-dash", order=3
)

BREAK_EVEN_DEFINITION = (
    f"Break-even (mROI = {BREAK_EVEN_MROI:g}): the spend at which the posterior-mean curve's marginal return (extra "
    "outcome per extra unit of spend) falls below 1, i.e. where the next unit of spend starts to return less than "
    "it costs. It is not where the curve flattens: past break-even spend still adds outcome, just less than it costs."
)
RF_NOTE = (
    "{channel} is a reach & frequency channel. Meridian models its effect as reach times a saturating function of "
    "frequency, and its response curve scales reach at today's average frequency: that is why the curve is a "
    "straight line and its mROI equals its ROI. Its diminishing returns are in frequency (the chart below)."
)


def break_even_gap(hist: float, multiplier: float | None) -> str:
    if multiplier is None:
        return "not reached within 2× current spend"
    gap = hist * multiplier - hist
    return f"{money(gap)} more spend" if gap >= 0 else f"current spend is {money(-gap)} past it"


def efficiency(view: View, channel: str):
    a, info = view.analysis, view.info
    row = a.channel_table().loc[channel]
    hist = float(row.spend)
    items = [("Current spend", money(hist))]
    if info.has_revenue:
        point = break_even_multiplier(a, channel)
        items += [
            ("ROI", f"{ratio(row.roi_mean)} ({ratio(row.roi_ci_lo)}–{ratio(row.roi_ci_hi)})"),
            ("mROI at current spend", f"{ratio(row.mroi_mean)} ({ratio(row.mroi_ci_lo)}–{ratio(row.mroi_ci_hi)})"),
            (
                "Break-even (mROI = 1)",
                "beyond 2× current spend" if point is None else f"{money(hist * point)} ({point:.2f}× spend)",
            ),
            ("Until break-even", break_even_gap(hist, point)),
        ]
    else:  # no revenue: a break-even at mROI = 1 would compare KPI units with money; costs speak instead
        items.append(
            (
                f"Cost per incremental {info.kpi_name}",
                cost_interval(row.cpik_mean, row.cpik_ci_lo, row.cpik_ci_hi, info.kpi_name, a.cost_scale),
            )
        )
    return dbc.Row(
        [
            dbc.Col(
                [html.Div(k, className="small text-secondary"), html.Div(v, className="fw-semibold")],
                md=True,
                id=f"efficiency-{n}",
            )
            for n, (k, v) in enumerate(items)
        ],
        className="g-2",
    )


def channel_panels(view: View, channel: str):
    a, info, b = view.analysis, view.info, view.bundle
    panels = [
        chart_card(
            f"{channel}: response curve",
            graph(
                "curve-chart",
                curve_figs.response_curve(
                    a.curves,
                    channel,
                    info.outcome_label,
                    break_even_multiplier(a, channel) if info.has_revenue and channel not in info.rf_channels else None,
                ),
            ),
            note=f"Band: {LEVEL} credible interval. Marker: current spend. "
            + (BREAK_EVEN_DEFINITION if info.has_revenue else "")
            + curve_window_note(view),
        ),
        *(
            [dbc.Alert(RF_NOTE.format(channel=channel), color="info", className="py-2 small", id="rf-note")]
            if channel in info.rf_channels
            else []
        ),
        chart_card("Efficiency at current spend", efficiency(view, channel)),
        dbc.Row(
            [
                dbc.Col(
                    chart_card(
                        "Hill saturation",
                        graph("hill-chart", curve_figs.hill_curve(b.hill_curves, channel)),
                        note="Share of maximum effect reached at each media level (posterior vs prior).",
                    ),
                    lg=6,
                ),
                dbc.Col(
                    chart_card(
                        "Adstock decay",
                        graph("adstock-chart", curve_figs.adstock_curve(b.adstock_decay, channel)),
                        note="How much of a week's effect carries over into following weeks.",
                    ),
                    lg=6,
                ),
            ]
        ),
    ]
    if channel in info.rf_channels:
        panels.append(
            chart_card(
                "Optimal frequency",
                graph("frequency-chart", curve_figs.frequency_curve(a.optimal_frequency, channel, info.roi_label)),
                note=f"{info.roi_label} at each average weekly frequency with today's spend and reach times "
                f"frequency, with its {LEVEL} interval (Meridian's optimal_freq); dotted: today's average frequency.",
            )
        )
    return panels


def content(view: View, channel: str | None = None):
    channels = list(view.info.paid_channels)
    channel = channel if channel in channels else channels[0]
    return frame(
        view,
        *cached(view, f"{__name__}.header", lambda: header(view, channel), channel),
        plain_div(memo_panels(view, channel), id="curve-panels"),
        cached(view, f"{__name__}.all-channels", lambda: all_channels(view)),
    )


def header(view: View, channel: str) -> list:
    picker = dcc.Dropdown(
        id="curve-channel",
        options=list(view.info.paid_channels),
        value=channel,
        clearable=False,
        style={"minWidth": "14rem"},
    )
    return [
        page_header(
            "Response curves",
            f"Incremental {view.info.outcome_label} as spend changes · {view.analysis.period.label}",
            right=picker,
        ),
        dcc.Store(id="curves-view", data=view.keys()),
    ]


def all_channels(view: View):
    return chart_card(
        "All channels",
        graph("curves-multiples", curve_figs.small_multiples(view.analysis.curves, view.info.outcome_label)),
        note="Each panel has its own scale (spend and outcome differ by channel); dot: current spend."
        + curve_window_note(view),
    )


def curve_window_note(view: View) -> str:
    """Says whose curves these are when they are not the view's own window and geo."""
    a = view.analysis
    if a.curves_period is None or (a.curves_period.key == a.period.key and view.geo is None):
        return ""
    return (
        f" Curves of {a.curves_period.label}, all geos: curves are kept for the preset periods, for all geos together."
    )


def memo_panels(view: View, channel: str):
    """One channel's panels, built once per model, period and channel (page load and picker share them)."""
    return cached(view, f"{__name__}.panels", lambda: channel_panels(view, channel), channel)


def layout(model=None, period=None, geo=None, version=None, channel=None, **_):
    view = resolve(model, period, geo, version)
    return content(view, channel) if isinstance(view, View) else view


@callback(
    Output("curve-panels", "children"),
    Input("curve-channel", "value"),
    State("curves-view", "data"),
    prevent_initial_call=True,
)
def pick_channel(channel, selected):
    view = stored_view(selected)
    return memo_panels(view, channel)
