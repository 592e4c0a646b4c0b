"""Fitting Meridian on a data frame: the one place the demo (and test) models are built."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

Progress = Callable[[str], None]


@dataclasses.dataclass(frozen=True)
class FrameSpec:
    """Which columns of a frame feed which Meridian input; empty tuples mean 'none'."""

    kpi: str
    kpi_type: str  # "revenue" or "non_revenue"
    revenue_per_kpi: str | None = None
    controls: tuple[str, ...] = ()
    media: tuple[str, ...] = ()
    media_spend: tuple[str, ...] = ()
    media_channels: tuple[str, ...] = ()
    reach: tuple[str, ...] = ()
    frequency: tuple[str, ...] = ()
    rf_spend: tuple[str, ...] = ()
    rf_channels: tuple[str, ...] = ()
    organic_media: tuple[str, ...] = ()
    organic_channels: tuple[str, ...] = ()
    non_media_treatments: tuple[str, ...] = ()
    national: bool = False


@dataclasses.dataclass(frozen=True)
class SamplingPlan:
    chains: int = 2
    adapt: int = 200
    burnin: int = 100
    keep: int = 200
    prior_draws: int = 200
    seed: int = 1
    max_lag: int = 8


def build_input_data(frame: pd.DataFrame, spec: FrameSpec):
    """InputData through Meridian's DataFrameInputDataBuilder."""
    from meridian.data import data_frame_input_data_builder as dfb

    df = frame.drop(columns=["geo"]) if spec.national and "geo" in frame else frame
    builder = dfb.DataFrameInputDataBuilder(kpi_type=spec.kpi_type).with_kpi(df, kpi_col=spec.kpi)
    if not spec.national:
        builder = builder.with_population(df)
    if spec.revenue_per_kpi:
        builder = builder.with_revenue_per_kpi(df, revenue_per_kpi_col=spec.revenue_per_kpi)
    if spec.controls:
        builder = builder.with_controls(df, control_cols=list(spec.controls))
    if spec.media:
        builder = builder.with_media(df, list(spec.media), list(spec.media_spend), list(spec.media_channels))
    if spec.reach:
        builder = builder.with_reach(
            df, list(spec.reach), list(spec.frequency), list(spec.rf_spend), list(spec.rf_channels)
        )
    if spec.organic_media:
        builder = builder.with_organic_media(
            df, list(spec.organic_media), organic_media_channels=list(spec.organic_channels)
        )
    if spec.non_media_treatments:
        builder = builder.with_non_media_treatments(df, non_media_treatment_cols=list(spec.non_media_treatments))
    return builder.build()


def fit_model(
    frame: pd.DataFrame,
    spec: FrameSpec,
    plan: SamplingPlan,
    progress: Progress = lambda _msg: None,
    model_spec_kwargs: dict | None = None,
):
    """Fit Meridian (prior and posterior sampling), reporting each stage and its elapsed time."""
    start = time.perf_counter()

    def stage(msg: str) -> None:
        progress(f"[{time.perf_counter() - start:6.1f}s] {msg}")

    stage("importing Meridian and TensorFlow")
    from meridian.model import model
    from meridian.model import spec as meridian_spec

    stage("building InputData")
    data = build_input_data(frame, spec)
    kwargs = {"max_lag": plan.max_lag, **(model_spec_kwargs or {})}
    mmm = model.Meridian(input_data=data, model_spec=meridian_spec.ModelSpec(**kwargs))
    stage(f"sampling prior ({plan.prior_draws} draws)")
    mmm.sample_prior(plan.prior_draws, seed=plan.seed)
    stage(f"sampling posterior ({plan.chains} chains x {plan.keep} draws, {plan.adapt} adapt + {plan.burnin} burn-in)")
    mmm.sample_posterior(
        n_chains=plan.chains, n_adapt=plan.adapt, n_burnin=plan.burnin, n_keep=plan.keep, seed=plan.seed
    )
    stage("sampling done")
    return mmm


def save_model(mmm, path: Path) -> None:
    """Pickle with Meridian's own save_mmm, written atomically so a crash never leaves half a file."""
    import warnings

    from meridian.model import model

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        model.save_mmm(mmm, str(tmp))
    tmp.replace(path)


def demo_frame_spec(
    channel_cols: Sequence[Sequence[str]],
    controls: Sequence[str],
    rf_cols: Sequence[Sequence[str]] = ((), (), (), ()),
) -> FrameSpec:
    """The demo's inputs; `rf_cols` (reach, frequency, spend columns, names) adds R&F channels."""
    media, spend, names = channel_cols
    reach, frequency, rf_spend, rf_names = rf_cols
    return FrameSpec(
        kpi="conversions",
        kpi_type="non_revenue",
        revenue_per_kpi="revenue_per_conversion",
        controls=tuple(controls),
        media=tuple(media),
        media_spend=tuple(spend),
        media_channels=tuple(names),
        reach=tuple(reach),
        frequency=tuple(frequency),
        rf_spend=tuple(rf_spend),
        rf_channels=tuple(rf_names),
    )
