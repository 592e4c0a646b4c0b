"""Response curves: diminishing returns per channel, the saturation point, Hill and adstock."""

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from mmm_dash.core.figures import curves as curve_figs
from mmm_dash.core.formatting import LEVEL, compact, ratio
from mmm_dash.core.insights import BREAK_EVEN_MROI, break_even_multiplier
from mmm_dash.web.dashboard.components import chart_card, graph, page_header
from mmm_dash.web.dashboard.context import View, frame, resolve, stored_view
from mmm_dash.web.memo import cached

dash.register_page(
    __name__, path="/response-curves", name="Response curves", title="Response curves · mmm-dash", order=3
)

SATURATION_DEFINITION = (
    f"Saturation point: the spend at which the posterior-mean curve's marginal return (extra outcome per extra "
    f"unit of spend) falls below {BREAK_EVEN_MROI:g}, i.e. where the next unit of spend returns less than it costs."
)


def headroom(hist: float, sat: float | None) -> str:
    if sat is None:
        return "more than 2x current spend"
    gap = hist * sat - hist
    return f"{compact(gap)} more" if gap >= 0 else f"already {compact(-gap)} past it"


def efficiency(view: View, channel: str):
    a, info = view.analysis, view.info
    row = a.channel_table().loc[channel]
    sat = break_even_multiplier(a, channel)
    hist = float(row.spend)
    items = [
        ("Current spend", compact(hist)),
        (info.roi_label, f"{ratio(row.roi_mean)} ({ratio(row.roi_ci_lo)}–{ratio(row.roi_ci_hi)})"),
        ("mROI at current spend", f"{ratio(row.mroi_mean)} ({ratio(row.mroi_ci_lo)}–{ratio(row.mroi_ci_hi)})"),
        ("Saturation point", "beyond 2x current spend" if sat is None else f"{compact(hist * sat)} ({sat:.2f}x)"),
        ("Headroom to saturation", headroom(hist, sat)),
    ]
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
                curve_figs.response_curve(a.curves, channel, info.outcome_label, break_even_multiplier(a, channel)),
            ),
            note=f"Band: {LEVEL} credible interval. Marker: current spend. " + SATURATION_DEFINITION,
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
                note="ROI by average weekly frequency at current spend.",
            )
        )
    return panels


def content(view: View, channel: str | None = None):
    channels = list(view.info.paid_channels)
    channel = channel if channel in channels else channels[0]
    picker = dcc.Dropdown(
        id="curve-channel", options=channels, value=channel, clearable=False, style={"minWidth": "14rem"}
    )
    return frame(
        view,
        page_header(
            "Response curves",
            f"Incremental {view.info.outcome_label} as spend changes · {view.analysis.period.label}",
            right=picker,
        ),
        dcc.Store(id="curves-view", data=view.keys()),
        html.Div(memo_panels(view, channel), id="curve-panels"),
        cached(view, f"{__name__}.all-channels", lambda: all_channels(view)),
    )


def all_channels(view: View):
    return chart_card(
        "All channels",
        graph("curves-multiples", curve_figs.small_multiples(view.analysis.curves, view.info.outcome_label)),
        note="Same scale per panel; dot: current spend.",
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
