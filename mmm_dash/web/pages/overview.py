"""Overview: headline numbers with intervals, fit over time, one verdict per channel, the portfolio
findings and Meridian's health review."""

import dash
import dash_bootstrap_components as dbc
from dash import html

from mmm_dash.core import formatting
from mmm_dash.core.figures.charts import expected_vs_actual
from mmm_dash.core.formatting import CI, LEVEL, interval, money, outcome, pct, ratio
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
    total = a.total()
    media_share = (
        f"{pct(total.pct_of_contribution_mean)}",
        f"{CI} {interval(total.pct_of_contribution_ci_lo, total.pct_of_contribution_ci_hi, pct)}",
    )

    def amount(x):
        return outcome(x, view.in_revenue)

    inc = view.outcome_metric  # incremental_kpi when the page speaks in the KPI of a revenue model
    if view.in_revenue:
        efficiency = metric_card(
            "Blended ROI", ratio(total.roi_mean), f"{CI} " + interval(total.roi_ci_lo, total.roi_ci_hi), "card-roi"
        )
    else:  # a KPI without revenue: what a unit of it costs, never a ratio in KPI per unit of money
        scale = a.cost_scale
        per = f"per 1,000 incremental {info.kpi_name}" if scale > 1 else f"per incremental {info.kpi_name}"
        efficiency = metric_card(
            f"Cost {per}",
            money(total.cpik_mean * scale),
            f"{CI} {money(total.cpik_ci_lo * scale)}–{money(total.cpik_ci_hi * scale)}",
            "card-roi",
        )
    cards = dbc.Row(
        [
            dbc.Col(
                metric_card(
                    f"Total paid spend ({formatting.CURRENCY.code})",
                    money(total.spend),
                    f"{len(info.paid_channels)} paid channels",
                    "card-spend",
                ),
                md=3,
            ),
            dbc.Col(
                metric_card(
                    f"Incremental {view.outcome_label}" + (f" ({formatting.CURRENCY.code})" if view.in_revenue else ""),
                    amount(total[f"{inc}_mean"]),
                    f"{CI} " + interval(total[f"{inc}_ci_lo"], total[f"{inc}_ci_hi"], amount),
                    "card-outcome",
                ),
                md=3,
            ),
            dbc.Col(efficiency, md=3),
            dbc.Col(metric_card(f"Share of {info.outcome_label} from media", *media_share, card_id="card-share"), md=3),
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
