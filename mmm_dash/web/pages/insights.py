"""Insights: what to fix first (when the model is not trustworthy), the portfolio and the reallocation
of the same budget, then one verdict per channel (uncertain first), each with its numbers and the
probability behind it and a link that opens the planner on its move."""

import dash
import dash_bootstrap_components as dbc
from dash import html

from mmm_dash.core.insights import build_insights
from mmm_dash.web.dashboard.components import download_buttons, page_header
from mmm_dash.web.dashboard.context import View, frame, resolve
from mmm_dash.web.dashboard.findings import planner_link, verdict_card
from mmm_dash.web.memo import cached

dash.register_page(__name__, path="/insights", name="Insights", title="Insights · mmm-dash", order=5)

KIND_LABEL = {
    "trust": ("Before acting", "danger"),
    "reallocation": ("Reallocation", "primary"),
    "info": ("Summary", "info"),
}


def insight_card(view: View, insight, n: int):
    label, color = KIND_LABEL.get(insight.kind, (insight.kind, "secondary"))
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        dbc.Badge(label, color=color, className="me-2"),
                        html.Span(insight.title, className="fw-semibold"),
                    ],
                    className="mb-1",
                ),
                html.Div(insight.text, className="insight-text"),
                planner_link(view, insight, "Open in the planner with these moves →", "plan-reallocation"),
            ]
        ),
        className=f"insight-card kind-{insight.kind} mb-2 shadow-sm",
        id=f"insight-{insight.id}",
    )


def content(view: View):
    return frame(view, *cached(view, __name__, lambda: body(view)))


def body(view: View) -> list:
    """Everything below the controls: the same on every visit to this model and period."""
    insights = build_insights(view.bundle, view.analysis)
    exports = download_buttons(
        view.model,
        view.period_key,
        which=("insights.json", "insights.csv", "insights.txt", "report.html"),
        id_prefix="insights-download",
        version=view.pinned_version,
        geo=view.geo,
    )
    overall = [i for i in insights if not i.action]
    verdicts = [i for i in insights if i.action]
    return [
        page_header(
            "Insights",
            f"{len(insights)} findings · {view.analysis.period.label} · rules on posterior "
            "quantities; probabilities are posterior probabilities",
            right=exports,
        ),
        html.Div(
            [
                *[insight_card(view, i, n) for n, i in enumerate(overall)],
                html.H2("Per channel: one verdict each, uncertain first", className="h6 mt-3 mb-2"),
                *[verdict_card(view, v) for v in verdicts],
            ],
            id="insight-list",
        ),
    ]


def layout(model=None, period=None, geo=None, version=None, **_):
    view = resolve(model, period, geo, version)
    return content(view) if isinstance(view, View) else view
