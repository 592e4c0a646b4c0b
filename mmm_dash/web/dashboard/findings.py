"""What pages say about the model and its channels: the trust banner (every page), Meridian's
health review and the one verdict per channel, with links that open the planner on a verdict's move."""

from __future__ import annotations

import re

import dash_bootstrap_components as dbc
from dash import html

from mmm_dash.core.health import CheckStatus, HealthReview
from mmm_dash.core.insights import ACTION_LABELS, Insight
from mmm_dash.core.trust import NOT_MEANINGFUL, Trust, TrustLevel, assess_trust

TRUST_COLORS = {TrustLevel.HIGH: "success", TrustLevel.CAUTION: "warning", TrustLevel.LOW: "danger"}
TRUST_LABELS = {
    TrustLevel.HIGH: "Trustworthy",
    TrustLevel.CAUTION: "Read with care",
    TrustLevel.LOW: "Not trustworthy yet",
}
STATUS_COLORS = {CheckStatus.PASS: "success", CheckStatus.REVIEW: "warning", CheckStatus.FAIL: "danger"}
ACTION_COLORS = {
    "test": "secondary",
    "cut": "danger",
    "shift-out": "warning",
    "shift-in": "success",
    "grow": "success",
    "hold-trim": "warning",
    "hold": "light",
}


def slug(text: str) -> str:
    """A component id part from a channel name (model files may use any characters)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "x"


def trust_banner(view, trust: Trust | None = None):
    """On every page, under the controls: how far this view's numbers can be trusted, and what to fix."""
    trust = trust or assess_trust(view.bundle, view.analysis)
    diagnostics = html.A("Diagnostics", href="/diagnostics" + view.query(), className="alert-link")
    label = html.Strong(f"{TRUST_LABELS[trust.level]} (trust: {trust.level.value}): ", className="me-1")
    if trust.level is TrustLevel.HIGH:
        return dbc.Alert(
            [label, trust.verdict_reason, " Details on ", diagnostics, "."],
            color="success",
            className="py-1 px-3 small trust-banner mb-3",
            id="trust-banner",
        )
    reasons = html.Ul([html.Li([r.what, ". ", html.Em(r.fix)]) for r in trust.reasons], className="mb-1 mt-1")
    return dbc.Alert(
        [
            html.Div([label, trust.verdict_reason], id="trust-verdict"),
            html.Div(trust.headline + ".", className="small"),
            html.Details([html.Summary(f"Why, and what to fix ({len(trust.reasons)})"), reasons], className="mt-1"),
            html.Div(
                ["The numbers below are what the model says; check them on ", diagnostics, "."], className="small"
            ),
        ],
        color=TRUST_COLORS[trust.level],
        className="py-2 trust-banner mb-3",
        id="trust-banner",
    )


def health_rows(health: HealthReview, with_details: bool = False) -> list:
    rows = []
    for check in health.checks:
        advice = [html.Div(check.message, className="small")]
        if check.recommendation:
            advice.append(html.Div(check.recommendation, className="small text-secondary"))
        if with_details and check.channels:
            advice.append(
                html.Div(
                    "Channels: " + ", ".join(f"{c.channel} ({c.status.label.lower()})" for c in check.channels),
                    className="small text-secondary",
                )
            )
        rows.append(
            html.Tr(
                [
                    html.Td(check.name, className="small fw-semibold"),
                    html.Td(dbc.Badge(check.status.label, color=STATUS_COLORS[check.status])),
                    html.Td(advice),
                ],
                id=f"health-{check.key}",
            )
        )
    return rows


def health_card(health: HealthReview | None, with_details: bool = False, card_id: str = "health-card"):
    """Meridian's ModelReviewer: the overall verdict, then each check with its numbers and advice."""
    if health is None:
        return dbc.Card(dbc.CardBody("This bundle has no health review; rebuild it."), id=card_id)
    header = html.Div(
        [
            html.Span("Meridian's own review (ModelReviewer)"),
            html.Span(
                [
                    dbc.Badge(health.status.label, color=STATUS_COLORS[health.status], className="me-2"),
                    html.Span(f"score {health.score:.0f}/100", className="small text-secondary"),
                ]
            ),
        ],
        className="d-flex justify-content-between align-items-center",
    )
    body = [
        html.Div(health.summary, className="small mb-1"),
        html.Div(
            "Meridian's verdict on its own checks. The trust banner combines it with fit on this window and "
            "effective sample size, which Meridian's review does not judge.",
            className="small text-secondary mb-2",
        ),
        dbc.Table(html.Tbody(health_rows(health, with_details)), size="sm", className="mb-0 health-table"),
    ]
    if health.skipped:
        body.append(html.Div(f"Not run for this model: {', '.join(health.skipped)}.", className="small-note mt-1"))
    return dbc.Card([dbc.CardHeader(header), dbc.CardBody(body)], className="chart-card shadow-sm mb-3", id=card_id)


def planner_href(view, planned: tuple[float, ...] | None) -> str | None:
    """The Scenarios page opened on `planned` spend (as multiples of each channel's spend)."""
    if planned is None:
        return None
    hist = view.analysis.curves.historical_spend
    multiples = ",".join(f"{p / h:.4f}" if h > 0 else "0" for p, h in zip(planned, hist, strict=True))
    return "/scenarios" + view.query() + ("&" if view.query() else "?") + f"plan={multiples}"


def planner_link(view, insight: Insight, text: str, link_id: str):
    """'Open in the planner' on an insight's move; when the sampler did not converge, a greyed note in
    its place (the insight then carries no move: `Trust.probabilities_meaningful`)."""
    href = planner_href(view, insight.planned_spend)
    if href:
        return html.A(text, href=href, className="small", id=link_id)
    if insight.move_withheld:
        return html.Span(f"No planner move: {NOT_MEANINGFUL}.", className="small text-secondary", id=link_id)
    return None


def verdict_card(view, verdict: Insight, compact_text: bool = False):
    link = planner_link(view, verdict, "Open in the planner with this move →", f"plan-{slug(verdict.channel)}")
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        html.Span(verdict.channel, className="fw-semibold me-2"),
                        dbc.Badge(
                            ACTION_LABELS[verdict.action],
                            color=ACTION_COLORS[verdict.action],
                            text_color="dark" if verdict.action == "hold" else None,
                        ),
                        dbc.Badge("provisional", color="danger", className="ms-1")
                        if verdict.title.endswith("(provisional)")
                        else None,
                    ],
                    className="mb-1 d-flex align-items-center flex-wrap",
                ),
                html.Div(verdict.text, className="small" if compact_text else "insight-text"),
                link,
            ]
        ),
        className=f"insight-card verdict-card kind-{verdict.kind} mb-2 shadow-sm",
        id=f"verdict-{slug(verdict.channel)}",
    )
