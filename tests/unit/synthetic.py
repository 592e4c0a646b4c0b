"""Small hand-made periods and bundles with known answers, for rules that must hold on any model.
No Meridian and no built bundle: `make_bundle(**kwargs)` is what unit tests use instead of the demo."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from mmm_dash.core.bundle import (
    BUNDLE_SCHEMA_VERSION,
    TOTAL_CHANNEL,
    Bundle,
    CurveSet,
    ModelInfo,
    OptimizationResult,
    Period,
    PeriodAnalysis,
)

MULTIPLIERS = np.round(np.linspace(0, 2, 41), 4)
CHANNELS = ("Strong", "Saturated", "Loser", "Noisy")
WHOLE_RANGE = Period("all", "Whole range", "2024-01-01", "2024-12-23", 52)


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
        n_draws=200,
    )
    return dataclasses.replace(base, **fields)


def period_analysis(
    roi_draws: np.ndarray, mroi_draws: np.ndarray, curves: CurveSet, period: Period = WHOLE_RANGE
) -> PeriodAnalysis:
    """A period whose channel table summarises the given ROI and mROI draws."""
    channels = list(curves.channels)
    spend = curves.historical_spend
    rows = {}
    for i, ch in enumerate(channels):
        r, m = roi_draws[:, i], mroi_draws[:, i]
        io = r * spend[i]
        rows[ch] = {
            "spend": spend[i],
            "pct_of_spend": spend[i] / spend.sum() * 100,
            "impressions": spend[i] * 100,
            **{
                f"roi_{k}": v
                for k, v in zip(
                    ("mean", "median", "ci_lo", "ci_hi"),
                    (r.mean(), np.median(r), *np.quantile(r, [0.05, 0.95])),
                    strict=True,
                )
            },
            **{
                f"mroi_{k}": v
                for k, v in zip(
                    ("mean", "median", "ci_lo", "ci_hi"),
                    (m.mean(), np.median(m), *np.quantile(m, [0.05, 0.95])),
                    strict=True,
                )
            },
            **{
                f"incremental_outcome_{k}": v
                for k, v in zip(
                    ("mean", "median", "ci_lo", "ci_hi"),
                    (io.mean(), np.median(io), *np.quantile(io, [0.05, 0.95])),
                    strict=True,
                )
            },
            "pct_of_contribution_mean": 5.0,
            "pct_of_contribution_median": 5.0,
            "pct_of_contribution_ci_lo": 4.0,
            "pct_of_contribution_ci_hi": 6.0,
            "effectiveness_mean": 0.01,
            "cpik_mean": 1 / max(r.mean(), 1e-9),
            "cpik_ci_lo": 0.5,
            "cpik_ci_hi": 2.0,
            "cpik_median": 1.0,
            "effectiveness_median": 0.01,
            "effectiveness_ci_lo": 0.005,
            "effectiveness_ci_hi": 0.02,
        }
    table = pd.DataFrame(rows).T
    total_roi = (roi_draws * spend).sum(1) / spend.sum()
    table.loc[TOTAL_CHANNEL] = {
        **{c: np.nan for c in table.columns},
        "spend": spend.sum(),
        "pct_of_spend": 100.0,
        "roi_mean": total_roi.mean(),
        "roi_ci_lo": np.quantile(total_roi, 0.05),
        "roi_ci_hi": np.quantile(total_roi, 0.95),
        "incremental_outcome_mean": (roi_draws * spend).sum(1).mean(),
        "pct_of_contribution_mean": 20.0,
        "pct_of_contribution_ci_lo": 15.0,
        "pct_of_contribution_ci_hi": 25.0,
        "cpik_mean": 1.0,
    }
    table = table.astype(float)
    hist = spend
    opt = OptimizationResult(
        budget_factor=1.0,
        budget=float(hist.sum()),
        channels=tuple(channels),
        historical_spend=hist,
        optimal_spend=hist * np.array([1.3, 0.9, 0.7, 1.1]),
        lower_bound=hist * 0.7,
        upper_bound=hist * 1.3,
        nonoptimized_outcome=np.array([4.0, 2.0, 0.5, 1.0]),
        optimal_outcome=np.array([5.0, 1.9, 0.4, 1.05]),
        meridian_seconds=1.0,
    )
    return PeriodAnalysis(
        period=period,
        channels=table,
        non_paid=pd.DataFrame(),
        baseline={
            f"{m}_{s}": v
            for m, base in (("incremental_outcome", 100.0), ("pct_of_contribution", 80.0))
            for s, v in zip(("mean", "median", "ci_lo", "ci_hi"), (base, base, base * 0.9, base * 1.1), strict=True)
        },
        total_actual_outcome=120.0,
        fit={"r_squared": 0.9, "mape": 0.05, "wmape": 0.05},
        curves=curves,
        optimizations={1.0: opt},
        optimal_frequency=pd.DataFrame(),
        roi_draws=roi_draws,
        mroi_draws=mroi_draws,
    )


def four_channel_case(seed=1, period: Period = WHOLE_RANGE) -> PeriodAnalysis:
    """Strong (ROI ~3, mROI ~1.6), Saturated (ROI ~1.5, mROI ~0.5), Loser (ROI ~0.5), Noisy (wide ROI)."""
    rng = np.random.default_rng(seed)
    n = 400
    roi = np.column_stack(
        [rng.normal(3, 0.3, n), rng.normal(1.5, 0.1, n), rng.normal(0.5, 0.1, n), rng.lognormal(0, 0.9, n)]
    )
    mroi = np.column_stack(
        [rng.normal(1.6, 0.2, n), rng.normal(0.5, 0.1, n), rng.normal(0.3, 0.1, n), rng.lognormal(-0.5, 0.9, n)]
    )
    curves = curve_set(
        CHANNELS,
        [100.0, 100.0, 100.0, 100.0],
        [(600, 1.0), (250, 0.3), (80, 0.5), (150, 1.0)],
    )
    return period_analysis(roi, mroi, curves, period)


def make_bundle(*, periods=(WHOLE_RANGE,), seed: int = 1, timings=None, **info_fields) -> Bundle:
    """A whole bundle of the four-channel case: one analysis per period (the first is the whole
    range), weekly series over it, diagnostics frames; `info_fields` override ModelInfo fields."""
    model = info(**info_fields)
    analyses = {p.key: four_channel_case(seed=seed + i, period=p) for i, p in enumerate(periods)}
    whole = periods[0]
    times = [str(t.date()) for t in pd.date_range(whole.start, periods=whole.n_times, freq="7D")]
    rng = np.random.default_rng(seed)
    expected = 100.0 + 10 * np.sin(np.arange(len(times)) / 4)
    over_time = pd.DataFrame(
        {
            "time": times,
            "expected_mean": expected,
            "expected_ci_lo": expected * 0.95,
            "expected_ci_hi": expected * 1.05,
            "baseline_mean": expected * 0.8,
            "actual": expected * rng.normal(1, 0.02, len(times)),
        }
    )
    contribution = pd.DataFrame(
        {ch: expected * share for ch, share in zip(CHANNELS, (0.08, 0.06, 0.02, 0.04), strict=True)},
        index=pd.Index(times, name="time"),
    )
    rhat = pd.DataFrame(
        {
            "param": ["alpha_m", "beta_m", "ec_m"],
            "n_params": [4.0, 4.0, 4.0],
            "avg_r_hat": [1.0, 1.01, 1.0],
            "max_r_hat": [1.01, 1.03, 1.02],
            "percent_bad_r_hat": [0.0, 0.0, 0.0],
            "row_idx_bad_r_hat": [[], [], []],
            "col_idx_bad_r_hat": [[], [], []],
        }
    )
    units = np.linspace(0, 2, 11)
    hill_curves = pd.DataFrame(
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
    lags = np.linspace(0, 8, 9)
    adstock_decay = pd.DataFrame(
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
    return Bundle(
        schema_version=BUNDLE_SCHEMA_VERSION,
        info=dataclasses.replace(model, time_start=times[0], time_end=times[-1], n_times=len(times)),
        periods=analyses,
        over_time=over_time,
        contribution_over_time=contribution,
        rhat=rhat,
        hill_curves=hill_curves,
        adstock_decay=adstock_decay,
        timings=timings or {"build_seconds": 1.0, "meridian_seconds": 0.5},
    )
