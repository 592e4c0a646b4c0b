"""The analysis bundle: everything pages and exports need from one model, as plain data.

Built once per model file by `mmm_dash.builder.meridian.bundle_builder` (the only code that runs Meridian),
then read by the web process without importing Meridian or TensorFlow.

Its heart is `OutcomeDraws`: Meridian's incremental outcome per posterior draw, geo, week and channel
(and the expected and baseline outcome the same way). Meridian's incremental outcome, ROI and mROI
for a set of weeks are sums over those weeks, so `core.windows` answers any range of whole weeks and
any geo from them, without Meridian. Response curves are kept per draw for the preset periods.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mmm_dash.core.lru import LRU

if TYPE_CHECKING:
    from mmm_dash.core.health import HealthReview

# Bump when the shape of the bundle changes: cached bundles of older versions are rebuilt.
BUNDLE_SCHEMA_VERSION = 8

STATS = ("mean", "median", "ci_lo", "ci_hi")
UNCERTAIN_METRICS = ("incremental_outcome", "pct_of_contribution", "roi", "mroi", "effectiveness", "cpik")
TOTAL_CHANNEL = "All Paid Channels"
CONFIDENCE = 0.9  # credible-interval level of every interval the app shows or exports
DEFAULT_BOUND = 0.3  # optimizer bounds: +-30% of each channel's spend, as Meridian's fixed-budget default
MARGINAL_INCREASE = 0.01  # Meridian's mROI: outcome of 1% more spend, per unit of that 1%
WINDOW_MEMO_SIZE = 64  # window analyses kept per bundle in each process


@dataclasses.dataclass(frozen=True)
class Period:
    """A range of whole weeks: a preset (whole range, a year, a quarter, ...) or one an analyst chose."""

    key: str  # URL value: "all", "2024", "last52", "2024-q1", "2024-03", "ytd", "ytd-prior", "2024-01-01..2024-03-25"
    label: str
    start: str  # first week, yyyy-mm-dd
    end: str  # last week, yyyy-mm-dd
    n_times: int
    kind: str = "range"  # all, year, last52, quarter, month, ytd, ytd-prior, range


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    name: str  # the model (a file's stem, or the folder holding its versions)
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
    version: str = ""  # the version's label when the model has several (see builder.discovery)
    fit_date: str = ""  # when the posterior was sampled (ArviZ's created_at), ISO 8601 UTC, or ""
    geos: tuple[str, ...] = ()  # geo names of a geo model; () for a national one
    draws_kept: int = 0  # posterior draws the bundle keeps (all of them unless thinned to fit its budget)
    # Meridian's ModelSpec as plain text, for "what changed in the model" (() in bundles built before it was kept):
    model_spec: tuple[tuple[str, str], ...] = ()  # (setting, value): knots, adstock, max lag, prior types, ...
    priors: tuple[tuple[str, str], ...] = ()  # (parameter, distribution): "roi_m", "LogNormal(loc=0.2, scale=0.9)"

    @property
    def paid_channels(self) -> tuple[str, ...]:
        """Media then reach-and-frequency channels: the ones with spend."""
        return self.media_channels + self.rf_channels

    @property
    def non_paid_channels(self) -> tuple[str, ...]:
        """Organic media, organic reach-and-frequency and non-media treatments: effects without spend."""
        return self.organic_media_channels + self.organic_rf_channels + self.non_media_channels

    @property
    def has_both_units(self) -> bool:
        """Outcome in revenue from a KPI with revenue per KPI: its numbers can be read in revenue or in the KPI."""
        return self.has_revenue and self.kpi_type != "revenue"

    @property
    def outcome_label(self) -> str:
        """What incremental outcome is measured in: revenue, or the KPI's name."""
        return "revenue" if self.has_revenue else self.kpi_name

    @property
    def kpi_description(self) -> str:
        """The KPI and its type, as every page, export and the report name it: 'revenue' (or 'sales
        (revenue)'), 'conversions (not revenue; valued in revenue with revenue per KPI)' or 'visits (not
        revenue; no revenue per KPI, ...)'. An unnamed KPI is 'KPI' (see the bundle builder)."""
        if self.kpi_type == "revenue":
            return "revenue" if self.kpi_name == "KPI" else f"{self.kpi_name} (revenue)"
        if self.has_revenue:
            return f"{self.kpi_name} (not revenue; valued in revenue with revenue per KPI)"
        return f"{self.kpi_name} (not revenue; no revenue per KPI, so results are counts of {self.kpi_name})"

    @property
    def roi_label(self) -> str:
        """'ROI' for revenue models, else the KPI per unit of spend."""
        return "ROI" if self.has_revenue else f"{self.kpi_name} per unit of spend"

    @property
    def geography_label(self) -> str:
        """'national' or 'N geos', wherever the model's geography is named."""
        return "national" if self.is_national else f"{self.n_geos} geos"

    @property
    def n_posterior_draws(self) -> int:
        return self.n_chains * self.n_draws


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

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "scenario_model"}  # rebuilt where used

    @functools.cached_property
    def scenario_model(self):
        """The planner's model of these curves (interpolators over every draw), built once: insights,
        the Scenarios page and the comparisons all read the same one."""
        from mmm_dash.core.scenario import ScenarioModel

        return ScenarioModel(self)

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
class Cube:
    """Per-draw values by geo, week and series, `(S, G, T, K)`.

    Plain float32, or float16 with one scale per (geo, series): float16 keeps 11 significant bits, so
    each stored value is within 2^-11 (0.05%) of the largest weekly value of its geo and series, and
    sums over weeks are closer still (rounding errors of different weeks do not add up in one direction).
    """

    values: np.ndarray  # (S, G, T, K) float32, or float16 divided by `scale`
    scale: np.ndarray | None = None  # (G, K) float32 when `values` is float16

    @classmethod
    def plain(cls, values: np.ndarray) -> Cube:
        return cls(np.ascontiguousarray(values, dtype=np.float32))

    @classmethod
    def quantized(cls, values: np.ndarray) -> Cube:
        """Float16 values with a per-(geo, series) scale; about half the bytes of float32."""
        scale = np.abs(values).max(axis=(0, 2)).astype(np.float32)  # (G, K)
        scale[scale == 0] = 1.0
        q = values / scale[None, :, None, :]
        return cls(np.ascontiguousarray(q, dtype=np.float16), scale)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.values.shape

    @property
    def nbytes(self) -> int:
        return self.values.nbytes + (0 if self.scale is None else self.scale.nbytes)

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_running"}  # rebuilt where used

    @functools.cached_property
    def _running(self) -> np.ndarray:
        """(S, T + 1, K) float64 running sums over weeks of a one-geo plain cube: any window is a difference."""
        sums = np.zeros((self.values.shape[0], self.values.shape[2] + 1, self.values.shape[3]))
        sums[:, 1:] = self.values[:, 0]
        np.cumsum(sums[:, 1:], axis=1, out=sums[:, 1:])  # in float64 already: a third of cumsum-with-cast's time
        return sums

    def window_sum(self, times: slice | np.ndarray, geo: int | None = None) -> np.ndarray:
        """(S, K) float64: the sum over the selected weeks (and geo `geo`, or all geos)."""
        if geo is None and self.scale is None and self.values.shape[1] == 1 and isinstance(times, slice):
            start, stop, _step = times.indices(self.values.shape[2])
            return self._running[:, stop] - self._running[:, start]
        values = self.values[:, :, times] if geo is None else self.values[:, geo : geo + 1, times]
        if values.dtype == np.float16:
            values = values.astype(np.float32)  # numpy sums float16 slowly; float32 holds it exactly
        sums = values.sum(axis=2, dtype=np.float64)  # (S, G', K)
        if self.scale is not None:
            scale = self.scale if geo is None else self.scale[geo : geo + 1]
            sums = sums * scale[None].astype(np.float64)
        return sums.sum(axis=1)

    def weighted_sum(self, times: slice, geo: int, weights: np.ndarray) -> np.ndarray:
        """(S, K) float64: one geo's sum over the selected weeks of each week's value times `weights` (T',)."""
        values = self.values[:, geo, times].astype(np.float32)  # (S, T', K)
        sums = np.einsum("stk,t->sk", values, weights.astype(np.float32)).astype(np.float64)
        return sums * self.scale[geo].astype(np.float64)[None] if self.scale is not None else sums

    def weekly(self, times: slice | np.ndarray, geo: int | None = None) -> np.ndarray:
        """(S, T', K) float64 per selected week, summed over geos (or geo `geo` only)."""
        values = self.values[:, :, times] if geo is None else self.values[:, geo : geo + 1, times]
        out = values.astype(np.float64)
        if self.scale is not None:
            scale = self.scale if geo is None else self.scale[geo : geo + 1]
            out = out * scale[None, :, None, :].astype(np.float64)
        return out.sum(axis=1)


@dataclasses.dataclass(frozen=True)
class OutcomeDraws:
    """Meridian's per-draw outcomes by geo and week: the source of every window and geo analysis.

    `national` cubes are summed over geos before storage (float32, G = 1); a geo model also keeps
    `by_geo` cubes (float16, see `Cube`). Keys: incremental (paid channels), marginal (paid, the
    outcome of 1% more spend in every week), non_paid, expected and baseline (K = 1), and for
    models whose outcome is revenue from a KPI, incremental_kpi (national only; by geo it is
    incremental / revenue_per_kpi).
    """

    times: tuple[str, ...]  # (T,) KPI weeks, yyyy-mm-dd
    geos: tuple[str, ...]  # (G,) geo names; ("national",) for a national model
    channels: tuple[str, ...]  # (C,) paid channels
    non_paid: tuple[str, ...]  # (N,) organic and non-media channels
    national: dict[str, Cube]
    by_geo: dict[str, Cube]  # empty for a national model
    spend: np.ndarray  # (G, T, C) float64
    impressions: np.ndarray  # (G, T, C) float64 (reach x frequency for R&F channels)
    non_paid_impressions: np.ndarray  # (G, T, N) float64 (media units, or the treatment's values)
    actual: np.ndarray  # (G, T) float64, in outcome units
    expected_mean: np.ndarray  # (G, T) float64: posterior mean of the expected outcome
    revenue_per_kpi: np.ndarray | None  # (G, T) float64 when the outcome is revenue from a KPI

    @property
    def n_draws(self) -> int:
        return self.national["incremental"].shape[0]

    def time_index(self, start: str, end: str) -> slice:
        """The weeks from `start` to `end` (inclusive) as a slice of `times`."""
        lo = int(np.searchsorted(self.times, start, side="left"))
        hi = int(np.searchsorted(self.times, end, side="right"))
        return slice(lo, hi)

    def geo_index(self, geo: str | None) -> int | None:
        return None if geo is None else self.geos.index(geo)

    def cube(self, name: str, geo: str | None) -> Cube | None:
        """The cube answering `geo` (None: all geos), or None when the bundle has no such cube."""
        return self.national.get(name) if geo is None else self.by_geo.get(name)

    @property
    def nbytes(self) -> int:
        arrays = [self.spend, self.impressions, self.non_paid_impressions, self.actual, self.expected_mean]
        if self.revenue_per_kpi is not None:
            arrays.append(self.revenue_per_kpi)
        return sum(c.nbytes for c in (*self.national.values(), *self.by_geo.values())) + sum(a.nbytes for a in arrays)


@dataclasses.dataclass(frozen=True)
class RoiPrior:
    """Meridian's prior of each paid channel's ROI (`Analyzer.roi(use_posterior=False)`): what the
    model believed before it saw the data, over the whole range and all geos, as draws. Its posterior
    counterpart is the whole range's per-draw ROI every page reads (`Bundle.period("all").roi_draws`)."""

    channels: tuple[str, ...]  # (C,) paid channels, media then R&F
    draws: np.ndarray  # (P, C) float32 prior draws of ROI (of the KPI per unit of spend for KPI models)
    sampled_by_builder: bool = False  # the model file had no prior draws: the builder sampled them


@dataclasses.dataclass(frozen=True)
class OptimizationResult:
    """One fixed-budget optimization (Meridian's BudgetOptimizer in tests and `bench`, or the planner's)."""

    budget_factor: float
    budget: float
    channels: tuple[str, ...]
    historical_spend: np.ndarray  # (C,) the non-optimised allocation at this budget
    optimal_spend: np.ndarray  # (C,)
    lower_bound: np.ndarray  # (C,)
    upper_bound: np.ndarray  # (C,)
    nonoptimized_outcome: np.ndarray  # (C,) mean incremental outcome
    optimal_outcome: np.ndarray  # (C,) mean incremental outcome
    meridian_seconds: float = 0.0

    @property
    def total_optimal_outcome(self) -> float:
        """Expected incremental outcome of the optimal allocation, all channels."""
        return float(self.optimal_outcome.sum())

    @property
    def total_nonoptimized_outcome(self) -> float:
        """Expected incremental outcome of the historical allocation, all channels."""
        return float(self.nonoptimized_outcome.sum())


@dataclasses.dataclass(frozen=True)
class WindowDraws:
    """Per-draw totals of one window (and geo selection), for probabilities and paired comparisons."""

    incremental: np.ndarray  # (S, C) paid incremental outcome
    marginal: np.ndarray  # (S, C) outcome of 1% more spend
    incremental_kpi: np.ndarray  # (S, C) incremental KPI (equals `incremental` when the outcome is the KPI)
    expected: np.ndarray  # (S,) total expected outcome
    spend: np.ndarray  # (C,)
    marginal_kpi: np.ndarray | None = None  # (S, C) KPI of 1% more spend (None: `marginal` is in the KPI already)

    @property
    def roi(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.incremental / self.spend[None, :]

    @property
    def mroi(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.marginal / (MARGINAL_INCREASE * self.spend[None, :])

    @property
    def cpik(self) -> np.ndarray:
        from mmm_dash.core.metrics import cost_per_kpi_draws

        return cost_per_kpi_draws(self.spend[None, :], self.incremental_kpi)

    @property
    def mcpik(self) -> np.ndarray:
        """(S, C) marginal cost per incremental KPI: the cost of 1% more spend over the KPI it adds, draw by
        draw (1 / mROI when the outcome is the KPI; Meridian's mROI with use_kpi=True, inverted, otherwise)."""
        from mmm_dash.core.metrics import cost_per_kpi_draws

        marginal = self.marginal if self.marginal_kpi is None else self.marginal_kpi
        return cost_per_kpi_draws(MARGINAL_INCREASE * self.spend[None, :], marginal)

    @property
    def contribution_share(self) -> np.ndarray:
        """(S, C) percent of the total expected outcome (Meridian's pct_of_contribution)."""
        return self.incremental / self.expected.mean() * 100


@dataclasses.dataclass(frozen=True)
class PeriodAnalysis:
    """Everything the pages show for one window of weeks and geo selection."""

    period: Period
    channels: pd.DataFrame  # index: paid channels + TOTAL_CHANNEL; see `tables.metric_columns`
    non_paid: pd.DataFrame  # index: organic and non-media channels (may be empty)
    baseline: dict[str, float]  # incremental_outcome_* and pct_of_contribution_*
    total_actual_outcome: float
    fit: dict[str, float]  # r_squared, mape, wmape (national level; geo_* for geo models)
    curves: CurveSet | None  # response curves of this window, when the bundle keeps them (presets)
    optimal_frequency: pd.DataFrame  # rf channels: optimal_frequency, roi at it (may be empty)
    draws: WindowDraws
    weekly: Callable[[], tuple[pd.DataFrame, pd.DataFrame]] = dataclasses.field(repr=False, compare=False, default=None)
    geo: str | None = None  # None: all geos
    curves_period: Period | None = None  # the window `curves` were computed on (None: no curves)
    optimizations: dict[float, OptimizationResult] = dataclasses.field(default_factory=dict)

    @functools.cached_property
    def _weekly(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        return self.weekly()

    @property
    def series(self) -> pd.DataFrame:
        """Per week: time, expected_mean, expected_ci_lo, expected_ci_hi, baseline_mean, actual (built
        on first use: most pages never draw it)."""
        return self._weekly[0]

    @property
    def contribution_series(self) -> pd.DataFrame:
        """Index time, one column per paid then non-paid channel: the posterior mean per week."""
        return self._weekly[1]

    @property
    def roi_draws(self) -> np.ndarray:
        """(S, C) Meridian's per-draw ROI, for probabilities such as P(ROI > 1)."""
        return self.draws.roi

    @property
    def mroi_draws(self) -> np.ndarray:
        """(S, C) Meridian's per-draw marginal ROI."""
        return self.draws.mroi

    @functools.cached_property
    def cost_scale(self) -> int:
        """The one scale (1 or 1,000 KPI) every cost per KPI of this view is stated in: the blended
        cost's (`formatting.kpi_cost_scale`), so a channel never reads per KPI beside a total per 1,000."""
        from mmm_dash.core.formatting import kpi_cost_scale

        return kpi_cost_scale(float(self.channels.loc[TOTAL_CHANNEL, "cpik_mean"]))

    def channel_table(self) -> pd.DataFrame:
        """Per-channel metrics without the paid total row."""
        return self.channels.drop(index=TOTAL_CHANNEL, errors="ignore")

    @functools.cached_property
    def paid_channels(self) -> tuple[str, ...]:
        """The paid channels in table order (the draws' column order), without building a table."""
        return tuple(c for c in self.channels.index if c != TOTAL_CHANNEL)

    def total(self) -> pd.Series:
        """The paid total row."""
        return self.channels.loc[TOTAL_CHANNEL]

    def channel_position(self, channel: str) -> int:
        return self.paid_channels.index(channel)

    def prob_roi_above(self, channel: str, threshold: float = 1.0) -> float:
        """Posterior probability that the channel's ROI exceeds `threshold`."""
        return float((self.roi_draws[:, self.channel_position(channel)] > threshold).mean())

    def prob_mroi_above(self, channel: str, threshold: float = 1.0) -> float:
        """Posterior probability that the channel's marginal ROI exceeds `threshold`."""
        return float((self.mroi_draws[:, self.channel_position(channel)] > threshold).mean())


@dataclasses.dataclass(frozen=True)
class Bundle:
    schema_version: int
    info: ModelInfo
    draws: OutcomeDraws
    presets: dict[str, Period]  # ordered: "all" first; the periods the selector offers
    curves: dict[str, CurveSet]  # preset key -> national response curves of that window
    optimal_frequency: dict[str, pd.DataFrame]  # preset key -> Meridian's optimal_freq (R&F models)
    rhat: pd.DataFrame  # Meridian's rhat_summary, plus min_ess (ArviZ's bulk effective sample size)
    hill_curves: pd.DataFrame
    adstock_decay: pd.DataFrame
    health: HealthReview | None  # Meridian's ModelReviewer, as plain data
    timings: dict  # build_seconds, meridian_seconds, steps: {name: seconds}
    roi_prior: RoiPrior | None = None  # None when Meridian could not give the prior (see the builder)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_window_memo", None)  # per process, never stored
        return state

    @property
    def periods(self) -> dict[str, Period]:
        return self.presets

    def window_memo(self) -> LRU:
        memo = self.__dict__.get("_window_memo")
        if memo is None:
            memo = LRU(WINDOW_MEMO_SIZE)
            object.__setattr__(self, "_window_memo", memo)
        return memo

    def period(self, key: str, geo: str | None = None) -> PeriodAnalysis:
        """The analysis of a preset or a range key ('2024-01-01..2024-03-25'), all geos or one.
        UnknownPeriodError / UnknownGeoError say what exists."""
        from mmm_dash.core.windows import analyse, parse_period

        period = parse_period(self, key)
        if geo is not None and geo not in self.info.geos:
            raise UnknownGeoError(geo, self.info.geos)
        return self.window_memo().get_or_build((period.key, geo), lambda: analyse(self, period, geo))


class UnknownPeriodError(KeyError):
    def __init__(self, key: str, known: tuple[str, ...], reason: str = ""):
        super().__init__(key)
        self.key, self.known, self.reason = key, known, reason

    def __str__(self) -> str:
        if self.reason:
            return self.reason
        return (
            f"Unknown period {self.key!r}; choose one of: {', '.join(self.known)}, "
            "or a range of weeks as yyyy-mm-dd..yyyy-mm-dd."
        )


class UnknownGeoError(KeyError):
    def __init__(self, geo: str, known: tuple[str, ...]):
        super().__init__(geo)
        self.geo, self.known = geo, known

    def __str__(self) -> str:
        if not self.known:
            return f"This model is national: it has no geo {self.geo!r}."
        return f"This model has no geo {self.geo!r}; choose one of: {', '.join(self.known)}."
