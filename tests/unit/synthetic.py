"""Small hand-made bundles with known answers, for rules that must hold on any model.
No Meridian and no built bundle: `make_bundle(**kwargs)` is what unit tests use instead of the demo.

The per-draw cubes are built so that every window has the same per-draw ROI and mROI (outcome =
ROI draw x the week's spend), which makes windows and geos easy to check by hand."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from mmm_dash.core.bundle import (
    BUNDLE_SCHEMA_VERSION,
    MARGINAL_INCREASE,
    Bundle,
    Cube,
    CurveSet,
    ModelInfo,
    OutcomeDraws,
    RoiPrior,
)
from mmm_dash.core.windows import CURVE_KINDS, presets_for

MULTIPLIERS = np.round(np.linspace(0, 2, 41), 4)
CHANNELS = ("Strong", "Saturated", "Loser", "Noisy")
CURVE_SHAPES = [(600, 1.0), (250, 0.3), (80, 0.5), (150, 1.0)]  # (outcome at saturation, half point) per 100 spend
N_DRAWS = 400


def hill_curve(scale: float, half: float, slope: float = 1.0) -> np.ndarray:
    """Outcome on the multiplier grid of a Hill curve reaching `scale`, half of it at multiplier `half`."""
    x = MULTIPLIERS
    return scale * x**slope / (x**slope + half**slope)


def curve_set(channels, spend, shapes, n_draws=200, noise=0.05, seed=0) -> CurveSet:
    """Per-draw curves scattered (lognormal `noise`) around one Hill curve per channel."""
    rng = np.random.default_rng(seed)
    mean = np.stack([hill_curve(*s) for s in shapes])  # (C, M)
    draws = mean[None] * rng.lognormal(0, noise, (n_draws, len(channels), 1))
    return CurveSet(
        channels=tuple(channels),
        multipliers=MULTIPLIERS.astype(float),
        historical_spend=np.asarray(spend, dtype=float),
        draws=draws,
        mean=draws.mean(0),
        ci_lo=np.quantile(draws, 0.05, axis=0),
        ci_hi=np.quantile(draws, 0.95, axis=0),
    )


def info(has_revenue=True, **fields) -> ModelInfo:
    """A national four-channel model's info; `fields` override any ModelInfo field."""
    base = ModelInfo(
        name="synthetic",
        file_name="synthetic.pkl",
        sha256="0" * 64,
        meridian_version="2.1.0",
        kpi_name="KPI",
        kpi_type="revenue" if has_revenue else "non_revenue",
        has_revenue=has_revenue,
        is_national=True,
        n_geos=1,
        time_start="2024-01-01",
        time_end="2024-12-23",
        n_times=52,
        media_channels=CHANNELS,
        rf_channels=(),
        organic_media_channels=(),
        organic_rf_channels=(),
        non_media_channels=(),
        control_names=(),
        n_chains=1,
        n_draws=N_DRAWS,
        draws_kept=N_DRAWS,
        fit_date="2024-12-30T10:00:00+00:00",
    )
    return dataclasses.replace(base, **fields)


def channel_draws(seed: int = 1, n: int = N_DRAWS) -> tuple[np.ndarray, np.ndarray]:
    """Per-draw ROI and mROI: Strong (ROI ~3, mROI ~1.6), Saturated (ROI ~1.5, mROI ~0.5),
    Loser (ROI ~0.5), Noisy (wide ROI)."""
    rng = np.random.default_rng(seed)
    roi = np.column_stack(
        [rng.normal(3, 0.3, n), rng.normal(1.5, 0.1, n), rng.normal(0.5, 0.1, n), rng.lognormal(0, 0.9, n)]
    )
    mroi = np.column_stack(
        [rng.normal(1.6, 0.2, n), rng.normal(0.5, 0.1, n), rng.normal(0.3, 0.1, n), rng.lognormal(-0.5, 0.9, n)]
    )
    return roi, mroi


def make_bundle(
    *,
    seed: int = 1,
    n_weeks: int = 52,
    start: str = "2024-01-01",
    geos: tuple[str, ...] = (),
    roi_scale: float = 1.0,
    timings=None,
    health=None,
    revenue_per_kpi: np.ndarray | None = None,
    **info_fields,
) -> Bundle:
    """A whole bundle of the four-channel case: 100 of spend per channel over the whole range, spread
    over weeks (and geos: the first gets half), outcome = the draw's ROI x each week's spend;
    `info_fields` override ModelInfo fields. With `revenue_per_kpi` (G, T), the outcome is revenue from a
    KPI (has_revenue, kpi_type "non_revenue") and the bundle keeps the national incremental KPI as the builder does."""
    rng = np.random.default_rng(seed)
    times = [str(t.date()) for t in pd.date_range(start, periods=n_weeks, freq="7D")]
    roi, mroi = channel_draws(seed)
    roi = roi * roi_scale
    n_geo = max(1, len(geos))
    geo_weight = np.array([0.5] + [0.5 / (n_geo - 1)] * (n_geo - 1)) if n_geo > 1 else np.ones(1)
    weekly = 1 + 0.5 * np.sin(np.arange(n_weeks) / 5)
    weekly = weekly / weekly.sum()
    spend = 100.0 * geo_weight[:, None, None] * weekly[None, :, None] * np.ones((1, 1, len(CHANNELS)))  # (G, T, C)
    incremental = roi[:, None, None, :] * spend[None]  # (S, G, T, C)
    marginal = mroi[:, None, None, :] * MARGINAL_INCREASE * spend[None]
    level = 1000.0 / n_weeks * geo_weight[:, None] * np.ones((1, n_weeks))  # (G, T)
    baseline = level[None] * rng.lognormal(0, 0.02, (N_DRAWS, 1, 1))
    expected = baseline + incremental.sum(axis=-1)
    actual = expected.mean(axis=0) * rng.normal(1, 0.02, level.shape)
    arrays = {
        "incremental": incremental,
        "marginal": marginal,
        "expected": expected[..., None],
        "baseline": baseline[..., None],
    }
    national = {k: Cube.plain(v.sum(axis=1, keepdims=True)) for k, v in arrays.items()}
    by_geo = {k: Cube.quantized(v) for k, v in arrays.items()} if geos else {}
    if revenue_per_kpi is not None:
        national["incremental_kpi"] = Cube.plain(
            (incremental / revenue_per_kpi[None, :, :, None]).sum(1, keepdims=True)
        )
        info_fields = {"has_revenue": True, "kpi_type": "non_revenue", "kpi_name": "conversions", **info_fields}
    draws = OutcomeDraws(
        times=tuple(times),
        geos=geos or ("national",),
        channels=CHANNELS,
        non_paid=(),
        national=national,
        by_geo=by_geo,
        spend=spend,
        impressions=spend * 100,
        non_paid_impressions=np.zeros((n_geo, n_weeks, 0)),
        actual=actual,
        expected_mean=expected.mean(axis=0),
        revenue_per_kpi=revenue_per_kpi,
    )
    presets = presets_for(times)
    curves = {}
    for p in presets:
        if p.kind not in CURVE_KINDS:
            continue
        share = spend[:, draws.time_index(p.start, p.end)].sum(axis=(0, 1)) / 100.0
        base = curve_set(CHANNELS, 100.0 * share, [(s * share[i], h) for i, (s, h) in enumerate(CURVE_SHAPES)])
        curves[p.key] = base
    model = info(
        **{
            "time_start": times[0],
            "time_end": times[-1],
            "n_times": n_weeks,
            "is_national": not geos,
            "n_geos": n_geo,
            "geos": tuple(geos),
            **info_fields,
        }
    )
    timings = timings or {"build_seconds": 1.0, "meridian_seconds": 0.5, "steps": {"outcome draws": 0.2}}
    return _bundle(model, draws, presets, curves, health, timings)


def four_channel_case(seed: int = 1, **bundle_fields):
    """The whole-range analysis of `make_bundle(seed=seed)`."""
    return make_bundle(seed=seed, **bundle_fields).period("all")


def _bundle(model, draws, presets, curves, health, timings) -> Bundle:
    """A bundle around synthetic draws and curves, with the fixed diagnostics tables below."""
    return Bundle(
        schema_version=BUNDLE_SCHEMA_VERSION,
        info=model,
        draws=draws,
        presets={p.key: p for p in presets},
        curves=curves,
        optimal_frequency={},
        rhat=_rhat(),
        hill_curves=_hill_curves(),
        adstock_decay=_adstock_decay(),
        health=health,
        timings=timings,
        roi_prior=roi_prior(),
    )


def roi_prior(n: int = 300, seed: int = 2) -> RoiPrior:
    """Meridian's default ROI prior, LogNormal(0.2, 0.9), drawn for every channel."""
    draws = np.random.default_rng(seed).lognormal(0.2, 0.9, (n, len(CHANNELS)))
    return RoiPrior(channels=CHANNELS, draws=draws.astype(np.float32))


def _rhat() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "param": ["alpha_m", "beta_m", "ec_m"],
            "n_params": [4.0, 4.0, 4.0],
            "avg_r_hat": [1.0, 1.01, 1.0],
            "max_r_hat": [1.01, 1.03, 1.02],
            "percent_bad_r_hat": [0.0, 0.0, 0.0],
            "row_idx_bad_r_hat": [[], [], []],
            "col_idx_bad_r_hat": [[], [], []],
            "min_ess": [320.0, 280.0, 300.0],
        }
    )


def _hill_curves() -> pd.DataFrame:
    units = np.linspace(0, 2, 11)
    return pd.DataFrame(
        [
            {
                "channel": ch,
                "media_units": u,
                "distribution": dist,
                "mean": m,
                "ci_lo": m * 0.9,
                "ci_hi": m * 1.1,
                "channel_type": "media",
            }
            for ch in CHANNELS
            for u in units
            for dist, m in (("posterior", u / (u + 0.5)), ("prior", u / (u + 1.0)))
        ]
    )


def _adstock_decay() -> pd.DataFrame:
    lags = np.linspace(0, 8, 9)
    return pd.DataFrame(
        [
            {
                "channel": ch,
                "time_units": t,
                "distribution": dist,
                "mean": m,
                "ci_lo": m * 0.9,
                "ci_hi": min(1.0, m * 1.1),
                "is_int_time_unit": True,
            }
            for ch in CHANNELS
            for t in lags
            for dist, m in (("posterior", 0.6**t), ("prior", 0.5**t))
        ]
    )


def sized_bundle(n_geos: int, n_weeks: int, n_channels: int, n_chains: int, n_draws: int) -> Bundle:
    """A bundle with the array shapes (and dtypes) the builder gives a geo model of this size, for the
    size budget: the draws `draws_to_keep` keeps, every preset's curves, a KPI with revenue per KPI
    (the case with the most cubes). Values are constant: a pickle's size does not depend on them."""
    from mmm_dash.core.draw_budget import SPEND_MULTIPLIERS, draws_to_keep

    times = tuple(str(t.date()) for t in pd.date_range("2023-01-02", periods=n_weeks, freq="7D"))
    geos = tuple(f"Region {i + 1:02d}" for i in range(n_geos))
    channels = tuple(f"Channel {i + 1}" for i in range(n_channels))
    presets = presets_for(times)
    curve_presets = [p for p in presets if p.kind in CURVE_KINDS]
    model = info(
        has_revenue=True,
        kpi_type="non_revenue",
        is_national=False,
        n_geos=n_geos,
        geos=geos,
        n_times=n_weeks,
        time_start=times[0],
        time_end=times[-1],
        media_channels=channels,
        n_chains=n_chains,
        n_draws=n_draws,
    )
    s = len(draws_to_keep(model, len(curve_presets)))
    model = dataclasses.replace(model, draws_kept=s)
    g, t, c, m = n_geos, n_weeks, n_channels, len(SPEND_MULTIPLIERS)
    widths = {"incremental": c, "marginal": c, "expected": 1, "baseline": 1}
    national = {k: Cube(np.full((s, 1, t, k_), 1.0, dtype=np.float32)) for k, k_ in widths.items()}
    national["incremental_kpi"] = Cube(np.full((s, 1, t, c), 1.0, dtype=np.float32))
    by_geo = {
        k: Cube(np.full((s, g, t, k_), 0.5, dtype=np.float16), np.ones((g, k_), dtype=np.float32))
        for k, k_ in widths.items()
    }
    per_geo_week = np.full((g, t), 1.0)
    draws = OutcomeDraws(
        times=times,
        geos=geos,
        channels=channels,
        non_paid=(),
        national=national,
        by_geo=by_geo,
        spend=np.full((g, t, c), 1.0),
        impressions=np.full((g, t, c), 1000.0),
        non_paid_impressions=np.zeros((g, t, 0)),
        actual=per_geo_week * 2.0,
        expected_mean=per_geo_week * 2.0,
        revenue_per_kpi=per_geo_week * 60.0,
    )
    curves = {  # arrays of their own: pickle stores an array shared by several curves once
        p.key: CurveSet(
            channels,
            SPEND_MULTIPLIERS.astype(float),
            np.ones(c),
            np.full((s, c, m), 1.0, dtype=np.float32),
            np.ones((c, m)),
            np.ones((c, m)),
            np.ones((c, m)),
        )
        for p in curve_presets
    }
    return _bundle(model, draws, presets, curves, None, {"build_seconds": 1.0, "meridian_seconds": 0.5, "steps": {}})
