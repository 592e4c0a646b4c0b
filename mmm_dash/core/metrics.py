"""One function per definition that more than one page states: cost per KPI and how two plans are
judged (P(better)). Every page, export and the planner call these, so a number reads the same wherever
it is shown (tests/unit/test_metrics.py and tests/integration/test_numbers_agree.py).

Cost per KPI is Meridian's `cpik`: spend divided by the incremental KPI of each posterior draw, then
summarised (`Analyzer.summary_metrics`: mean, median and the interval of those per-draw ratios). It is
not spend divided by the mean incremental KPI: when a channel's KPI interval reaches near zero the
per-draw ratios have a long right tail, so the mean of ratios sits well above the ratio of means; we
state Meridian's number, with its median beside it where a table has room.
"""

from __future__ import annotations

import dataclasses
import enum

import numpy as np

from mmm_dash.core.bundle import CONFIDENCE

QUANTILES = ((1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2)
SAME_BUDGET = 1e-6  # relative difference of two budgets still taken as equal


@dataclasses.dataclass(frozen=True)
class Estimate:
    """Posterior mean, median and CONFIDENCE interval of one quantity, from its draws."""

    mean: float
    median: float
    ci_lo: float
    ci_hi: float

    @classmethod
    def of(cls, draws: np.ndarray) -> Estimate:
        values = np.asarray(draws, dtype=float)
        with np.errstate(invalid="ignore"):
            lo, median, hi = np.quantile(values, (QUANTILES[0], 0.5, QUANTILES[1]))
            return cls(float(np.mean(values)), float(median), float(lo), float(hi))


def cost_per_kpi_draws(spend: float | np.ndarray, kpi_draws: np.ndarray) -> np.ndarray:
    """Meridian's per-draw cost per incremental KPI: spend / incremental KPI, draw by draw.
    `kpi_draws` is (S,) or (S, C) with `spend` a scalar or (C,); a draw without KPI gives inf (nan at 0/0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(spend, dtype=float) / np.asarray(kpi_draws, dtype=float)


def cost_per_kpi(spend: float, kpi_draws: np.ndarray) -> Estimate:
    """Meridian's `cpik` of one channel or total: the summary of `cost_per_kpi_draws`."""
    return Estimate.of(cost_per_kpi_draws(spend, kpi_draws))


# -- judging one plan against another --------------------------------------------------------------
class Objective(enum.StrEnum):
    """What a plan is judged on against another. At equal budgets, the incremental outcome; when the
    budgets differ, what the money buys: net return (revenue − spend) for revenue models, cost per
    incremental KPI for the rest. More outcome for more money is not "better" by itself."""

    OUTCOME = "outcome"
    NET_RETURN = "net_return"
    COST_PER_KPI = "cost_per_kpi"

    @classmethod
    def for_plans(cls, has_revenue: bool, budget_a: float, budget_b: float) -> Objective:
        if abs(budget_a - budget_b) <= SAME_BUDGET * max(abs(budget_a), abs(budget_b), 1.0):
            return cls.OUTCOME
        return cls.NET_RETURN if has_revenue else cls.COST_PER_KPI

    @property
    def higher_is_better(self) -> bool:
        return self is not Objective.COST_PER_KPI

    def describe(self, kpi_name: str = "KPI") -> str:
        """How the page says what P(better) is about."""
        return {
            Objective.OUTCOME: "judged on incremental outcome (same budget)",
            Objective.NET_RETURN: "judged on net return, incremental revenue minus spend (budgets differ)",
            Objective.COST_PER_KPI: f"judged on cost per incremental {kpi_name} (budgets differ)",
        }[self]

    def value_draws(self, spend: float, outcome_draws: np.ndarray) -> np.ndarray:
        """(S,) the objective of a plan spending `spend` whose total incremental outcome is `outcome_draws`."""
        outcome_draws = np.asarray(outcome_draws, dtype=float)
        if self is Objective.NET_RETURN:
            return outcome_draws - spend
        if self is Objective.COST_PER_KPI:
            return cost_per_kpi_draws(spend, outcome_draws)
        return outcome_draws


@dataclasses.dataclass(frozen=True)
class PlanJudgement:
    """Plan A against plan B on paired posterior draws: the objective's difference A − B and P(A better)."""

    objective: Objective
    difference: Estimate  # A − B in the objective's units (for cost per KPI, negative is better)
    p_better: float


def prob_greater(a: np.ndarray, b: np.ndarray) -> float:
    """P(a > b) from paired draws: the share of draws where a > b, a tie counting half (so identical
    plans give exactly 0.5 and P(a > b) + P(b > a) = 1)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or len(a) == 0:
        raise ValueError("prob_greater needs two 1-D arrays of paired draws of the same length.")
    return float((np.count_nonzero(a > b) + 0.5 * np.count_nonzero(a == b)) / len(a))


def judge_plans(
    has_revenue: bool, spend_a: float, outcome_a: np.ndarray, spend_b: float, outcome_b: np.ndarray
) -> PlanJudgement:
    """Is plan A better than plan B? `outcome_*` are (S,) total incremental outcome on the same draws."""
    objective = Objective.for_plans(has_revenue, spend_a, spend_b)
    value_a, value_b = objective.value_draws(spend_a, outcome_a), objective.value_draws(spend_b, outcome_b)
    if objective.higher_is_better:
        p_better = prob_greater(value_a, value_b)
    else:  # a cost: A is better where it is lower; a draw with no KPI on either side has no finite cost
        p_better = prob_greater(np.nan_to_num(-value_a, nan=-np.inf), np.nan_to_num(-value_b, nan=-np.inf))
    with np.errstate(invalid="ignore"):
        difference = Estimate.of(value_a - value_b)
    return PlanJudgement(objective, difference, p_better)


def judgement_sentence(judged: PlanJudgement, kpi_name: str = "KPI", meaningful: bool = True) -> str:
    """'P(better) = 87%, judged on …': what the probability is about, and the objective's change when it
    is not the outcome shown beside it (no probability while the model has not converged)."""
    from mmm_dash.core.formatting import CI, interval, kpi_cost_scale, money
    from mmm_dash.core.formatting import cost_per_kpi as cost_text
    from mmm_dash.core.trust import probability_text

    d, objective = judged.difference, judged.objective
    sign = "+" if d.mean >= 0 else "−"
    if objective is Objective.NET_RETURN:
        change = f"net return {sign}{money(abs(d.mean))} ({CI} {interval(d.ci_lo, d.ci_hi, money)}), "
    elif objective is Objective.COST_PER_KPI:
        change = f"cost {sign}{cost_text(abs(d.mean), kpi_name, kpi_cost_scale(abs(d.mean)))}, "
    else:
        change = ""
    return f"{change}{probability_text('better', judged.p_better, meaningful)}, {objective.describe(kpi_name)}"
