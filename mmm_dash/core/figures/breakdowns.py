"""Figures that break results down by time bucket or by geo (Contribution, ROI and Geos pages)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from mmm_dash.core.figures.plain import Figure, bar, scatter, subplots
from mmm_dash.core.figures.theme import TEMPLATE_JSON, base_figure, channel_colors, empty_figure, interval_bars
from mmm_dash.core.formatting import CI

# d3 formats for hover text, by metric
HOVER_FORMAT = {"incremental_outcome": ",.0f", "pct_of_contribution": ".2f", "roi": ".2f", "cpik": ",.3~g"}


def _hover(metric: str, what: str) -> str:
    fmt = HOVER_FORMAT.get(metric, ",.3~g")
    return (
        f"%{{fullData.name}} · {what}: %{{y:{fmt}}}<br>{CI} %{{customdata[0]:{fmt}}} – %{{customdata[1]:{fmt}}}"
        "<extra></extra>"
    )


def _errors(df: pd.DataFrame, metric: str) -> dict:
    return interval_bars(df[f"{metric}_mean"], df[f"{metric}_ci_lo"], df[f"{metric}_ci_hi"], width=3)


def over_time_chart(rows: pd.DataFrame, metric: str, label: str, reference: float | None = None) -> Figure:
    """One line per channel across buckets, points side by side within each bucket (so 5-10 channels'
    error bars do not hide each other); click a legend entry to hide or isolate a channel.
    `rows`: `OverTime.channel_rows()`, buckets in order."""
    df = rows.dropna(subset=[f"{metric}_mean"])
    if df.empty:
        return empty_figure(f"{label} is not defined for these channels.")
    buckets = list(dict.fromkeys(rows["label"]))
    channels = list(dict.fromkeys(rows["channel"]))
    colors = channel_colors(channels)
    fig = base_figure(
        400,
        yaxis_title=label,
        scattermode="group",
        scattergap=0.35 if len(buckets) <= 16 else 0.2,
        hovermode="closest",
        legend_title_text="Channel",
    )
    fig.update_xaxes(
        type="category", categoryorder="array", categoryarray=buckets, tickangle=-45 if len(buckets) > 16 else 0
    )
    for channel in channels:
        one = df[df["channel"] == channel]
        fig.add_trace(
            scatter(
                x=one["label"],
                y=one[f"{metric}_mean"],
                name=channel,
                mode="lines+markers",
                line={"color": colors[channel], "width": 1.5},
                marker={"color": colors[channel], "size": 6},
                error_y={**_errors(one, metric), "color": colors[channel]},
                customdata=np.stack([one[f"{metric}_ci_lo"], one[f"{metric}_ci_hi"]], axis=1),
                hovertemplate=_hover(metric, "%{x}"),
            )
        )
    if reference is not None:  # labelled in the right margin, off the points
        fig.add_hline(y=reference, line={"dash": "dash", "color": "#6c757d", "width": 1})
        fig.add_annotation(
            text=f"{label} = {reference:g}",
            x=1.0,
            xref="paper",
            xanchor="left",
            y=reference,
            yref="y",
            showarrow=False,
            font={"size": 11, "color": "#6c757d"},
        )
        fig.update_layout(margin={"r": 64})
    return fig


def shared_range(df: pd.DataFrame, metric: str) -> list[float] | None:
    """One y range holding every panel's mean and interval (and zero), padded; None when nothing is finite."""
    values = df[[f"{metric}_mean", f"{metric}_ci_lo", f"{metric}_ci_hi"]].to_numpy(dtype=float).ravel()
    values = values[np.isfinite(values)]
    if not values.size:
        return None
    lo, hi = min(0.0, float(values.min())), max(0.0, float(values.max()))
    pad = (hi - lo) * 0.06 or 1.0
    return [lo - (pad if lo < 0 else 0.0), hi + pad]


def geo_small_multiples(
    channels: pd.DataFrame,
    geos: list[str],
    metric: str,
    label: str,
    reference: float | None = None,
    max_cols: int = 4,
) -> Figure:
    """One panel per geo, a bar per channel (coloured as on every chart) with its interval, every
    panel on the same y scale so geos compare at a glance. One trace per panel keeps the figure small
    for Dash to send. `channels`: `GeoBreakdown.channels`; `geos`: the panels, in order."""
    df = channels[channels["geo"].isin(geos)]
    y_range = shared_range(df, metric)
    if not geos or y_range is None:
        return empty_figure(f"{label} is not defined for these geos.")
    cols = min(max_cols, len(geos))
    rows = math.ceil(len(geos) / cols)
    height = 300 * rows + 40
    gap = 110 / height  # room for one panel's rotated channel names and the next panel's title
    fig = subplots(rows, cols, titles=list(geos), horizontal_spacing=0.05, vertical_spacing=gap)
    names = list(dict.fromkeys(channels["channel"]))
    colors = channel_colors(names)
    cells = df.set_index(["geo", "channel"]).reindex(pd.MultiIndex.from_product([geos, names]))
    mean, lo, hi = (
        cells[f"{metric}_{s}"].to_numpy(dtype=float).reshape(len(geos), len(names)) for s in ("mean", "ci_lo", "ci_hi")
    )
    for k, geo in enumerate(geos):
        fig.add_trace(
            bar(
                x=names,
                y=mean[k],
                name=geo,
                marker={"color": [colors[n] for n in names]},
                error_y=interval_bars(mean[k], lo[k], hi[k], width=3),
                customdata=np.stack([lo[k], hi[k]], axis=1),
                hovertemplate=_hover(metric, "%{x}"),
                showlegend=False,
            ),
            row=k // cols + 1,
            col=k % cols + 1,
        )
    fig.update_layout(template=TEMPLATE_JSON, height=height, bargap=0.15, margin={"t": 40}, showlegend=False)
    fig.update_xaxes(tickangle=-45, tickfont={"size": 10})
    fig.update_yaxes(range=y_range)
    for axis in [key for key in fig.layout if key.startswith("yaxis") and key != "yaxis"]:
        fig.layout[axis]["matches"] = "y"  # zooming one panel zooms all: the scale stays shared
    fig.layout["yaxis"]["title"] = {"text": label}
    if reference is not None:
        for k in range(len(geos)):
            suffix = "" if k == 0 else str(k + 1)
            fig.layout.setdefault("shapes", []).append(
                {
                    "type": "line",
                    "xref": f"x{suffix} domain",
                    "yref": f"y{suffix}",
                    "x0": 0,
                    "x1": 1,
                    "y0": reference,
                    "y1": reference,
                    "line": {"dash": "dash", "color": "#6c757d", "width": 1},
                }
            )
    return fig


def geo_spend_share(channels: pd.DataFrame, geos: pd.DataFrame, top: list[str] | None = None) -> Figure:
    """Each geo's spend split by channel (100% stacked bars, most spend at the top), each geo's name
    followed by its share of all geos' spend. `geos`: `GeoBreakdown.geos`; `top`: the geos to draw."""
    order = top if top is not None else list(geos["geo"])
    if not order:
        return empty_figure("No geo has spend in this period.")
    share = geos.set_index("geo")["pct_of_spend"]
    labels = {g: f"{g} ({share.get(g, float('nan')):.1f}% of spend)" for g in order}
    names = list(dict.fromkeys(channels["channel"]))
    colors = channel_colors(names)
    fig = base_figure(max(220, 34 * len(order) + 120), barmode="stack", xaxis_title="% of the geo's paid spend")
    fig.update_xaxes(range=[0, 100], ticksuffix="%")
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=[labels[g] for g in reversed(order)])
    df = channels[channels["geo"].isin(order)]
    for name in names:
        one = df[df["channel"] == name].set_index("geo").reindex(order)
        fig.add_trace(
            bar(
                y=[labels[g] for g in order],
                x=one["pct_of_spend"],
                orientation="h",
                name=name,
                marker={"color": colors[name]},
                customdata=one["spend"],
                hovertemplate="%{y}<br>" + name + ": %{x:.1f}% (%{customdata:,.0f})<extra></extra>",
            )
        )
    return fig
