"""Response, Hill, adstock and frequency curves, and the scenario allocation."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mmm_dash.core import formatting
from mmm_dash.core.bundle import CurveSet
from mmm_dash.core.figures.plain import Figure, bar, scatter, subplots
from mmm_dash.core.figures.theme import PALETTE, TEMPLATE_JSON, add_band, base_figure, channel_colors, empty_figure
from mmm_dash.core.formatting import LEVEL


def spend_title() -> str:
    return formatting.with_currency("Spend")


def outcome_title(outcome_label: str) -> str:
    """'Incremental revenue ($)' for revenue, 'Incremental conversions' for a KPI."""
    return formatting.with_currency(f"Incremental {outcome_label}", outcome_label == "revenue")


def response_curve(
    curves: CurveSet,
    channel: str,
    outcome_label: str,
    break_even_multiplier: float | None = None,
    scenario_spend: float | None = None,
    scenario_outcome: float | None = None,
    height: int = 360,
) -> Figure:
    i = curves.channels.index(channel)
    color = channel_colors(curves.channels)[channel]
    spend = curves.spend_grid()[i]
    fig = base_figure(
        height, xaxis_title=spend_title(), yaxis_title=outcome_title(outcome_label), hovermode="x unified"
    )
    add_band(fig, spend, curves.ci_lo[i], curves.ci_hi[i], color, name=f"{LEVEL} interval")
    fig.add_trace(
        scatter(
            x=spend,
            y=curves.mean[i],
            name=channel,
            line={"color": color, "width": 2.5},
            customdata=curves.multipliers,
            hovertemplate="%{y:,.0f} at %{x:,.0f} (%{customdata:.2f}x)<extra></extra>",
        )
    )
    hist = curves.historical_spend[i]
    current = float(np.interp(1.0, curves.multipliers, curves.mean[i]))
    fig.add_trace(
        scatter(
            x=[hist],
            y=[current],
            mode="markers",
            name="Current spend",
            marker={"size": 12, "color": "#212529", "symbol": "circle"},
            hovertemplate="current: %{y:,.0f} at %{x:,.0f}<extra></extra>",
        )
    )
    if break_even_multiplier is not None:
        fig.add_vline(
            x=hist * break_even_multiplier,
            line={"dash": "dash", "color": "#d97706", "width": 1},
            annotation_text="break-even (mROI = 1)",
            annotation_position="top left",
        )
    if scenario_spend is not None and scenario_outcome is not None:
        fig.add_trace(_scenario_point(scenario_spend, scenario_outcome, "Scenario", size=13))
    return fig


def _scenario_point(spend: float, outcome: float, name: str, size: int, **trace) -> dict:
    """The scenario's marker, drawn the same on a single curve and on small multiples."""
    return scatter(
        x=[spend],
        y=[outcome],
        mode="markers",
        name=name,
        marker={"size": size, "color": PALETTE[3], "symbol": "diamond"},
        hovertemplate="scenario: %{y:,.0f} at %{x:,.0f}<extra></extra>",
        **trace,
    )


def small_multiples(
    curves: CurveSet,
    outcome_label: str,
    scenario_spend=None,
    scenario_outcome=None,
    max_cols: int = 3,
    row_height: int = 260,
) -> Figure:
    """Every channel's curve at a glance; with a scenario, its point on each curve as well."""
    n = len(curves.channels)
    cols = min(max_cols, n)
    rows = int(np.ceil(n / cols))
    fig = subplots(rows, cols, titles=list(curves.channels), horizontal_spacing=0.08, vertical_spacing=0.14)
    colors = channel_colors(curves.channels)
    spend = curves.spend_grid()
    for i, ch in enumerate(curves.channels):
        r, c = i // cols + 1, i % cols + 1
        add_band(fig, spend[i], curves.ci_lo[i], curves.ci_hi[i], colors[ch], row=r, col=c)
        fig.add_trace(
            scatter(
                x=spend[i],
                y=curves.mean[i],
                line={"color": colors[ch], "width": 2},
                showlegend=False,
                name=ch,
                hovertemplate="%{y:,.0f} at %{x:,.0f}<extra></extra>",
            ),
            r,
            c,
        )
        fig.add_trace(
            scatter(
                x=[curves.historical_spend[i]],
                y=[np.interp(1.0, curves.multipliers, curves.mean[i])],
                mode="markers",
                marker={"color": "#212529", "size": 8},
                showlegend=False,
                hovertemplate="current spend<extra></extra>",
            ),
            r,
            c,
        )
        if scenario_spend is not None and scenario_outcome is not None:
            point = _scenario_point(scenario_spend[i], scenario_outcome[i], f"{ch} scenario", size=10, showlegend=False)
            fig.add_trace(point, r, c)
    fig.update_layout(template=TEMPLATE_JSON, height=row_height * rows + 40, margin={"t": 40})
    return fig


def _prior_vs_posterior(df: pd.DataFrame, x: str, x_title: str, y_title: str) -> Figure:
    fig = base_figure(300, xaxis_title=x_title, yaxis_title=y_title)
    for dist, color, dash in (("posterior", PALETTE[0], "solid"), ("prior", "#adb5bd", "dot")):
        d = df[df.distribution == dist].sort_values(x)
        if d.empty:
            continue
        add_band(fig, d[x], d.ci_lo, d.ci_hi, color, alpha=0.15)
        fig.add_trace(scatter(x=d[x], y=d["mean"], name=dist.title(), line={"color": color, "dash": dash}))
    return fig


def hill_curve(hill: pd.DataFrame, channel: str) -> Figure:
    df = hill[hill.channel == channel]
    if df.empty:
        return empty_figure("No Hill curve for this channel.")
    return _prior_vs_posterior(df, "media_units", "Media units per capita", "Hill saturation level")


def adstock_curve(adstock: pd.DataFrame, channel: str) -> Figure:
    df = adstock[adstock.channel == channel]
    if df.empty:
        return empty_figure("No adstock decay for this channel.")
    return _prior_vs_posterior(df, "time_units", "Weeks after exposure", "Share of effect remaining")


def frequency_curve(optimal_frequency: pd.DataFrame, channel: str, roi_label: str) -> Figure:
    """Meridian's ROI at each average weekly frequency (same spend), with its interval, the optimal
    frequency and today's average frequency."""
    if optimal_frequency.empty or channel not in optimal_frequency.index:
        return empty_figure("Optimal frequency applies to reach-and-frequency channels only.")
    row = optimal_frequency.loc[channel]
    data = row.get("roi_by_frequency")
    fig = base_figure(300, xaxis_title="Average weekly frequency", yaxis_title=roi_label, showlegend=False)
    if isinstance(data, dict):
        mean = data.get("mean", data.get("roi"))
        if "ci_lo" in data and "ci_hi" in data:
            add_band(fig, data["frequency"], data["ci_lo"], data["ci_hi"], PALETTE[0], name=f"{LEVEL} interval")
        fig.add_trace(
            scatter(
                x=data["frequency"],
                y=mean,
                line={"color": PALETTE[0], "width": 2},
                name=roi_label,
                hovertemplate="frequency %{x:.1f}: " + roi_label + " %{y:.2f}<extra></extra>",
            )
        )
    fig.add_vline(
        x=float(row.optimal_frequency),
        line={"dash": "dash", "color": "#d97706"},
        annotation_text=f"optimal {float(row.optimal_frequency):.1f}",
        annotation_position="top right",
    )
    current = row.get("current_frequency")
    if current is not None and np.isfinite(current):
        fig.add_vline(
            x=float(current),
            line={"dash": "dot", "color": "#212529"},
            annotation_text=f"today {float(current):.1f}",
            annotation_position="top left",
        )
    return fig


def allocation_comparison(channels, historical, scenario, labels=("Historical", "Scenario")) -> Figure:
    fig = base_figure(320, yaxis_title=spend_title(), barmode="group")
    fig.add_trace(
        bar(
            x=list(channels),
            y=list(historical),
            name=labels[0],
            marker={"color": "#adb5bd"},
            hovertemplate="%{x}: %{y:,.0f}<extra></extra>",
        )
    )
    fig.add_trace(
        bar(
            x=list(channels),
            y=list(scenario),
            name=labels[1],
            marker={"color": PALETTE[0]},
            hovertemplate="%{x}: %{y:,.0f}<extra></extra>",
        )
    )
    return fig
