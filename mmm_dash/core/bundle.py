"""The analysis bundle: everything pages and exports need from one model, as plain data.

Built once per model file by `mmm_dash.builder.meridian.bundle_builder` (the only code that runs Meridian),
then read by the web process without importing Meridian or TensorFlow.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

# Bump when the shape of the bundle changes: cached bundles of older versions are rebuilt.
BUNDLE_SCHEMA_VERSION = 4

STATS = ("mean", "median", "ci_lo", "ci_hi")
UNCERTAIN_METRICS = ("incremental_outcome", "pct_of_contribution", "roi", "mroi", "effectiveness", "cpik")
TOTAL_CHANNEL = "All Paid Channels"
BUDGET_FACTORS = (0.8, 1.0, 1.2)
CONFIDENCE = 0.9  # credible-interval level of every interval the app shows or exports
DEFAULT_BOUND = 0.3  # optimizer bounds: +-30% of each channel's spend, as Meridian's fixed-budget default


@dataclasses.dataclass(frozen=True)
class Period:
    key: str  # URL value: "all", "2024", "last52"
    label: str
    start: str  # first week, yyyy-mm-dd
    end: str  # last week, yyyy-mm-dd
    n_times: int


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    name: str
    file_name: str
    sha256: str
    meridian_version: str
    kpi_name: str
    kpi_type: str  # "revenue" or "non_revenue"
    has_revenue: bool  # outcome measured in revenue (revenue KPI, or KPI x revenue_per_kpi)
    is_national: bool
    n_geos: int
    time_start: str
    time_end: str
    n_times: int
    media_channels: tuple[str, ...]
    rf_channels: tuple[str, ...]
    organic_media_channels: tuple[str, ...]
    organic_rf_channels: tuple[str, ...]
    non_media_channels: tuple[str, ...]
    control_names: tuple[str, ...]
    n_chains: int
    n_draws: int

    @property
    def paid_channels(self) -> tuple[str, ...]:
        """Media then reach-and-frequency channels: the ones with spend."""
        return self.media_channels + self.rf_channels

    @property
    def outcome_label(self) -> str:
        """What incremental outcome is measured in: revenue, or the KPI's name."""
        return "revenue" if self.has_revenue else self.kpi_name

    @property
    def roi_label(self) -> str:
        """'ROI' for revenue models, else the KPI per unit of spend."""
        return "ROI" if self.has_revenue else f"{self.kpi_name} per unit of spend"

    @property
    def geography_label(self) -> str:
        """'national' or 'N geos', wherever the model's geography is named."""
        return "national" if self.is_national else f"{self.n_geos} geos"


@dataclasses.dataclass(frozen=True)
class CurveSet:
    """Response curves on a spend-multiplier grid, per posterior draw and summarised by Meridian."""

    channels: tuple[str, ...]
    multipliers: np.ndarray  # (M,), from 0 to 2
    historical_spend: np.ndarray  # (C,)
    draws: np.ndarray  # (S, C, M): incremental outcome of each posterior draw (chains x draws flattened)
    mean: np.ndarray  # (C, M)
    ci_lo: np.ndarray  # (C, M)
    ci_hi: np.ndarray  # (C, M)

    def spend_grid(self) -> np.ndarray:
        """(C, M) spend at each grid point."""
        return self.historical_spend[:, None] * self.multipliers[None, :]

    def frame(self) -> pd.DataFrame:
        """Long table: channel, spend_multiplier, spend, mean, ci_lo, ci_hi."""
        spend = self.spend_grid()
        rows = []
        for i, ch in enumerate(self.channels):
            rows.append(
                pd.DataFrame(
                    {
                        "channel": ch,
                        "spend_multiplier": self.multipliers,
                        "spend": spend[i],
                        "mean": self.mean[i],
                        "ci_lo": self.ci_lo[i],
                        "ci_hi": self.ci_hi[i],
                    }
                )
            )
        return pd.concat(rows, ignore_index=True)


@dataclasses.dataclass(frozen=True)
class OptimizationResult:
    """One run of Meridian's BudgetOptimizer (fixed budget, default +-DEFAULT_BOUND bounds)."""

    budget_factor: float
    budget: float
    channels: tuple[str, ...]
    historical_spend: np.ndarray  # (C,) the non-optimised allocation at this budget
    optimal_spend: np.ndarray  # (C,)
    lower_bound: np.ndarray  # (C,)
    upper_bound: np.ndarray  # (C,)
    nonoptimized_outcome: np.ndarray  # (C,) mean incremental outcome
    optimal_outcome: np.ndarray  # (C,) mean incremental outcome
    meridian_seconds: float

    @property
    def total_optimal_outcome(self) -> float:
        """Expected incremental outcome of the optimal allocation, all channels."""
        return float(self.optimal_outcome.sum())

    @property
    def total_nonoptimized_outcome(self) -> float:
        """Expected incremental outcome of the historical allocation, all channels."""
        return float(self.nonoptimized_outcome.sum())


@dataclasses.dataclass(frozen=True)
class PeriodAnalysis:
    period: Period
    channels: pd.DataFrame  # index: paid channels + TOTAL_CHANNEL; see `tables.metric_columns`
    non_paid: pd.DataFrame  # index: organic and non-media channels (may be empty)
    baseline: dict[str, float]  # incremental_outcome_* and pct_of_contribution_*
    total_actual_outcome: float
    fit: dict[str, float]  # r_squared, mape, wmape (national level)
    curves: CurveSet
    optimizations: dict[float, OptimizationResult]
    optimal_frequency: pd.DataFrame  # rf channels: optimal_frequency, roi at it (may be empty)
    roi_draws: np.ndarray  # (S, C) Meridian's per-draw ROI, for probabilities such as P(ROI > 1)
    mroi_draws: np.ndarray  # (S, C) Meridian's per-draw marginal ROI

    def channel_table(self) -> pd.DataFrame:
        """Per-channel metrics without the paid total row."""
        return self.channels.drop(index=TOTAL_CHANNEL, errors="ignore")

    def total(self) -> pd.Series:
        """The paid total row."""
        return self.channels.loc[TOTAL_CHANNEL]

    def prob_roi_above(self, channel: str, threshold: float = 1.0) -> float:
        """Posterior probability that the channel's ROI exceeds `threshold`."""
        return float((self.roi_draws[:, self.curves.channels.index(channel)] > threshold).mean())

    def prob_mroi_above(self, channel: str, threshold: float = 1.0) -> float:
        """Posterior probability that the channel's marginal ROI exceeds `threshold`."""
        return float((self.mroi_draws[:, self.curves.channels.index(channel)] > threshold).mean())


@dataclasses.dataclass(frozen=True)
class Bundle:
    schema_version: int
    info: ModelInfo
    periods: dict[str, PeriodAnalysis]  # ordered: "all" first
    over_time: pd.DataFrame  # time, expected_mean, expected_ci_lo, expected_ci_hi, baseline_mean, actual
    contribution_over_time: pd.DataFrame  # index time, one column per paid channel (mean)
    rhat: pd.DataFrame  # Meridian's rhat_summary
    hill_curves: pd.DataFrame
    adstock_decay: pd.DataFrame
    timings: dict[str, float]

    def period(self, key: str) -> PeriodAnalysis:
        """The analysis of one period; UnknownPeriodError names the known keys."""
        try:
            return self.periods[key]
        except KeyError:
            raise UnknownPeriodError(key, tuple(self.periods)) from None


class UnknownPeriodError(KeyError):
    def __init__(self, key: str, known: tuple[str, ...]):
        super().__init__(key)
        self.key, self.known = key, known

    def __str__(self) -> str:
        return f"Unknown period {self.key!r}; choose one of: {', '.join(self.known)}."


def periods_for(times: list[str]) -> list[Period]:
    """Whole range, each calendar year present, and the last 52 periods (weeks)."""
    ts = pd.to_datetime(pd.Series(times))
    out = [Period("all", f"Whole range ({times[0]} – {times[-1]})", times[0], times[-1], len(times))]
    for year in sorted(ts.dt.year.unique()):
        sel = [t for t, y in zip(times, ts.dt.year, strict=True) if y == year]
        out.append(Period(str(year), f"{year}", sel[0], sel[-1], len(sel)))
    if len(times) > 52:
        last = times[-52:]
        out.append(Period("last52", f"Last 52 weeks ({last[0]} – {last[-1]})", last[0], last[-1], 52))
    return out


def period_times(times: list[str], period: Period) -> list[str]:
    """The times of `times` that fall inside `period`."""
    return [t for t in times if period.start <= t <= period.end]
