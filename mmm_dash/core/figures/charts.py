"""Figures for the overview, contribution, ROI and diagnostics pages."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mmm_dash.core.figures.plain import Figure, bar, scatter, trace
from mmm_dash.core.figures.theme import BASELINE_COLOR, PALETTE, add_band, base_figure, channel_colors, empty_figure
from mmm_dash.core.formatting import CI, LEVEL


def expected_vs_actual(series: pd.DataFrame, outcome_label: str) -> Figure:
    """The window's weekly expected outcome with its band, the actual outcome and the baseline."""
    df = series
    fig = base_figure(340, yaxis_title=outcome_label, hovermode="x unified")
    add_band(fig, df.time, df.expected_ci_lo, df.expected_ci_hi, PALETTE[0], name=f"{LEVEL} interval")
    fig.add_trace(scatter(x=df.time, y=df.expected_mean, name="Expected", line={"color": PALETTE[0], "width": 2}))
    fig.add_trace(
        scatter(x=df.time, y=df.actual, name="Actual", line={"color": "#212529", "width": 1.5, "dash": "dot"})
    )
    fig.add_trace(scatter(x=df.time, y=df.baseline_mean, name="Baseline", line={"color": BASELINE_COLOR, "width": 1.5}))
    return fig


def contribution_bars(table: pd.DataFrame, outcome_label: str) -> Figure:
    df = table.sort_values("incremental_outcome_mean")
    colors = channel_colors(table.index)
    fig = base_figure(max(260, 52 * len(df) + 80), xaxis_title=f"Incremental {outcome_label}")
    fig.add_trace(
        bar(
            y=df.index,
            x=df.incremental_outcome_mean,
            orientation="h",
            marker={"color": [colors[c] for c in df.index]},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": df.incremental_outcome_ci_hi - df.incremental_outcome_mean,
                "arrayminus": df.incremental_outcome_mean - df.incremental_outcome_ci_lo,
                "color": "#495057",
                "thickness": 1.2,
            },
            customdata=np.stack([df.incremental_outcome_ci_lo, df.incremental_outcome_ci_hi], axis=1),
            hovertemplate="%{y}: %{x:,.0f}<br>" + CI + " %{customdata[0]:,.0f} – %{customdata[1]:,.0f}<extra></extra>",
            name="Incremental",
        )
    )
    return fig


def contribution_pie(table: pd.DataFrame, baseline_outcome: float | None = None) -> Figure:
    colors = channel_colors(table.index)
    labels, values, palette = list(table.index), list(table.incremental_outcome_mean), [colors[c] for c in table.index]
    if baseline_outcome is not None:
        labels, values, palette = ["Baseline", *labels], [baseline_outcome, *values], [BASELINE_COLOR, *palette]
    fig = base_figure(360)
    fig.add_trace(
        trace(
            "pie",
            labels=labels,
            values=values,
            marker={"colors": palette},
            hole=0.45,
            sort=False,
            textinfo="label+percent",
            hovertemplate="%{label}: %{value:,.0f} (%{percent})<extra></extra>",
        )
    )
    return fig


def waterfall(baseline_mean: float, table: pd.DataFrame, outcome_label: str) -> Figure:
    df = table.sort_values("incremental_outcome_mean", ascending=False)
    x = ["Baseline", *df.index, "Total"]
    y = [baseline_mean, *df.incremental_outcome_mean, 0]
    measure = ["absolute", *["relative"] * len(df), "total"]
    fig = base_figure(360, yaxis_title=outcome_label, showlegend=False)
    fig.add_trace(
        trace(
            "waterfall",
            x=x,
            y=y,
            measure=measure,
            connector={"line": {"color": "#ced4da"}},
            increasing={"marker": {"color": PALETTE[0]}},
            totals={"marker": {"color": "#343a40"}},
            decreasing={"marker": {"color": PALETTE[3]}},
            hovertemplate="%{x}: %{y:,.0f}<extra></extra>",
        )
    )
    return fig


def contribution_over_time(contribution: pd.DataFrame, outcome_label: str) -> Figure:
    """Weekly posterior-mean incremental outcome per channel of the window, stacked."""
    df = contribution
    colors = channel_colors(contribution.columns)
    fig = base_figure(360, yaxis_title=f"Incremental {outcome_label}", hovermode="x unified")
    for ch in df.columns:
        fig.add_trace(
            scatter(
                x=df.index,
                y=df[ch],
                name=ch,
                stackgroup="one",
                mode="lines",
                line={"width": 0.5, "color": colors[ch]},
                hovertemplate="%{y:,.0f}",
            )
        )
    return fig


def spend_vs_contribution(table: pd.DataFrame) -> Figure:
    fig = base_figure(340, yaxis_title="% of paid total", barmode="group")
    share = table.incremental_outcome_mean / table.incremental_outcome_mean.sum() * 100
    fig.add_trace(
        bar(
            x=table.index,
            y=table.pct_of_spend,
            name="Share of spend",
            marker={"color": "#adb5bd"},
            hovertemplate="%{x}: %{y:.1f}% of spend<extra></extra>",
        )
    )
    fig.add_trace(
        bar(
            x=table.index,
            y=share,
            name="Share of paid contribution",
            marker={"color": PALETTE[0]},
            hovertemplate="%{x}: %{y:.1f}% of paid contribution<extra></extra>",
        )
    )
    return fig


def metric_bars(table: pd.DataFrame, metric: str, label: str, reference: float | None = None) -> Figure:
    df = table.dropna(subset=[f"{metric}_mean"]).sort_values(f"{metric}_mean", ascending=False)
    if df.empty:
        return empty_figure(f"{label} is not defined for these channels.")
    colors = channel_colors(table.index)
    fig = base_figure(320, yaxis_title=label, showlegend=False)
    fig.add_trace(
        bar(
            x=df.index,
            y=df[f"{metric}_mean"],
            marker={"color": [colors[c] for c in df.index]},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": df[f"{metric}_ci_hi"] - df[f"{metric}_mean"],
                "arrayminus": df[f"{metric}_mean"] - df[f"{metric}_ci_lo"],
                "color": "#495057",
                "thickness": 1.2,
            },
            customdata=np.stack([df[f"{metric}_ci_lo"], df[f"{metric}_ci_hi"]], axis=1),
            hovertemplate="%{x}: %{y:.2f}<br>" + CI + " %{customdata[0]:.2f} – %{customdata[1]:.2f}<extra></extra>",
        )
    )
    if reference is not None:
        fig.add_hline(
            y=reference,
            line={"dash": "dash", "color": "#6c757d", "width": 1},
            annotation_text=f"{label} = {reference:g}",
            annotation_position="top right",
        )
    return fig


def roi_bubble(table: pd.DataFrame, roi_label: str) -> Figure:
    colors = channel_colors(table.index)
    size = np.sqrt(table.spend / table.spend.max()) * 60 + 8
    fig = base_figure(
        380, xaxis_title="Effectiveness (incremental outcome per impression)", yaxis_title=roi_label, showlegend=False
    )
    fig.add_trace(
        scatter(
            x=table.effectiveness_mean,
            y=table.roi_mean,
            mode="markers+text",
            text=table.index,
            textposition="top center",
            marker={
                "size": size,
                "color": [colors[c] for c in table.index],
                "opacity": 0.75,
                "line": {"width": 1, "color": "#fff"},
            },
            customdata=np.stack([table.spend, table.roi_ci_lo, table.roi_ci_hi], axis=1),
            hovertemplate="%{text}<br>" + roi_label + " %{y:.2f} (" + CI + " %{customdata[1]:.2f}–%{customdata[2]:.2f})"
            "<br>effectiveness %{x:.4g}<br>spend %{customdata[0]:,.0f}<extra></extra>",
        )
    )
    return fig


def rhat_bars(rhat: pd.DataFrame, threshold: float) -> Figure:
    df = rhat.sort_values("max_r_hat", ascending=False)
    colors = ["#e15759" if v > threshold else PALETTE[0] for v in df.max_r_hat]
    fig = base_figure(300, yaxis_title="max R-hat", showlegend=False)
    fig.add_trace(
        bar(
            x=df.param,
            y=df.max_r_hat,
            marker={"color": colors},
            hovertemplate="%{x}: max R-hat %{y:.3f}<extra></extra>",
        )
    )
    fig.add_hline(
        y=threshold,
        line={"dash": "dash", "color": "#e15759", "width": 1},
        annotation_text=f"threshold {threshold}",
        annotation_position="top right",
    )
    fig.update_yaxes(
        range=[min(0.98, float(df.max_r_hat.min()) - 0.01), max(threshold * 1.05, float(df.max_r_hat.max()) * 1.02)]
    )
    return fig
