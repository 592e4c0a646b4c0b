"""Two planner questions answered from the bundle's per-draw curves (through `ScenarioModel`, never
re-derived curves): where each next slice of budget would go (the incremental budget ladder), and the
smallest budget that reaches a target outcome (goal seek).

Ladder: from a starting spend, each step puts one slice (a share of the starting total) on the channel
whose slice has the highest expected marginal return (mean over draws of the slice's incremental
outcome divided by the slice), within the optimizer's per-channel upper bounds. It stops when the best
slice returns less than `threshold` per unit of spend, when every channel is at its upper bound, or
after `max_steps`. For revenue models the threshold is 1 (a slice returning less than it costs). For
models whose outcome is a KPI without revenue, the threshold is 1 / (target cost per KPI), or 0 when
no target is given, in which case only the bounds and `max_steps` stop it.

Goal seek: the smallest total budget whose allocation by the fast optimizer (`fixed_budget_allocator`,
the same greedy optimizer as the planner's) has an expected total outcome of at least `target`, or,
given `probability`, reaches `target` in at least that share of the posterior draws. Bisection over
the budgets the bounds allow. With fixed bounds a larger budget's allocation is at least the smaller
one's in every channel and every draw's curve rises with spend, so both criteria only switch once,
from unmet to met, and bisection finds that budget to within `tolerance`.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence

import numpy as np

from mmm_dash.core.comparison import Summary
from mmm_dash.core.scenario import ScenarioError, ScenarioModel

DEFAULT_SLICE = 0.05  # each ladder step: 5% of the starting total budget
DEFAULT_LADDER_STEPS = 40
MAX_LADDER_STEPS = 200
GOAL_SEEK_TOLERANCE = 1e-4  # bisection stops within this share of the largest budget the bounds allow
GOAL_SEEK_MAX_ITERATIONS = 60
ROOM_TOLERANCE = 1e-9  # a channel whose room below its bound is under this share of a slice is at its bound


class LadderStop(enum.StrEnum):
    BELOW_THRESHOLD = "below_threshold"  # the best next slice returns less than the threshold
    AT_BOUNDS = "at_bounds"  # every channel is at its upper bound
    MAX_STEPS = "max_steps"


@dataclasses.dataclass(frozen=True)
class LadderStep:
    step: int  # 1, 2, ...
    channel: str
    slice: float  # spend added by this step (a full slice, or what was left below the channel's bound)
    marginal: Summary  # outcome per unit of spend of this slice, over the draws
    prob_above: float  # share of draws whose marginal return exceeds the threshold
    budget: float  # total spend after this step
    outcome: Summary  # total incremental outcome after this step, from the per-draw totals


@dataclasses.dataclass(frozen=True)
class BudgetLadder:
    channels: tuple[str, ...]
    threshold: float
    slice_size: float
    start_spend: np.ndarray  # (C,)
    start_outcome: Summary
    upper: np.ndarray  # (C,) the bounds the ladder stayed within
    steps: tuple[LadderStep, ...]
    final_spend: np.ndarray  # (C,)
    stop: LadderStop
    next_best: tuple[str, Summary] | None  # the best slice not taken (when stopped below the threshold)

    @property
    def start_budget(self) -> float:
        return float(self.start_spend.sum())

    def capped(self) -> tuple[str, ...]:
        """The channels left without room for another slice: their spend is at their upper bound."""
        room = self.upper - self.final_spend
        return tuple(c for c, r in zip(self.channels, room, strict=True) if r <= ROOM_TOLERANCE * self.slice_size)

    def rows(self) -> list[dict]:
        """One plain row per step (for tables and downloads)."""
        return [
            {
                "step": s.step,
                "channel": s.channel,
                "slice": s.slice,
                "marginal_return_mean": s.marginal.mean,
                "marginal_return_ci_lo": s.marginal.ci_lo,
                "marginal_return_ci_hi": s.marginal.ci_hi,
                "prob_above_threshold": s.prob_above,
                "budget": s.budget,
                "outcome_mean": s.outcome.mean,
                "outcome_ci_lo": s.outcome.ci_lo,
                "outcome_ci_hi": s.outcome.ci_hi,
            }
            for s in self.steps
        ]


def _start(model: ScenarioModel, start: Sequence[float] | np.ndarray | None) -> np.ndarray:
    return model.historical_spend.copy() if start is None else model.validate_spend(start)


def _upper(model: ScenarioModel, upper: Sequence[float] | np.ndarray | None) -> np.ndarray:
    if upper is None:
        return model.default_bounds()[1]
    return model.check_bounds(np.zeros(len(model.channels)), upper)[1]  # same checks as the optimizer's bounds


def budget_ladder(
    model: ScenarioModel,
    start: Sequence[float] | np.ndarray | None = None,
    *,
    slice_fraction: float = DEFAULT_SLICE,
    threshold: float = 1.0,
    upper: Sequence[float] | np.ndarray | None = None,
    max_steps: int = DEFAULT_LADDER_STEPS,
) -> BudgetLadder:
    """Where each next slice of budget would go from `start` (default: historical spend), one slice
    at a time, until the best slice returns less than `threshold`, the bounds are reached or
    `max_steps` are taken. `upper` defaults to the optimizer's (historical + DEFAULT_BOUND)."""
    if not 0 < slice_fraction <= 1:
        raise ScenarioError("The slice must be more than 0% and at most 100% of the starting budget.")
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or not 1 <= max_steps <= MAX_LADDER_STEPS:
        raise ScenarioError(f"The ladder takes 1 to {MAX_LADDER_STEPS} steps.")
    if not np.isfinite(threshold) or threshold < 0:
        raise ScenarioError("The threshold must be a non-negative number.")
    spend = _start(model, start)
    upper = _upper(model, upper)
    base = spend.sum() if spend.sum() > 0 else model.historical_spend.sum()
    slice_size = float(slice_fraction * base)
    if slice_size <= 0:
        raise ScenarioError("This model has no paid spend to slice.")
    current = model.per_draw_outcome(spend)  # (S, C)
    start_outcome = Summary.of(current.sum(axis=1))
    start_spend = spend.copy()
    steps: list[LadderStep] = []
    stop, next_best = LadderStop.MAX_STEPS, None
    for n in range(1, max_steps + 1):
        room = upper - spend
        open_channels = [i for i in range(len(spend)) if room[i] > ROOM_TOLERANCE * slice_size]
        if not open_channels:
            stop = LadderStop.AT_BOUNDS
            break
        best = None
        for i in open_channels:
            size = float(min(slice_size, room[i]))
            after = model.channel_draws(i, np.array([spend[i] + size]))[:, 0]
            marginal = (after - current[:, i]) / size
            if best is None or marginal.mean() > best[2].mean():
                best = (i, size, marginal, after)
        i, size, marginal, after = best
        if marginal.mean() < threshold:
            stop, next_best = LadderStop.BELOW_THRESHOLD, (model.channels[i], Summary.of(marginal))
            break
        spend[i] += size
        current[:, i] = after
        steps.append(
            LadderStep(
                step=n,
                channel=model.channels[i],
                slice=size,
                marginal=Summary.of(marginal),
                prob_above=float(np.mean(marginal > threshold)),
                budget=float(spend.sum()),
                outcome=Summary.of(current.sum(axis=1)),
            )
        )
    return BudgetLadder(
        channels=tuple(model.channels),
        threshold=float(threshold),
        slice_size=slice_size,
        start_spend=start_spend,
        start_outcome=start_outcome,
        upper=upper,
        steps=tuple(steps),
        final_spend=spend,
        stop=stop,
        next_best=next_best,
    )


@dataclasses.dataclass(frozen=True)
class GoalSeekResult:
    target: float
    probability: float | None  # None: the expected outcome must reach the target
    reachable: bool
    budget: float  # the smallest budget found; when unreachable, the largest the bounds allow
    spend: np.ndarray  # (C,) its allocation
    outcome: Summary  # total incremental outcome of that allocation
    prob_reach: float  # share of draws whose total outcome reaches the target there
    min_budget: float  # the budgets the bounds allow
    max_budget: float
    iterations: int


def _criterion(probability: float | None, target: float):
    if probability is None:
        return lambda totals: float(totals.mean()) >= target
    return lambda totals: float(np.mean(totals >= target)) >= probability


def goal_seek(
    model: ScenarioModel,
    target: float,
    *,
    probability: float | None = None,
    lower: Sequence[float] | np.ndarray | None = None,
    upper: Sequence[float] | np.ndarray | None = None,
    tolerance: float = GOAL_SEEK_TOLERANCE,
    max_iterations: int = GOAL_SEEK_MAX_ITERATIONS,
) -> GoalSeekResult:
    """The smallest budget, allocated by the fast optimizer within [lower, upper] (default: the
    optimizer's historical +- DEFAULT_BOUND), whose expected total outcome reaches `target` (or whose
    total outcome reaches it in at least `probability` of the draws). Unreachable: `reachable` is
    False and the result describes the largest budget the bounds allow."""
    if not np.isfinite(target) or target <= 0:
        raise ScenarioError("The target outcome must be a positive number.")
    if probability is not None and not (np.isfinite(probability) and 0 < probability < 1):
        raise ScenarioError("The probability must be between 0% and 100%.")
    if lower is None or upper is None:
        d_lo, d_hi = model.default_bounds()
        lower = d_lo if lower is None else lower
        upper = d_hi if upper is None else upper
    lower, upper = model.check_bounds(lower, upper)
    allocate = model.fixed_budget_allocator(lower, upper)
    met = _criterion(probability, float(target))
    min_budget, max_budget = float(lower.sum()), float(upper.sum())

    def totals_at(budget: float) -> tuple[np.ndarray, np.ndarray]:
        spend = allocate(budget)
        return spend, model.per_draw_outcome(spend).sum(axis=1)

    def result(budget, spend, totals, reachable, iterations) -> GoalSeekResult:
        return GoalSeekResult(
            target=float(target),
            probability=probability,
            reachable=reachable,
            budget=float(budget),
            spend=spend,
            outcome=Summary.of(totals),
            prob_reach=float(np.mean(totals >= target)),
            min_budget=min_budget,
            max_budget=max_budget,
            iterations=iterations,
        )

    lo_budget, hi_budget = min_budget, max_budget  # unmet at lo_budget, met at hi_budget
    spend_hi, totals_hi = totals_at(hi_budget)
    if not met(totals_hi):
        return result(hi_budget, spend_hi, totals_hi, False, 1)
    spend_lo, totals_lo = totals_at(lo_budget)
    if met(totals_lo):
        return result(lo_budget, spend_lo, totals_lo, True, 2)
    step = max(tolerance * max_budget, 1e-9)
    iterations = 2
    while hi_budget - lo_budget > step and iterations < max_iterations:
        mid = (lo_budget + hi_budget) / 2
        spend_mid, totals_mid = totals_at(mid)
        iterations += 1
        if met(totals_mid):
            hi_budget, spend_hi, totals_hi = mid, spend_mid, totals_mid
        else:
            lo_budget = mid
    return result(hi_budget, spend_hi, totals_hi, True, iterations)
