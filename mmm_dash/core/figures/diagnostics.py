"""Figures of the Diagnostics page's model checks: each channel's ROI prior against its posterior, and
the weekly residuals of the fit."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mmm_dash.core import formatting
from mmm_dash.core.diagnostics import PriorPosterior
from mmm_dash.core.figures.plain import Figure, bar, scatter, subplots
from mmm_dash.core.figures.theme import BASELINE_COLOR, PALETTE, TEMPLATE_JSON, base_figure, empty_figure, rgba

GRID_POINTS = 160
TAIL = 0.005  # each density is drawn between the 0.5% and 99.5% quantiles of prior and posterior together
PRIOR_COLOR = BASELINE_COLOR
POSTERIOR_COLOR = PALETTE[0]
OVER_COLOR, UNDER_COLOR = "#2f9e44", "#e03131"  # actual above expected, below it


def density_grid(prior: np.ndarray, posterior: np.ndarray, n: int = GRID_POINTS) -> np.ndarray:
    """The x values one channel's densities are drawn on: prior and posterior together, without the far tails."""
    both = np.concatenate([prior[np.isfinite(prior)], posterior[np.isfinite(posterior)]])
    lo, hi = np.quantile(both, [TAIL, 1 - TAIL])
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    return np.linspace(lo, hi, n)


def density(draws: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Gaussian kernel density of `draws` on `grid` (Scott's bandwidth, as the density transform of
    Meridian's own prior-and-posterior plot); zeros when the draws do not vary."""
    from scipy.stats import gaussian_kde

    draws = draws[np.isfinite(draws)]
    if draws.size < 2 or np.ptp(draws) == 0:
        return np.zeros_like(grid)
    return gaussian_kde(draws)(grid)


def prior_posterior_densities(pp: PriorPosterior, roi_label: str, break_even: float | None = 1.0) -> Figure:
    """Small multiples, one per paid channel: the density of its ROI prior (grey) and posterior (blue).
    A posterior that is as wide as the prior and in the same place means the data said little about
    the channel. `break_even`: a dotted line at ROI 1 (None for models without revenue)."""
    n = len(pp.channels)
    if n == 0:
        return empty_figure("This model has no paid channels.")
    cols = min(3, n)
    rows = int(np.ceil(n / cols))
    fig = subplots(rows, cols, titles=list(pp.channels), horizontal_spacing=0.08, vertical_spacing=0.2)
    for i, channel in enumerate(pp.channels):
        r, c = i // cols + 1, i % cols + 1
        grid = density_grid(pp.prior[:, i], pp.posterior[:, i])
        for name, draws, color, fill in (
            ("Prior", pp.prior[:, i], PRIOR_COLOR, 0.35),
            ("Posterior", pp.posterior[:, i], POSTERIOR_COLOR, 0.25),
        ):
            fig.add_trace(
                scatter(
                    x=grid,
                    y=density(draws, grid),
                    name=name,
                    legendgroup=name,
                    showlegend=i == 0,
                    fill="tozeroy",
                    fillcolor=rgba(color, fill),
                    line={"color": color, "width": 2 if name == "Posterior" else 1.5},
                    hovertemplate=f"{name}: {roi_label} " + "%{x:.2f}<extra>" + channel + "</extra>",
                ),
                r,
                c,
            )
        if break_even is not None and grid[0] <= break_even <= grid[-1]:
            k = i + 1
            fig.layout.setdefault("shapes", []).append(
                {
                    "type": "line",
                    "x0": break_even,
                    "x1": break_even,
                    "xref": "x" if k == 1 else f"x{k}",
                    "y0": 0,
                    "y1": 1,
                    "yref": "y domain" if k == 1 else f"y{k} domain",
                    "line": {"color": "#868e96", "dash": "dot", "width": 1},
                }
            )
    height, top, bottom = 220 * rows + 80, 72, 44
    fig.update_layout(
        template=TEMPLATE_JSON,
        height=height,
        margin={"t": top, "b": bottom},
        legend={"y": 1 + 26 / (height - top - bottom)},  # above the panel titles, not on them
    )
    fig.update_yaxes(showticklabels=False, rangemode="tozero")
    fig.update_xaxes(tickformat=".2~f")
    return fig


def residual_bars(frame: pd.DataFrame, outcome_label: str, is_money: bool) -> Figure:
    """Actual − expected (Meridian's posterior mean) per week, above or below a zero line: runs of one
    sign, trends or a seasonal wave are what the model misses."""
    if frame.empty:
        return empty_figure("No weeks in this window.")
    fig = base_figure(
        320,
        yaxis_title=formatting.with_currency(f"Actual − expected {outcome_label}", is_money),
        showlegend=False,
        bargap=0.1,
    )
    residual = frame.residual.to_numpy()
    fig.add_trace(
        bar(
            x=frame.time,
            y=residual,
            marker={"color": [OVER_COLOR if v >= 0 else UNDER_COLOR for v in residual]},
            customdata=np.stack([frame.actual, frame.expected], axis=1),
            hovertemplate="%{x}: %{y:,.0f}<br>actual %{customdata[0]:,.0f}, expected %{customdata[1]:,.0f}"
            "<extra></extra>",
            name="Residual",
        )
    )
    fig.add_hline(0, line={"color": "#495057", "width": 1})
    return fig
