"""What-if budgets and a fast budget optimizer over the bundle's response curves.

Pure numpy/scipy: curves are Meridian's per-draw incremental outcome on a spend-multiplier grid,
interpolated monotonically (PCHIP). The optimizer allocates spend in small steps to the channel
whose next step adds the most expected outcome, on each curve's concave envelope, which makes the
greedy choice optimal for concave curves and robust for S-shaped ones.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy.interpolate import PchipInterpolator

from mmm_dash.core.bundle import CONFIDENCE, DEFAULT_BOUND, CurveSet
from mmm_dash.core.metrics import Estimate, cost_per_kpi

MAX_MULTIPLIER = 2.0  # curves are computed up to 2x historical spend
STEPS = 4000


class ScenarioError(ValueError):
    """An input the planner cannot use, in one sentence for the page."""


class OptimizerMode(enum.StrEnum):
    """What the optimizer holds fixed: the budget, or a floor on total or marginal ROI."""

    FIXED = "fixed"
    TARGET_ROI = "target_roi"
    TARGET_MROI = "target_mroi"

    @classmethod
    def parse(cls, value: object) -> OptimizerMode:
        """The mode named by `value`, or a ScenarioError naming the choices."""
        try:
            return cls(value)
        except ValueError:
            raise ScenarioError(f"Choose an optimizer mode: {', '.join(m.value for m in cls)}.") from None


def finite_number(value: object, message: str) -> float:
    """`value` as a finite float (bools and strings refused), else ScenarioError(message)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ScenarioError(message)
    value = float(value)
    if not math.isfinite(value):
        raise ScenarioError(message)
    return value


@dataclasses.dataclass(frozen=True)
class FixedBudgetScenario:
    """Spend exactly `budget`, allocated for the most expected outcome."""

    budget: float

    def __post_init__(self) -> None:
        budget = finite_number(self.budget, "The budget must be a non-negative number.")
        if budget < 0:
            raise ScenarioError("The budget must be a non-negative number.")
        object.__setattr__(self, "budget", budget)


@dataclasses.dataclass(frozen=True)
class FlexibleBudgetScenario:
    """Spend while total ROI (TARGET_ROI) or each next step's marginal ROI (TARGET_MROI) meets `target`."""

    mode: OptimizerMode
    target: float

    def __post_init__(self) -> None:
        mode = OptimizerMode.parse(self.mode)
        if mode is OptimizerMode.FIXED:
            raise ScenarioError("A flexible budget needs a target ROI or a target marginal ROI.")
        target = finite_number(self.target, "The target must be a positive number.")
        if target <= 0:
            raise ScenarioError("The target must be a positive number.")
        object.__setattr__(self, "mode", mode)
        object.__setattr__(self, "target", target)


def as_spend_vector(values: object, n: int, what: str = "spend") -> np.ndarray:
    """Exactly `n` finite numbers as a float array, else a ScenarioError saying what is wrong."""
    if isinstance(values, np.ndarray):
        values = values.tolist()
    if not isinstance(values, Sequence) or isinstance(values, str | bytes):
        raise ScenarioError(f"Give one {what} per channel ({n}).")
    if len(values) != n:
        raise ScenarioError(f"Give one {what} per channel ({n}).")
    return np.array([finite_number(v, f"Every {what} must be a number.") for v in values], dtype=float)


@dataclasses.dataclass(frozen=True)
class ScenarioOutcome:
    channels: tuple[str, ...]
    spend: np.ndarray  # (C,)
    outcome_mean: np.ndarray  # (C,)
    outcome_ci_lo: np.ndarray
    outcome_ci_hi: np.ndarray
    roi_mean: np.ndarray
    roi_ci_lo: np.ndarray
    roi_ci_hi: np.ndarray
    total_spend: float
    total_mean: float
    total_ci_lo: float
    total_ci_hi: float
    total_roi_mean: float
    total_roi_ci_lo: float
    total_roi_ci_hi: float
    # Meridian's cost per incremental outcome unit (per KPI for KPI models), `core.metrics.cost_per_kpi`
    cost_per_kpi: np.ndarray | None = None  # (C,) posterior mean
    total_cost_per_kpi: Estimate | None = None


class ScenarioModel:
    """Response curves of one period, ready for fast evaluation (build once per bundle period)."""

    def __init__(self, curves: CurveSet):
        self.channels = curves.channels
        self.historical_spend = np.asarray(curves.historical_spend, dtype=float)
        self.multipliers = np.asarray(curves.multipliers, dtype=float)
        # One interpolator per channel over every draw; another over the posterior mean.
        self._draw_curves = [
            PchipInterpolator(self.multipliers, curves.draws[:, i, :], axis=1, extrapolate=False)
            for i in range(len(self.channels))
        ]
        self._mean_curves = [
            PchipInterpolator(self.multipliers, curves.draws[:, i, :].mean(axis=0), extrapolate=False)
            for i in range(len(self.channels))
        ]

    @property
    def n_draws(self) -> int:
        return int(self._draw_curves[0](0.0).shape[0])

    # -- evaluation --------------------------------------------------------------------------
    def _multiplier(self, i: int, spend: float) -> float:
        hist = self.historical_spend[i]
        return 0.0 if hist <= 0 else spend / hist

    def expected_outcome(self, spend: Sequence[float] | np.ndarray) -> np.ndarray:
        """(C,) posterior-mean incremental outcome at `spend`."""
        return np.array([float(self._mean_curves[i](self._multiplier(i, s))) for i, s in enumerate(spend)])

    def per_draw_outcome(self, spend: Sequence[float] | np.ndarray) -> np.ndarray:
        """(S, C) incremental outcome of each posterior draw at `spend` (validated): what every interval,
        probability and paired comparison is computed from, so two scenarios share the same draws."""
        spend = self.validate_spend(spend)
        return np.stack([self._draw_curves[i](self._multiplier(i, s)) for i, s in enumerate(spend)], axis=1)

    def channel_draws(self, i: int, spend: np.ndarray) -> np.ndarray:
        """(S, len(spend)) outcome of channel `i`'s draws at several spends (no validation: callers keep
        spend within the curves' range)."""
        hist = self.historical_spend[i]
        spend = np.asarray(spend, dtype=float)
        multipliers = np.zeros_like(spend) if hist <= 0 else np.clip(spend / hist, 0.0, MAX_MULTIPLIER)
        return self._draw_curves[i](multipliers)

    def marginal_return(self, spend: Sequence[float] | np.ndarray, step: float = 0.01) -> np.ndarray:
        """(S, C) per-draw outcome of `step` (1%, as Meridian's mROI) more spend per unit of that spend,
        read off the curves at `spend` (a step down where the curves end, at 2x historical)."""
        spend = self.validate_spend(spend)
        out = np.full((self.n_draws, len(spend)), np.nan)
        for i, s in enumerate(spend):
            if s <= 0 or self.historical_spend[i] <= 0:
                continue
            up = min(s * (1 + step), self.historical_spend[i] * MAX_MULTIPLIER)
            lo = up / (1 + step)
            values = self.channel_draws(i, np.array([lo, up]))
            out[:, i] = (values[:, 1] - values[:, 0]) / (up - lo)
        return out

    def evaluate(self, spend: Sequence[float] | np.ndarray) -> ScenarioOutcome:
        """Outcome and ROI of `spend` per channel and in total, with credible intervals from the draws."""
        spend = self.validate_spend(spend)
        per_draw = self.per_draw_outcome(spend)  # (S, C)
        lo_q, hi_q = (1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2
        with np.errstate(divide="ignore", invalid="ignore"):
            roi = np.where(spend > 0, per_draw / spend, np.nan)
            total = per_draw.sum(axis=1)  # interval of the sum comes from the draws, never from adding intervals
            total_spend = float(spend.sum())
            total_roi = total / total_spend if total_spend > 0 else np.full_like(total, np.nan)
        return ScenarioOutcome(
            channels=self.channels,
            spend=spend,
            outcome_mean=per_draw.mean(axis=0),
            outcome_ci_lo=np.quantile(per_draw, lo_q, axis=0),
            outcome_ci_hi=np.quantile(per_draw, hi_q, axis=0),
            roi_mean=np.nanmean(roi, axis=0) if np.isfinite(roi).any() else np.full(len(spend), np.nan),
            roi_ci_lo=np.quantile(roi, lo_q, axis=0),
            roi_ci_hi=np.quantile(roi, hi_q, axis=0),
            total_spend=total_spend,
            total_mean=float(total.mean()),
            total_ci_lo=float(np.quantile(total, lo_q)),
            total_ci_hi=float(np.quantile(total, hi_q)),
            total_roi_mean=float(np.mean(total_roi)),
            total_roi_ci_lo=float(np.quantile(total_roi, lo_q)),
            total_roi_ci_hi=float(np.quantile(total_roi, hi_q)),
            cost_per_kpi=np.array([cost_per_kpi(spend[i], per_draw[:, i]).mean for i in range(len(spend))]),
            total_cost_per_kpi=cost_per_kpi(total_spend, total),
        )

    def validate_spend(self, spend: object) -> np.ndarray:
        """`spend` as (C,) floats within the curves' range, else a ScenarioError for the page."""
        spend = as_spend_vector(spend, len(self.channels))
        if np.any(spend < 0):
            raise ScenarioError("Spend cannot be negative.")
        too_high = spend > self.historical_spend * MAX_MULTIPLIER * (1 + 1e-9)
        if np.any(too_high):
            name = self.channels[int(np.argmax(too_high))]
            raise ScenarioError(
                f"{name}: the model's curves reach {MAX_MULTIPLIER:.0f}x historical spend; plan within that range."
            )
        return spend

    # -- optimization ------------------------------------------------------------------------
    def default_bounds(
        self, budget: float | None = None, bound: float = DEFAULT_BOUND
    ) -> tuple[np.ndarray, np.ndarray]:
        """Meridian's default: +-bound around the historical allocation scaled to `budget`."""
        base = self.historical_spend.copy()
        if budget is not None and base.sum() > 0:
            base = base * budget / base.sum()
        return base * (1 - bound), np.minimum(base * (1 + bound), self.historical_spend * MAX_MULTIPLIER)

    def check_bounds(self, lower, upper) -> tuple[np.ndarray, np.ndarray]:
        """Per-channel lower and upper bounds as arrays, else a ScenarioError for the page."""
        n = len(self.channels)
        for bound in (lower, upper):
            if isinstance(bound, np.ndarray):
                bound = bound.tolist()
            if not isinstance(bound, Sequence) or isinstance(bound, str | bytes) or len(bound) != n:
                raise ScenarioError("Give a lower and an upper bound for every channel.")
        lower, upper = as_spend_vector(lower, n, "bound"), as_spend_vector(upper, n, "bound")
        if np.any(lower < 0):
            raise ScenarioError("Lower bounds cannot be negative.")
        bad = lower > upper + 1e-9
        if np.any(bad):
            raise ScenarioError(f"{self.channels[int(np.argmax(bad))]}: the lower bound is above the upper bound.")
        self.validate_spend(upper)
        return lower, upper

    def _greedy_order(self, lower, upper, step):
        """Steps of size `step` above the lower bounds, best expected gain first (concave envelopes)."""
        gains, owners, sizes = [], [], []
        for i in range(len(self.channels)):
            span = upper[i] - lower[i]
            n = int(np.floor(span / step + 1e-9))
            points = lower[i] + step * np.arange(n + 1)
            if span - n * step > 1e-9 * max(1.0, span):
                points = np.append(points, upper[i])
            if len(points) < 2:
                continue
            values = np.array([float(v) for v in self._mean_curves[i](points / max(self.historical_spend[i], 1e-300))])
            values = np.nan_to_num(values, nan=0.0)
            hull_gain = _concave_envelope_gains(points, values)
            gains.append(hull_gain)
            owners.append(np.full(len(hull_gain), i))
            sizes.append(np.diff(points))
        if not gains:
            return np.array([]), np.array([], dtype=int), np.array([])
        gains, owners, sizes = np.concatenate(gains), np.concatenate(owners), np.concatenate(sizes)
        rate = gains / sizes
        order = np.argsort(-rate, kind="stable")
        return rate[order], owners[order], sizes[order]

    def optimize(
        self, scenario: FixedBudgetScenario | FlexibleBudgetScenario, lower: np.ndarray, upper: np.ndarray
    ) -> np.ndarray:
        """The allocation `scenario` asks for, within [lower, upper]."""
        if isinstance(scenario, FixedBudgetScenario):
            return self.optimize_fixed(scenario.budget, lower, upper)
        key = "target_roi" if scenario.mode is OptimizerMode.TARGET_ROI else "target_mroi"
        return self.optimize_flexible(lower, upper, **{key: scenario.target})

    def optimize_fixed(
        self, budget: float, lower: np.ndarray | None = None, upper: np.ndarray | None = None
    ) -> np.ndarray:
        """Allocation of exactly `budget` maximising expected incremental outcome within bounds."""
        if not np.isfinite(budget) or budget < 0:
            raise ScenarioError("The budget must be a non-negative number.")
        if lower is None or upper is None:
            d_lo, d_hi = self.default_bounds(budget)
            lower = d_lo if lower is None else lower
            upper = d_hi if upper is None else upper
        return self.fixed_budget_allocator(lower, upper)(budget)

    def fixed_budget_allocator(self, lower: np.ndarray, upper: np.ndarray) -> Callable[[float], np.ndarray]:
        """`optimize_fixed` for many budgets within the same bounds: the greedy order is computed once,
        and each budget takes a prefix of it. So a larger budget's allocation is at least the smaller
        one's in every channel (what goal seek's bisection relies on)."""
        lower, upper = self.check_bounds(lower, upper)
        step = max((upper.sum() - lower.sum()) / STEPS, 1e-9)
        _rate, owners, sizes = self._greedy_order(lower, upper, step)
        filled = np.cumsum(sizes)  # spend above the lower bounds after each step

        def allocate(budget: float) -> np.ndarray:
            if not np.isfinite(budget) or budget < 0:
                raise ScenarioError("The budget must be a non-negative number.")
            if budget < lower.sum() - 1e-6 * max(budget, 1):
                raise ScenarioError(
                    f"The budget {budget:,.0f} is below the sum of the lower bounds ({lower.sum():,.0f})."
                )
            if budget > upper.sum() + 1e-6 * max(budget, 1):
                raise ScenarioError(
                    f"The budget {budget:,.0f} is above the sum of the upper bounds ({upper.sum():,.0f})."
                )
            remaining = budget - lower.sum()
            spend = lower.copy()
            whole = int(np.searchsorted(filled, remaining, side="right"))  # steps taken in full
            np.add.at(spend, owners[:whole], sizes[:whole])
            rest = remaining - (filled[whole - 1] if whole else 0.0)
            if whole < len(sizes) and rest > 0:
                spend[owners[whole]] += min(sizes[whole], rest)
            return np.minimum(spend, upper)

        return allocate

    def optimize_flexible(
        self, lower: np.ndarray, upper: np.ndarray, target_roi: float | None = None, target_mroi: float | None = None
    ) -> np.ndarray:
        """Spend while the total ROI stays at or above `target_roi`, or while each next step's
        marginal ROI is at least `target_mroi`."""
        if (target_roi is None) == (target_mroi is None):
            raise ScenarioError("Give either a target ROI or a target marginal ROI.")
        target = target_roi if target_roi is not None else target_mroi
        if not np.isfinite(target) or target <= 0:
            raise ScenarioError("The target must be a positive number.")
        lower, upper = self.check_bounds(lower, upper)
        step = max((upper.sum() - lower.sum()) / STEPS, 1e-9)
        rate, owners, sizes = self._greedy_order(lower, upper, step)
        base_outcome, base_spend = float(self.expected_outcome(lower).sum()), float(lower.sum())
        if target_mroi is not None:
            steps = int(np.sum(rate >= target_mroi))  # rates are sorted: stop at the first step below target
        else:
            cum_spend = base_spend + np.cumsum(sizes)
            with np.errstate(divide="ignore", invalid="ignore"):
                meets = (base_outcome + np.cumsum(rate * sizes)) / cum_spend >= target_roi
            steps = int(np.argmin(meets)) if not meets.all() else len(meets)

        def allocation(k: int) -> np.ndarray:
            spend = lower.copy()
            np.add.at(spend, owners[:k], sizes[:k])
            return np.minimum(spend, upper)

        if target_roi is not None:
            # The envelope can promise more than an S-shaped curve gives mid-way: back off until the
            # real curves meet the target (largest prefix that does, by bisection).
            def real_roi(k: int) -> float:
                spend = allocation(k)
                return float(self.expected_outcome(spend).sum() / spend.sum()) if spend.sum() > 0 else np.inf

            lo, hi = 0, steps
            if real_roi(hi) < target_roi:
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    lo, hi = (mid, hi) if real_roi(mid) >= target_roi else (lo, mid)
                steps = lo
            if real_roi(steps) < target_roi or allocation(steps).sum() <= 0:
                raise ScenarioError(f"No budget within the bounds reaches a total ROI of {target_roi:g}.")
        return allocation(steps)


def _concave_envelope_gains(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-interval gains along the upper concave envelope of (x, y): non-increasing slopes."""
    xs, ys = x.tolist(), y.tolist()  # Python floats: the same float64 arithmetic, without numpy's per-item cost
    hull = [0]
    for k in range(1, len(xs)):
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            # drop b if it lies on or below the chord a -> k
            if (ys[b] - ys[a]) * (xs[k] - xs[a]) <= (ys[k] - ys[a]) * (xs[b] - xs[a]):
                hull.pop()
            else:
                break
        hull.append(k)
    hull = np.asarray(hull)
    slopes = (y[hull[1:]] - y[hull[:-1]]) / (x[hull[1:]] - x[hull[:-1]])  # one per envelope segment
    return np.repeat(slopes, np.diff(hull)) * np.diff(x)
