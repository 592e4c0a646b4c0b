"""Paired comparison of two to four budget scenarios on one model and period.

Every scenario's spend is evaluated on the same posterior draws (`ScenarioModel.per_draw_outcome`), so
draw d of scenario A and draw d of scenario B come from the same parameter values. Probabilities and
differences are computed on those pairs, never from intervals: P(A beats B) is the share of draws
where A is better than B on the pair's objective (`core.metrics.judge_plans`: incremental outcome at
equal budgets, net return or cost per KPI when they differ), and a draw where both are exactly equal
counts half (so identical scenarios give exactly 0.5, and P(A beats B) + P(B beats A) = 1 always).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from mmm_dash.core.bundle import CONFIDENCE
from mmm_dash.core.metrics import Objective, judge_plans, prob_greater  # noqa: F401 (prob_greater: one definition)
from mmm_dash.core.scenario import ScenarioError, ScenarioModel

MIN_SCENARIOS = 2
MAX_SCENARIOS = 4
QUANTILES = ((1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2)


@dataclasses.dataclass(frozen=True)
class Summary:
    """Posterior mean and credible interval (CONFIDENCE) of one quantity."""

    mean: float
    ci_lo: float
    ci_hi: float

    @classmethod
    def of(cls, draws: np.ndarray) -> Summary:
        """Summary of a 1-D array of draws."""
        lo, hi = np.quantile(draws, QUANTILES)
        return cls(float(np.mean(draws)), float(lo), float(hi))


@dataclasses.dataclass(frozen=True)
class ComparedScenario:
    name: str
    spend: np.ndarray  # (C,)
    total_spend: float
    total: Summary  # total incremental outcome (paid channels)
    roi: Summary  # total outcome / total spend (nan when nothing is spent)
    channel_mean: np.ndarray  # (C,) incremental outcome per channel
    channel_ci_lo: np.ndarray
    channel_ci_hi: np.ndarray


@dataclasses.dataclass(frozen=True)
class PairedComparison:
    channels: tuple[str, ...]
    scenarios: tuple[ComparedScenario, ...]
    prob_beats: np.ndarray  # (K, K): [i, j] = P(i better than j on objectives[i][j]), ties half; diagonal nan
    difference_mean: np.ndarray  # (K, K): mean over draws of objective_i - objective_j
    difference_ci_lo: np.ndarray
    difference_ci_hi: np.ndarray
    n_draws: int
    objectives: tuple[tuple[Objective, ...], ...] = ()  # (K, K): what each pair is judged on

    def objective(self, i: int, j: int) -> Objective:
        return self.objectives[i][j] if self.objectives else Objective.OUTCOME

    def difference(self, i: int, j: int) -> Summary:
        """Total of scenario i minus total of scenario j, from the paired draws."""
        return Summary(
            float(self.difference_mean[i, j]), float(self.difference_ci_lo[i, j]), float(self.difference_ci_hi[i, j])
        )

    def rows(self) -> list[dict]:
        """One row per scenario and channel, then its total: for CSV and JSON downloads."""
        rows = []
        for s in self.scenarios:
            for c, channel in enumerate(self.channels):
                rows.append(
                    {
                        "scenario": s.name,
                        "channel": channel,
                        "spend": float(s.spend[c]),
                        "incremental_outcome_mean": float(s.channel_mean[c]),
                        "incremental_outcome_ci_lo": float(s.channel_ci_lo[c]),
                        "incremental_outcome_ci_hi": float(s.channel_ci_hi[c]),
                    }
                )
            rows.append(
                {
                    "scenario": s.name,
                    "channel": "Total",
                    "spend": s.total_spend,
                    "incremental_outcome_mean": s.total.mean,
                    "incremental_outcome_ci_lo": s.total.ci_lo,
                    "incremental_outcome_ci_hi": s.total.ci_hi,
                }
            )
        return rows

    def pairs(self) -> list[dict]:
        """Every ordered pair (A, B), A != B: P(A beats B) and the difference A - B with its interval."""
        out = []
        for i, a in enumerate(self.scenarios):
            for j, b in enumerate(self.scenarios):
                if i != j:
                    d = self.difference(i, j)
                    out.append(
                        {
                            "a": a.name,
                            "b": b.name,
                            "judged_on": self.objective(i, j).value,
                            "prob_a_beats_b": float(self.prob_beats[i, j]),
                            "difference_mean": d.mean,
                            "difference_ci_lo": d.ci_lo,
                            "difference_ci_hi": d.ci_hi,
                        }
                    )
        return out


def compare_scenarios(
    model: ScenarioModel,
    spends: Sequence[Sequence[float] | np.ndarray],
    names: Sequence[str],
    has_revenue: bool = True,
) -> PairedComparison:
    """Evaluate 2-4 spends on the same posterior draws of `model` and compare them pairwise, each pair
    on its objective (`core.metrics.Objective`)."""
    if not MIN_SCENARIOS <= len(spends) <= MAX_SCENARIOS:
        raise ScenarioError(f"Pick {MIN_SCENARIOS} to {MAX_SCENARIOS} scenarios to compare.")
    if len(names) != len(spends):
        raise ScenarioError("Give every scenario a name.")
    per_draw = [model.per_draw_outcome(spend) for spend in spends]  # each (S, C), same draws in the same order
    totals = np.stack([d.sum(axis=1) for d in per_draw])  # (K, S)
    scenarios = []
    for name, spend, draws, total in zip(names, spends, per_draw, totals, strict=True):
        spend = model.validate_spend(spend)
        total_spend = float(spend.sum())
        roi = total / total_spend if total_spend > 0 else np.full_like(total, np.nan)
        lo, hi = np.quantile(draws, QUANTILES, axis=0)
        scenarios.append(
            ComparedScenario(
                name=str(name),
                spend=spend,
                total_spend=total_spend,
                total=Summary.of(total),
                roi=Summary.of(roi),
                channel_mean=draws.mean(axis=0),
                channel_ci_lo=lo,
                channel_ci_hi=hi,
            )
        )
    k = len(spends)
    prob = np.full((k, k), np.nan)
    d_mean, d_lo, d_hi = (np.zeros((k, k)) for _ in range(3))
    objectives = []
    for i in range(k):
        row = []
        for j in range(k):
            a, b = scenarios[i].total_spend, scenarios[j].total_spend
            judged = judge_plans(has_revenue, a, totals[i], b, totals[j])
            row.append(judged.objective)
            d_mean[i, j], d_lo[i, j], d_hi[i, j] = (
                judged.difference.mean,
                judged.difference.ci_lo,
                judged.difference.ci_hi,
            )
            if i != j:
                prob[i, j] = judged.p_better
        objectives.append(tuple(row))
    return PairedComparison(
        channels=tuple(model.channels),
        scenarios=tuple(scenarios),
        prob_beats=prob,
        difference_mean=d_mean,
        difference_ci_lo=d_lo,
        difference_ci_hi=d_hi,
        n_draws=int(totals.shape[1]),
        objectives=tuple(objectives),
    )
