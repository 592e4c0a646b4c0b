"""Two checks analysts make before they trust a model: did the data move each channel's ROI away from
its prior (prior vs posterior), and what does the fit leave unexplained week by week (residuals)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from mmm_dash.core.bundle import Bundle, Period


@dataclasses.dataclass(frozen=True)
class PriorPosterior:
    """Per paid channel, Meridian's prior and posterior draws of its ROI, whole range and all geos
    (the scope Meridian's ROI prior is set on)."""

    channels: tuple[str, ...]
    prior: np.ndarray  # (P, C)
    posterior: np.ndarray  # (S, C)
    sampled_by_builder: bool  # the model file had no prior draws; the bundle builder sampled them

    def frame(self) -> pd.DataFrame:
        """Per channel: prior and posterior mean and 90% interval (Meridian's quantiles), and the
        posterior interval's width as a share of the prior's (near 1: the data said little)."""
        from mmm_dash.core.windows import summarise

        rows = {}
        for name, draws in (("prior", self.prior), ("posterior", self.posterior)):
            stats = summarise(draws)
            for stat in ("mean", "ci_lo", "ci_hi"):
                rows[f"{name}_{stat}"] = stats[stat]
        table = pd.DataFrame(rows, index=pd.Index(self.channels, name="channel"))
        with np.errstate(divide="ignore", invalid="ignore"):
            table["width_ratio"] = (table.posterior_ci_hi - table.posterior_ci_lo) / (
                table.prior_ci_hi - table.prior_ci_lo
            )
        return table


def roi_prior_posterior(bundle: Bundle) -> PriorPosterior | None:
    """The ROI prior the bundle keeps beside the posterior every page reads; None for a bundle without one."""
    prior = bundle.roi_prior
    if prior is None:
        return None
    analysis = bundle.period("all")
    order = [analysis.channel_position(c) for c in prior.channels]
    return PriorPosterior(
        channels=prior.channels,
        prior=np.asarray(prior.draws, dtype=np.float64),
        posterior=analysis.roi_draws[:, order],
        sampled_by_builder=prior.sampled_by_builder,
    )


def residuals(bundle: Bundle, period: Period, geo: str | None = None) -> pd.DataFrame:
    """Per week of the window: the actual outcome, Meridian's expected outcome (posterior mean, every
    draw) and the residual actual − expected, summed over all geos or for one geo."""
    d = bundle.draws
    weeks = d.time_index(period.start, period.end)
    gi = d.geo_index(geo)
    rows = slice(None) if gi is None else slice(gi, gi + 1)
    actual = d.actual[rows, weeks].sum(axis=0)
    expected = d.expected_mean[rows, weeks].sum(axis=0)
    return pd.DataFrame(
        {"time": list(d.times[weeks]), "actual": actual, "expected": expected, "residual": actual - expected}
    )
