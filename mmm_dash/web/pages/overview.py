"""Overview: headline numbers with intervals, fit over time, one verdict per channel, the portfolio
findings and Meridian's health review."""

import dash
import dash_bootstrap_components as dbc
from dash import html

from mmm_dash.core.figures.charts import expected_vs_actual
from mmm_dash.core.formatting import LEVEL
from mmm_dash.core.headline import headline_numbers
from mmm_dash.core.insights import build_insights
from mmm_dash.web.dashboard.components import chart_card, graph, metric_card, page_header
from mmm_dash.web.dashboard.context import View, frame, resolve
from mmm_dash.web.dashboard.findings import health_card, verdict_card
from mmm_dash.web.memo import cached

dash.register_page(__name__, path="/", name="Overview", title="Overview · mmm-dash", order=0)


def insight_item(insight, idx: int):
    return dbc.Card(
        dbc.CardBody([html.Div(insight.title, className="fw-semibold"), html.Div(insight.text, className="small")]),
        className=f"insight-card kind-{insight.kind} mb-2",
        id=f"top-insight-{idx}",
    )


def content(view: View):
    return frame(view, *cached(view, __name__, lambda: body(view)))


def body(view: View) -> list:
    """Everything below the controls: the same on every visit to this model and period."""
    info, a = view.info, view.analysis
    cards = dbc.Row(
        [
            dbc.Col(metric_card(h.label, h.value, h.detail, h.card_id), md=3)
            for h in headline_numbers(info, a, view.in_kpi)
        ],
        className="g-3 mb-3",
    )
    fit = a.fit
    findings = build_insights(view.bundle, a)
    portfolio = [i for i in findings if not i.action and i.kind != "trust"]
    verdicts = [i for i in findings if i.action]
    return [
        page_header(
            "Overview",
            f"{info.name} · {a.period.label} · {info.kpi_description}, {info.geography_label}",
        ),
        cards,
        dbc.Row(
            [
                dbc.Col(
                    chart_card(
                        "Expected vs actual",
                        graph("overview-fit", expected_vs_actual(a.series, info.outcome_label)),
                        note=f"R² {fit['r_squared']:.3f} · MAPE {fit['mape']:.1%} · wMAPE {fit['wmape']:.1%} "
                        f"(national, {a.period.label}); band: {LEVEL} credible interval of the expected outcome.",
                    ),
                    lg=8,
                ),
                dbc.Col(
                    chart_card(
                        "Top insights",
                        [
                            *[insight_item(i, n) for n, i in enumerate(portfolio)],
                            html.A(
                                "All insights →",
                                href="/insights" + view.query(),
                                id="all-insights-link",
                            ),
                        ],
                    ),
                    lg=4,
                ),
            ]
        ),
        dbc.Row(
            [
                dbc.Col(
                    chart_card(
                        "One verdict per channel",
                        html.Div([verdict_card(view, v, compact_text=True) for v in verdicts], id="verdict-list"),
                        note="Uncertain channels first. Each verdict weighs the channel's interval, its ROI and "
                        "marginal ROI, and the planner's reallocation of the same budget, so no two contradict.",
                    ),
                    lg=7,
                ),
                dbc.Col(health_card(view.bundle.health), lg=5),
            ]
        ),
    ]


def layout(model=None, period=None, geo=None, version=None, units=None, **_):
    view = resolve(model, period, geo, version, units or "")
    return content(view) if isinstance(view, View) else view
