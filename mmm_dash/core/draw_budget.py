"""How many posterior draws a bundle keeps, and why that many (plain numpy: no Meridian).

Every interval, probability and paired comparison the app shows is a Monte Carlo estimate over the
kept draws, so its error shrinks as 1/sqrt(N) (N the effective number of independent draws):

* a posterior mean is off by sd/sqrt(N): 4.5% of the posterior sd at N = 500, 10% at N = 100;
* an end of the 90% interval (the 5% or 95% quantile) is off by sqrt(p(1-p)/N)/density, for a
  normal posterior 0.09 sd at N = 500 and 0.21 sd at N = 100;
* a probability such as P(ROI > 1) is off by at most 0.5/sqrt(N): 2.2 points at 500, 5 at 100.

With every draw kept, the bundle's numbers are Meridian's own; thinned to S draws, they move from
Meridian's (all-draw) numbers by about these amounts at N = S.

MAX_DRAWS = 500 keeps every draw of the usual fits (2-4 chains x 100-200 draws): past it, halving
the error takes four times the draws, and so four times the bytes and the time of every window query.
Where the per-draw arrays of a large model (many geos) would pass DRAW_BUDGET_BYTES, draws are thinned
evenly across the chains, which costs less precision than the count suggests (neighbouring MCMC draws
are correlated), and never below MIN_DRAWS, where interval ends would move by a fifth of a standard
deviation.
"""

from __future__ import annotations

import numpy as np

from mmm_dash.core.bundle import ModelInfo

SPEND_MULTIPLIERS = np.round(np.linspace(0.0, 2.0, 41), 4)  # response-curve grid
MAX_DRAWS = 500  # posterior draws kept per bundle at most (all of the usual 2-4 chains x 100-200)
MIN_DRAWS = 100  # never thin below this, whatever the size
DRAW_BUDGET_BYTES = 80_000_000  # per-draw arrays of a bundle stay under this (thinning draws if needed)


def bytes_per_draw(info: ModelInfo, n_curve_presets: int) -> int:
    """Bytes one posterior draw adds to a bundle: float32 national cubes (incremental, marginal,
    non-paid, expected, baseline; incremental KPI), float32 response curves of each preset, and
    float16 geo cubes of the same series for a geo model."""
    c, n, t, g = len(info.paid_channels), len(info.non_paid_channels), info.n_times, info.n_geos
    per_draw = (2 * c + n + 2) * t * 4 + c * t * 4 + n_curve_presets * c * len(SPEND_MULTIPLIERS) * 4
    if not info.is_national:
        per_draw += (2 * c + n + 2) * g * t * 2
    return per_draw


def draws_to_keep(info: ModelInfo, n_curve_presets: int) -> np.ndarray:
    """Indices of the (chain x draw) posterior draws the bundle keeps: all of them up to MAX_DRAWS,
    fewer (evenly spread, never below MIN_DRAWS) when the per-draw arrays would pass the budget.
    The module docstring gives the Monte Carlo reasoning for these numbers."""
    total = info.n_posterior_draws
    fits = max(MIN_DRAWS, DRAW_BUDGET_BYTES // bytes_per_draw(info, n_curve_presets))
    keep = min(total, MAX_DRAWS, fits)
    return np.unique(np.linspace(0, total - 1, keep).round().astype(int))
