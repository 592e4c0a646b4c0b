"""Small real Meridian models of every shape the dashboard supports, fitted once and cached on disk."""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
from pathlib import Path

import numpy as np
import pandas as pd

from mmm_dash.builder.meridian import fitting, simulate
from mmm_dash.builder.meridian.fitting import FrameSpec, SamplingPlan

PLAN = SamplingPlan(chains=2, adapt=40, burnin=20, keep=30, prior_draws=30, seed=3)
GEOS3 = {"North": 3.0e6, "Central": 4.0e6, "South": 2.5e6}
CHANNELS3 = simulate.DEMO_CHANNELS[:3]


def _base(geos, n_weeks=60, seed=11):
    data = simulate.simulate_demo_data(seed=seed, n_weeks=n_weeks, channels=CHANNELS3, geos=geos)
    return data.frame.copy()


def national_revenue() -> tuple[pd.DataFrame, FrameSpec]:
    frame = _base({"national": 20e6})
    frame["revenue"] = frame["conversions"] * frame["revenue_per_conversion"]
    media, spend, names = simulate.channel_columns(CHANNELS3)
    return frame, FrameSpec(
        kpi="revenue",
        kpi_type="revenue",
        controls=("avg_price", "promotion"),
        media=tuple(media),
        media_spend=tuple(spend),
        media_channels=tuple(names),
        national=True,
    )


def geo_rf_no_revenue() -> tuple[pd.DataFrame, FrameSpec]:
    frame = _base(GEOS3)
    rng = np.random.default_rng(5)
    frequency = rng.uniform(1.5, 3.5, len(frame))
    frame["ctv_reach"] = (frame["social_impressions"] / frequency).round()
    frame["ctv_frequency"] = frequency
    frame["ctv_spend"] = frame["social_spend"]
    return frame, FrameSpec(
        kpi="conversions",
        kpi_type="non_revenue",
        controls=("avg_price",),
        media=("tv_impressions", "paid_search_impressions"),
        media_spend=("tv_spend", "paid_search_spend"),
        media_channels=("TV", "Paid Search"),
        reach=("ctv_reach",),
        frequency=("ctv_frequency",),
        rf_spend=("ctv_spend",),
        rf_channels=("Connected TV",),
    )


def geo_organic_non_media() -> tuple[pd.DataFrame, FrameSpec]:
    frame = _base(GEOS3, seed=12)
    rng = np.random.default_rng(6)
    frame["newsletter_sends"] = rng.poisson(20000, len(frame)).astype(float)
    return frame, FrameSpec(
        kpi="conversions",
        kpi_type="non_revenue",
        revenue_per_kpi="revenue_per_conversion",
        controls=("avg_price",),
        media=("tv_impressions", "paid_search_impressions"),
        media_spend=("tv_spend", "paid_search_spend"),
        media_channels=("TV", "Paid Search"),
        organic_media=("newsletter_sends",),
        organic_channels=("Newsletter",),
        non_media_treatments=("promotion",),
    )


SHAPES = {
    "national_revenue": national_revenue,
    "geo_rf_no_revenue": geo_rf_no_revenue,
    "geo_organic_non_media": geo_organic_non_media,
}


def fingerprint(plan: SamplingPlan = PLAN) -> str:
    """Changes whenever the simulated data, the fitting code or the sampling plan do."""
    source = inspect.getsource(simulate) + inspect.getsource(fitting) + inspect.getsource(inspect.getmodule(_base))
    return hashlib.sha256((source + repr(dataclasses.asdict(plan))).encode()).hexdigest()[:12]


def fitted_model_path(shape: str, cache_root: Path) -> Path:
    """Fit `shape` unless a model from the same code and plan is already on disk."""
    models = cache_root / "shape-models"
    path = models / f"{shape}-{fingerprint()}.pkl"
    if not path.exists():
        frame, spec = SHAPES[shape]()
        mmm = fitting.fit_model(frame, spec, PLAN)
        fitting.save_model(mmm, path)
    return path


# Far too short for the sampler to mix: Meridian's convergence check must fail on it.
UNCONVERGED_PLAN = SamplingPlan(chains=2, adapt=5, burnin=0, keep=12, prior_draws=12, seed=5)


def unconverged_model_path(cache_root: Path) -> Path:
    """A national revenue model sampled far too briefly to converge, fitted once and cached."""
    path = cache_root / "shape-models" / f"unconverged-{fingerprint(UNCONVERGED_PLAN)}.pkl"
    if not path.exists():
        frame, spec = national_revenue()
        fitting.save_model(fitting.fit_model(frame, spec, UNCONVERGED_PLAN), path)
    return path
