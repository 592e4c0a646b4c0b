"""Insights: what to do, each with its numbers and the probability behind it."""

import dash
import dash_bootstrap_components as dbc
from dash import html

from mmm_dash.core.insights import build_insights
from mmm_dash.web.dashboard.components import download_buttons, page_header
from mmm_dash.web.dashboard.context import View, frame, resolve
from mmm_dash.web.memo import cached

dash.register_page(__name__, path="/insights", name="Insights", title="Insights · mmm-dash", order=5)

KIND_LABEL = {
    "opportunity": ("Opportunity", "success"),
    "warning": ("Warning", "warning"),
    "reallocation": ("Reallocation", "primary"),
    "caution": ("Too uncertain", "secondary"),
    "info": ("Summary", "info"),
}


def insight_card(insight, n: int):
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
            ]
        ),
        className=f"insight-card kind-{insight.kind} mb-2 shadow-sm",
        id=f"insight-{n}",
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
    )
    return [
        page_header(
            "Insights",
            f"{len(insights)} findings · {view.analysis.period.label} · rules on posterior "
            "quantities; probabilities are posterior probabilities",
            right=exports,
        ),
        html.Div([insight_card(i, n) for n, i in enumerate(insights)], id="insight-list"),
    ]


def layout(model=None, period=None, geo=None, version=None, **_):
    view = resolve(model, period, geo, version)
    return content(view) if isinstance(view, View) else view
