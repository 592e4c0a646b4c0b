"""Figures for the overview, contribution, ROI and diagnostics pages."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mmm_dash.core import formatting
from mmm_dash.core.figures.plain import Figure, bar, scatter, trace
from mmm_dash.core.figures.theme import (
    BASELINE_COLOR,
    PALETTE,
    add_band,
    base_figure,
    channel_colors,
    empty_figure,
    interval_bars,
)
from mmm_dash.core.formatting import CI, LEVEL, compact


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


NON_PAID_COLOR = "#868e96"


def contribution_rows(table: pd.DataFrame, non_paid: pd.DataFrame | None = None) -> pd.DataFrame:
    """Paid channels, then organic and non-media ones (marked), with incremental outcome and its interval."""
    cols = ["incremental_outcome_mean", "incremental_outcome_ci_lo", "incremental_outcome_ci_hi"]
    paid = table[cols].assign(kind="paid")
    if non_paid is None or non_paid.empty:
        return paid
    return pd.concat([paid, non_paid[cols].assign(kind="organic or non-media")])


def contribution_bars(table: pd.DataFrame, outcome_label: str, non_paid: pd.DataFrame | None = None) -> Figure:
    """Incremental outcome per channel with its interval: paid channels in their colours, organic and
    non-media channels (no spend) in grey, so every effect Meridian reports beside the baseline shows."""
    df = contribution_rows(table, non_paid).sort_values("incremental_outcome_mean")
    colors = channel_colors(table.index)
    fig = base_figure(
        max(260, 46 * len(df) + 90),
        xaxis_title=formatting.with_currency(f"Incremental {outcome_label}", outcome_label == "revenue"),
    )
    fig.add_trace(
        bar(
            y=df.index,
            x=df.incremental_outcome_mean,
            orientation="h",
            marker={
                "color": [colors.get(c, NON_PAID_COLOR) for c in df.index],
                "pattern": {"shape": ["" if k == "paid" else "/" for k in df.kind]},
            },
            error_x=interval_bars(
                df.incremental_outcome_mean, df.incremental_outcome_ci_lo, df.incremental_outcome_ci_hi
            ),
            customdata=np.stack([df.incremental_outcome_ci_lo, df.incremental_outcome_ci_hi, df.kind], axis=1),
            hovertemplate="%{y} (%{customdata[2]}): %{x:,.0f}<br>"
            + CI
            + " %{customdata[0]:,.0f} – %{customdata[1]:,.0f}<extra></extra>",
            name="Incremental",
            showlegend=False,
        )
    )
    fig.update_yaxes(automargin=True)
    return fig


def contribution_pie(
    table: pd.DataFrame, baseline_outcome: float | None = None, non_paid: pd.DataFrame | None = None
) -> Figure:
    df = contribution_rows(table, non_paid)
    colors = channel_colors(table.index)
    labels, values = list(df.index), list(df.incremental_outcome_mean.clip(lower=0))
    palette = [colors.get(c, NON_PAID_COLOR) for c in labels]
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


def waterfall(
    baseline_mean: float, table: pd.DataFrame, outcome_label: str, non_paid: pd.DataFrame | None = None
) -> Figure:
    """Baseline, then each channel's step (paid, organic and non-media), to the total; every step is
    labelled, and the axis starts just under the baseline (and says so) so the steps are visible.
    Steps run down the page, one row each: channel names read in full at any width (side by side on a
    vertical axis they collided at 390 and at 1440 px)."""
    df = contribution_rows(table, non_paid).sort_values("incremental_outcome_mean", ascending=False)
    names = ["Baseline", *df.index, "Total"]
    steps = [baseline_mean, *df.incremental_outcome_mean, 0]
    total = baseline_mean + float(df.incremental_outcome_mean.sum())
    labels = [
        compact(baseline_mean),
        *[f"+{compact(v)}" if v >= 0 else f"−{compact(-v)}" for v in df.incremental_outcome_mean],
        compact(total),
    ]
    measure = ["absolute", *["relative"] * len(df), "total"]
    low = min(baseline_mean, total, baseline_mean + float(df.incremental_outcome_mean.clip(upper=0).sum()))
    floor = max(0.0, low - 0.15 * (total - low if total > low else abs(low) * 0.1))
    fig = base_figure(
        max(300, 90 + 34 * len(names)),
        xaxis_title=formatting.with_currency(outcome_label.capitalize(), outcome_label == "revenue"),
        yaxis={"autorange": "reversed", "automargin": True},  # baseline on top, total at the bottom
        showlegend=False,
    )
    fig.add_trace(
        trace(
            "waterfall",
            orientation="h",
            y=names,
            x=steps,
            measure=measure,
            text=labels,
            textposition="outside",
            connector={"line": {"color": "#ced4da"}},
            increasing={"marker": {"color": PALETTE[0]}},
            totals={"marker": {"color": "#343a40"}},
            decreasing={"marker": {"color": PALETTE[3]}},
            hovertemplate="%{y}: %{x:,.0f}<extra></extra>",
            cliponaxis=False,
        )
    )
    if floor > 0:
        fig.update_xaxes(range=[floor, total + 0.3 * (total - floor)])  # room for the labels
        fig.add_annotation(
            text=f"axis starts at {compact(floor)}, not 0",
            xref="paper",
            yref="paper",
            x=0,
            y=1.0,
            xanchor="left",
            yanchor="bottom",
            showarrow=False,
            font={"size": 11, "color": "#6c757d"},
        )
    fig.update_xaxes(automargin=True, nticks=5)
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
    """Each channel's share of paid spend beside its share of paid media's incremental outcome (both of
    the paid total; the contribution share elsewhere is of the whole outcome, baseline included)."""
    df = table.iloc[::-1]
    fig = base_figure(max(260, 52 * len(df) + 100), xaxis_title="% of the paid total", barmode="group")
    share = df.incremental_outcome_mean / table.incremental_outcome_mean.sum() * 100
    fig.add_trace(
        bar(
            y=df.index,
            x=df.pct_of_spend,
            orientation="h",
            name="Share of paid spend",
            marker={"color": "#adb5bd"},
            hovertemplate="%{y}: %{x:.1f}% of paid spend<extra></extra>",
        )
    )
    fig.add_trace(
        bar(
            y=df.index,
            x=share,
            orientation="h",
            name="Share of paid media's incremental outcome",
            marker={"color": PALETTE[0]},
            hovertemplate="%{y}: %{x:.1f}% of paid media's incremental outcome<extra></extra>",
        )
    )
    fig.update_yaxes(automargin=True)
    return fig


def metric_bars(table: pd.DataFrame, metric: str, label: str, reference: float | None = None) -> Figure:
    """A metric per channel with its interval, as horizontal bars (long channel names stay readable),
    best first; an optional reference line labelled beside the plot, never on a bar."""
    df = table.dropna(subset=[f"{metric}_mean"]).sort_values(f"{metric}_mean", ascending=True)
    if df.empty:
        return empty_figure(f"{label} is not defined for these channels.")
    colors = channel_colors(table.index)
    fig = base_figure(max(240, 44 * len(df) + 90), xaxis_title=label, showlegend=False)
    fig.add_trace(
        bar(
            y=df.index,
            x=df[f"{metric}_mean"],
            orientation="h",
            marker={"color": [colors[c] for c in df.index]},
            error_x=interval_bars(df[f"{metric}_mean"], df[f"{metric}_ci_lo"], df[f"{metric}_ci_hi"]),
            customdata=np.stack([df[f"{metric}_ci_lo"], df[f"{metric}_ci_hi"]], axis=1),
            hovertemplate="%{y}: %{x:.3~g}<br>" + CI + " %{customdata[0]:.3~g} – %{customdata[1]:.3~g}<extra></extra>",
        )
    )
    fig.update_yaxes(automargin=True)
    if reference is not None:
        fig.add_vline(x=reference, line={"dash": "dash", "color": "#6c757d", "width": 1})
        fig.add_annotation(
            text=f"{label} = {reference:g}",
            x=reference,
            xref="x",
            y=1.0,
            yref="paper",
            yanchor="bottom",
            xanchor="center",
            showarrow=False,
            font={"size": 11, "color": "#6c757d"},
        )
    return fig


def roi_bubble(table: pd.DataFrame, roi_label: str) -> Figure:
    """ROI (with its interval) against effectiveness, bubble area by spend; labels placed apart."""
    colors = channel_colors(table.index)
    size = np.sqrt(table.spend / table.spend.max()) * 44 + 10
    positions = ["top center", "bottom center", "middle right", "middle left"]
    fig = base_figure(
        400, xaxis_title="Effectiveness (incremental outcome per impression)", yaxis_title=roi_label, showlegend=False
    )
    fig.add_trace(
        scatter(
            x=table.effectiveness_mean,
            y=table.roi_mean,
            mode="markers+text",
            text=table.index,
            textposition=[positions[i % len(positions)] for i in range(len(table))],
            marker={
                "size": size,
                "color": [colors[c] for c in table.index],
                "opacity": 0.55,
                "line": {"width": 1, "color": "#495057"},
            },
            error_y=interval_bars(table.roi_mean, table.roi_ci_lo, table.roi_ci_hi, color="#868e96", thickness=1),
            customdata=np.stack([table.spend, table.roi_ci_lo, table.roi_ci_hi], axis=1),
            hovertemplate="%{text}<br>" + roi_label + " %{y:.2f} (" + CI + " %{customdata[1]:.2f}–%{customdata[2]:.2f})"
            "<br>effectiveness %{x:.4g}<br>spend %{customdata[0]:,.0f}<extra></extra>",
            cliponaxis=False,
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
