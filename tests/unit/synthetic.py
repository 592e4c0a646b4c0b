"""Small hand-made periods with known answers, for rules that must hold on any model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mmm_dash.core.bundle import (
    TOTAL_CHANNEL,
    CurveSet,
    ModelInfo,
    OptimizationResult,
    Period,
    PeriodAnalysis,
)

MULTIPLIERS = np.round(np.linspace(0, 2, 41), 4)


def hill_curve(scale: float, half: float, slope: float = 1.0) -> np.ndarray:
    x = MULTIPLIERS
    return scale * x**slope / (x**slope + half**slope)


def curve_set(channels, spend, shapes, n_draws=200, noise=0.05, seed=0) -> CurveSet:
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


def info(has_revenue=True) -> ModelInfo:
    return ModelInfo(
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
        media_channels=("Strong", "Saturated", "Loser", "Noisy"),
        rf_channels=(),
        organic_media_channels=(),
        organic_rf_channels=(),
        non_media_channels=(),
        control_names=(),
        n_chains=1,
        n_draws=200,
    )


def period_analysis(roi_draws: np.ndarray, mroi_draws: np.ndarray, curves: CurveSet) -> PeriodAnalysis:
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
        period=Period("all", "Whole range", "2024-01-01", "2024-12-23", 52),
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


def four_channel_case(seed=1) -> PeriodAnalysis:
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
        ["Strong", "Saturated", "Loser", "Noisy"],
        [100.0, 100.0, 100.0, 100.0],
        [(600, 1.0), (250, 0.3), (80, 0.5), (150, 1.0)],
    )
    return period_analysis(roi, mroi, curves)
