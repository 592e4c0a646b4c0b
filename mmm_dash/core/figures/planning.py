"""Charts of the planner's comparisons: scenarios side by side, and the incremental budget ladder."""

from __future__ import annotations

from mmm_dash.core.budget_search import BudgetLadder
from mmm_dash.core.comparison import PairedComparison
from mmm_dash.core.figures.plain import Figure, bar, scatter
from mmm_dash.core.figures.theme import PALETTE, base_figure, channel_colors, empty_figure
from mmm_dash.core.formatting import CI

ERROR_BAR = {"type": "data", "symmetric": False, "color": "#495057", "thickness": 1.2}


def _errors(mean, lo, hi) -> dict:
    return {
        **ERROR_BAR,
        "array": [h - m for m, h in zip(mean, hi, strict=True)],
        "arrayminus": [m - lo_ for m, lo_ in zip(mean, lo, strict=True)],
    }


def comparison_chart(comparison: PairedComparison, outcome_label: str) -> Figure:
    """Paired bars: each channel's incremental outcome per scenario (grouped), then the totals, each
    with its credible interval as error bars."""
    fig = base_figure(380, yaxis_title=f"Incremental {outcome_label}", barmode="group")
    x = [*comparison.channels, "Total"]
    for k, s in enumerate(comparison.scenarios):
        mean = [*map(float, s.channel_mean), s.total.mean]
        lo = [*map(float, s.channel_ci_lo), s.total.ci_lo]
        hi = [*map(float, s.channel_ci_hi), s.total.ci_hi]
        fig.add_trace(
            bar(
                x=x,
                y=mean,
                name=s.name,
                marker={"color": PALETTE[k % len(PALETTE)]},
                error_y=_errors(mean, lo, hi),
                customdata=[[a, b] for a, b in zip(lo, hi, strict=True)],
                hovertemplate=f"{s.name}<br>%{{x}}: %{{y:,.0f}}<br>{CI} %{{customdata[0]:,.0f}} – "
                "%{customdata[1]:,.0f}<extra></extra>",
            )
        )
    return fig


def ladder_chart(ladder: BudgetLadder, outcome_label: str, return_label: str) -> Figure:
    """Each step's marginal return with its credible interval (bars coloured by channel), against
    the threshold, and the cumulative expected outcome on a second axis."""
    if not ladder.steps:
        capped = ladder.capped()
        if len(capped) == len(ladder.channels):
            why = "Every channel already sits<br>at its upper bound:<br>no room for a first slice."
        elif capped:
            why = "No open channel's slice<br>returns enough; the others<br>sit at their upper bounds."
        else:
            why = "No slice returns enough<br>to take a first step."  # short lines: a phone is 390 px wide
        return empty_figure(why, height=320)
    colors = channel_colors(ladder.channels)
    labels = [f"{s.step}. {s.channel}" for s in ladder.steps]
    mean = [s.marginal.mean for s in ladder.steps]
    fig = base_figure(
        340,
        yaxis_title=return_label,
        yaxis2={
            "title": {"text": f"Cumulative {outcome_label}"},
            "overlaying": "y",
            "side": "right",
            "showgrid": False,
        },
        showlegend=False,
    )
    fig.add_trace(
        bar(
            x=labels,
            y=mean,
            marker={"color": [colors[s.channel] for s in ladder.steps]},
            error_y=_errors(mean, [s.marginal.ci_lo for s in ladder.steps], [s.marginal.ci_hi for s in ladder.steps]),
            customdata=[[s.marginal.ci_lo, s.marginal.ci_hi, s.slice] for s in ladder.steps],
            hovertemplate="%{x}: %{y:.2f} per unit<br>" + CI + " %{customdata[0]:.2f} – %{customdata[1]:.2f}"
            "<br>slice %{customdata[2]:,.0f}<extra></extra>",
        )
    )
    fig.add_trace(
        scatter(
            x=labels,
            y=[s.outcome.mean for s in ladder.steps],
            yaxis="y2",
            mode="lines+markers",
            line={"color": "#495057", "width": 1.5},
            hovertemplate="%{x}: cumulative %{y:,.0f}<extra></extra>",
        )
    )
    if ladder.threshold > 0:
        fig.add_hline(
            y=ladder.threshold,
            line={"dash": "dash", "color": "#6c757d", "width": 1},
            annotation_text=f"stop below {ladder.threshold:.3g}",
            annotation_position="top right",
        )
    return fig
