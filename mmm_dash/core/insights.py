"""Rule-based findings from posterior quantities: one reconciled verdict per channel, the portfolio,
the reallocation of the same budget, and first of all whether the model can be trusted.

Every finding carries its numbers and the probability behind it; nothing here invents a figure the
bundle does not hold. A channel gets exactly one verdict, decided in this order, so no two findings
contradict each other:

1. **cut or rework** when it returns less than it costs with confidence (revenue models);
2. **test first** when its interval is too wide to act on and it is not confidently above or below
   break-even, or Meridian's review failed it: such channels are held at their spend in the
   reallocation, so no move is proposed for them;
3. **shift budget in / out** when the planner's reallocation of the same budget moves it by 10% or more;
4. **room to grow** when it pays with confidence and its next unit of spend still returns more than 1;
5. **hold: past break-even** when it pays on average but its next unit returns less than 1;
6. **hold** otherwise.

Models without revenue speak in cost per incremental KPI: rules 2, 4 and 5 need revenue and are skipped.
When trust is low (`core.trust`), the first finding says what to fix and every probability is softened;
when the sampler did not converge, no finding states a probability or proposes a planner move
(`Trust.probabilities_meaningful`): each says the probability is not meaningful until the model converges.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from mmm_dash.core.bundle import Bundle, ModelInfo, PeriodAnalysis
from mmm_dash.core.comparison import Summary
from mmm_dash.core.formatting import BOUND, CI, cost_interval, cost_per_kpi, interval, money, outcome, pct, ratio
from mmm_dash.core.health import CheckStatus, HealthReview
from mmm_dash.core.metrics import judge_plans
from mmm_dash.core.trust import NOT_MEANINGFUL, Trust, TrustLevel, assess_trust

CONFIDENT = 0.9  # posterior probability we call "confident"
WIDE_INTERVAL = 1.0  # credible interval wider than the mean itself: too uncertain to act on
BREAK_EVEN_MROI = 1.0  # break-even: where the next unit of spend returns exactly what it costs
MOVE = 0.1  # a reallocation move of at least 10% of a channel's spend is a verdict

# Verdict actions in the order the Insights page shows them: uncertain first, then what to act on.
ACTIONS = ("test", "cut", "shift-out", "shift-in", "grow", "hold-trim", "hold")  # cut is decided first
ACTION_LABELS = {
    "test": "Test first",
    "cut": "Cut or rework",
    "shift-out": "Shift budget out",
    "shift-in": "Shift budget in",
    "grow": "Room to grow",
    "hold-trim": "Hold: past break-even",
    "hold": "Hold",
}
ACTION_KIND = {
    "test": "caution",
    "cut": "warning",
    "shift-out": "warning",
    "shift-in": "opportunity",
    "grow": "opportunity",
    "hold-trim": "warning",
    "hold": "info",
}


@dataclasses.dataclass(frozen=True)
class Insight:
    id: str
    kind: str  # trust, opportunity, warning, reallocation, caution, info
    channel: str  # channel name, or "" for the whole portfolio
    title: str
    text: str
    numbers: dict[str, float]
    probability: float | None  # the posterior probability the insight rests on (None: none, or not meaningful)
    priority: float  # higher first
    action: str = ""  # a channel verdict's action (ACTIONS); "" for other findings
    planned_spend: tuple[float, ...] | None = None  # the allocation "open in the planner" applies
    probability_reason: str | None = None  # why `probability` is None although the finding rests on one
    move_withheld: bool = False  # a planner move was left out: the sampler did not converge


def break_even_multiplier(analysis: PeriodAnalysis, channel: str) -> float | None:
    """Smallest spend multiplier where the posterior-mean curve's marginal return drops below
    BREAK_EVEN_MROI (None if it never does on the 0-2x grid)."""
    curves = analysis.curves
    i = curves.channels.index(channel)
    spend = curves.spend_grid()[i]
    slope = np.diff(curves.mean[i]) / np.maximum(np.diff(spend), 1e-12)
    below = np.nonzero(slope < BREAK_EVEN_MROI)[0]
    if len(below) == 0:
        return None
    return float(curves.multipliers[below[0]])


def _roi_sentence(info: ModelInfo, row, p_above: float, trust: Trust) -> str:
    return (
        f"{info.roi_label} {ratio(row.roi_mean)} ({CI} {interval(row.roi_ci_lo, row.roi_ci_hi)}), "
        f"{trust.p(f'{info.roi_label} > 1', p_above)}"
    )


def _cpik_sentence(info: ModelInfo, row, scale: int) -> str:
    return "cost " + cost_interval(row.cpik_mean, row.cpik_ci_lo, row.cpik_ci_hi, f"incremental {info.kpi_name}", scale)


def relative_width(row, has_revenue: bool) -> float:
    """Width of the 90% interval of ROI (or cost per KPI) relative to its mean."""
    metric = "roi" if has_revenue else "cpik"
    mean = row[f"{metric}_mean"]
    if not np.isfinite(mean) or mean <= 0:
        return np.inf
    return float((row[f"{metric}_ci_hi"] - row[f"{metric}_ci_lo"]) / mean)


def _health_flags(health: HealthReview | None, channel: str) -> list:
    return [] if health is None else [c for c in health.flags_for(channel) if c.key not in ("convergence",)]


def too_uncertain(info: ModelInfo, analysis: PeriodAnalysis, channel: str, row, flags) -> bool:
    """Held out of the reallocation and told to test first: Meridian's review failed it, or its interval
    is wider than its mean while it is confidently neither above nor below break-even."""
    if any(c.status is CheckStatus.FAIL for c in flags):
        return True
    if relative_width(row, info.has_revenue) <= WIDE_INTERVAL:
        return False
    if not info.has_revenue:
        return True
    p = analysis.prob_roi_above(channel)
    return CONFIDENT > p > 1 - CONFIDENT


# -- the reallocation --------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Reallocation:
    channels: tuple[str, ...]
    historical: np.ndarray
    planned: np.ndarray
    held: tuple[str, ...]  # channels kept at their spend (too uncertain to move)
    gain: Summary  # expected incremental outcome, planned - historical
    p_better: float
    base_outcome: float


def reallocation(
    analysis: PeriodAnalysis, held: set[str] = frozenset(), has_revenue: bool = True
) -> Reallocation | None:
    """The planner's optimum of the same budget within the default bounds, on the same curves and
    rules as the Scenarios page, with `held` channels fixed at their spend, judged against today as the
    planner judges any plan (`core.metrics.judge_plans`). None when nothing can move."""
    model = analysis.curves.scenario_model
    hist = model.historical_spend
    lower, upper = model.default_bounds()
    fixed = np.array([c in held for c in model.channels])
    if fixed.all() or hist.sum() <= 0:
        return None
    lower, upper = np.where(fixed, hist, lower), np.where(fixed, hist, upper)
    planned = model.optimize_fixed(float(hist.sum()), lower, upper)
    before, after = model.per_draw_outcome(hist).sum(axis=1), model.per_draw_outcome(planned).sum(axis=1)
    judged = judge_plans(has_revenue, float(planned.sum()), after, float(hist.sum()), before)
    return Reallocation(
        model.channels,
        hist,
        planned,
        tuple(c for c, f in zip(model.channels, fixed, strict=True) if f),
        Summary(judged.difference.mean, judged.difference.ci_lo, judged.difference.ci_hi),
        judged.p_better,
        float(before.mean()),
    )


def reallocation_insight(info: ModelInfo, analysis: PeriodAnalysis, plan: Reallocation | None, trust: Trust):
    if plan is None:
        return Insight(
            "reallocate-budget",
            "reallocation",
            "",
            "No reallocation proposed",
            "Every channel is too uncertain to move budget on: test before reallocating (e.g. a geo experiment).",
            {"channels_to_test": float(len(analysis.channel_table()))},
            None,
            4,
        )
    delta = plan.planned - plan.historical
    budget = float(plan.historical.sum())
    moves = [(c, d) for c, d in zip(plan.channels, delta, strict=True) if abs(d) > 1e-9 * max(budget, 1)]
    moves.sort(key=lambda cd: -abs(cd[1]))
    listed = ", ".join(f"{c} {'+' if d >= 0 else '−'}{money(abs(d))}" for c, d in moves) or "no changes"
    rel = plan.gain.mean / plan.base_outcome if plan.base_outcome else np.nan
    window = analysis.curves_period.label if analysis.curves_period else analysis.period.label
    held = f" {', '.join(plan.held)} stay at their spend (too uncertain to move)." if plan.held else ""
    sure = (
        trust.p("better than today", plan.p_better)
        if plan.p_better >= CONFIDENT or not trust.probabilities_meaningful
        else f"but {trust.p('better than today', plan.p_better)} only: the gain may be noise"
    )

    def amount(x):
        return outcome(x, info.has_revenue)

    text = (
        f"Keeping the total at {money(budget)}, moving {listed} (the moves add up to zero) raises expected "
        f"incremental {info.outcome_label} by {amount(plan.gain.mean)} ({rel:+.1%}; {CI} "
        f"{interval(plan.gain.ci_lo, plan.gain.ci_hi, amount)}), {sure}. Each channel stays within {BOUND} of "
        f"its spend (response curves of {window}).{held}"
    )
    return Insight(
        "reallocate-budget",
        "reallocation",
        "",
        "Reallocate the same budget",
        trust.qualify(text),
        {
            "budget": budget,
            "outcome_gain": plan.gain.mean,
            "outcome_gain_ci_lo": plan.gain.ci_lo,
            "outcome_gain_ci_hi": plan.gain.ci_hi,
            "relative_gain": rel,
            "p_better": trust.probability(plan.p_better),
            **{f"spend_change_{c}": float(d) for c, d in zip(plan.channels, delta, strict=True)},
        },
        trust.probability(plan.p_better),
        4 + max(rel, 0) * 10,
        planned_spend=tuple(float(v) for v in plan.planned) if trust.probabilities_meaningful else None,
        probability_reason=trust.probability_reason,
        move_withheld=not trust.probabilities_meaningful,
    )


# -- one verdict per channel -------------------------------------------------------------------
def _verdict(
    info: ModelInfo, analysis: PeriodAnalysis, channel: str, row, plan: Reallocation | None, flags, trust: Trust
) -> Insight:
    has_revenue = info.has_revenue
    p_roi = analysis.prob_roi_above(channel)
    p_mroi = analysis.prob_mroi_above(channel)
    width = relative_width(row, has_revenue)
    numbers = {
        "roi_mean": row.roi_mean,
        "roi_ci_lo": row.roi_ci_lo,
        "roi_ci_hi": row.roi_ci_hi,
        "mroi_mean": row.mroi_mean,
        "cpik_mean": row.cpik_mean,
        "cpik_ci_lo": row.cpik_ci_lo,
        "cpik_ci_hi": row.cpik_ci_hi,
        "spend": row.spend,
        "incremental_outcome_mean": row.incremental_outcome_mean,
        "relative_interval_width": width,
    }
    i = plan.channels.index(channel) if plan is not None else None
    move = 0.0 if plan is None or plan.historical[i] <= 0 else float(plan.planned[i] / plan.historical[i] - 1)
    numbers["planned_move"] = move
    headline = (
        _roi_sentence(info, row, p_roi, trust)
        if has_revenue
        else _cpik_sentence(info, row, analysis.cost_scale)
    )
    planned = None
    failed = [c for c in flags if c.status is CheckStatus.FAIL]
    probability: float | None = None
    if has_revenue and 1 - p_roi >= CONFIDENT and not failed:
        action, probability = "cut", 1 - p_roi
        below = f"; {trust.p(f'{info.roi_label} < 1', 1 - p_roi)}" if trust.converged else ""  # stated once
        text = (
            f"{headline}{below}. Its {money(row.spend)} of spend brings back "
            f"{money(row.incremental_outcome_mean)}: cut it or change how it is bought."
        )
        if move >= MOVE:
            text += (
                f" (Within the same total the planner still moves {move:+.0%} here: the channels it takes budget "
                "from return even less at the margin.)"
            )
        planned = plan.planned if plan is not None and move < -MOVE / 2 else None
    elif too_uncertain(info, analysis, channel, row, flags):
        action = "test"
        metric = info.roi_label if has_revenue else f"cost per incremental {info.kpi_name}"
        why = (
            f"Meridian's health review failed it ({', '.join(c.name for c in failed)})"
            if failed
            else f"the {CI} of {metric} is {width:.1f}× as wide as its mean"
        )
        text = (
            f"{headline}: {why}. Test before moving budget (e.g. a geo experiment); the reallocation leaves it "
            "as it is."
        )
    elif abs(move) >= MOVE:
        action = "shift-in" if move > 0 else "shift-out"
        hist = plan.historical[i]
        change = f"{move:+.0%} ({money(hist)} → {money(plan.planned[i])})"
        if move > 0:
            margin = (
                f" At the margin it still returns less than it costs (mROI {ratio(row.mroi_mean)}), so fund it from "
                "the other channels rather than new budget."
                if has_revenue and row.mroi_mean < BREAK_EVEN_MROI
                else ""
            )
            text = (
                f"{headline}. Within the same total budget the planner moves {change} here: its next unit of spend "
                f"returns more than the channels it takes budget from.{margin}"
            )
        else:
            text = (
                f"{headline}. Within the same total budget the planner moves {change} from here to channels whose "
                "next unit of spend returns more."
            )
        planned, probability = plan.planned, plan.p_better
    elif has_revenue and p_roi >= CONFIDENT and row.mroi_mean > BREAK_EVEN_MROI:
        action, probability = "grow", p_roi
        text = (
            f"{headline}; mROI {ratio(row.mroi_mean)} ({trust.p('mROI > 1', p_mroi)}): its next unit of spend still "
            "returns more than it costs, so new budget can go here."
        )
    elif has_revenue and row.mroi_mean < BREAK_EVEN_MROI <= row.roi_mean:
        action, probability = "hold-trim", 1 - p_mroi
        point = break_even_multiplier(analysis, channel)
        where = (
            f"Its curve reaches break-even (mROI = 1) at {point:.2f}× current spend."
            if point is not None
            else "Its curve's marginal return is below 1 from the start."
        )
        text = (
            f"{headline}, but mROI is {ratio(row.mroi_mean)} ({trust.p('mROI < 1', 1 - p_mroi)}): the next unit of "
            f"spend returns less than it costs. {where} Hold or trim rather than add."
        )
    else:
        action = "hold"
        text = f"{headline}. No confident case to move its budget: keep it as it is."
    if flags and not failed:
        text += (
            " Meridian's health review flags it: "
            + "; ".join(f"{c.name} ({c.status.label.lower()})" for c in flags)
            + "."
        )
    title = f"{channel}: {ACTION_LABELS[action]}" + (" (provisional)" if trust.low else "")
    return Insight(
        f"verdict-{channel}",
        ACTION_KIND[action],
        channel,
        title,
        trust.qualify(text) if probability is not None else text,
        numbers,
        trust.probability(probability),
        2 - ACTIONS.index(action) / 10,
        action=action,
        planned_spend=None if planned is None or not trust.probabilities_meaningful else tuple(map(float, planned)),
        probability_reason=trust.probability_reason if probability is not None else None,
        move_withheld=planned is not None and not trust.probabilities_meaningful,
    )


def planned_moves(bundle: Bundle, analysis: PeriodAnalysis) -> tuple[Reallocation | None, dict[str, list]]:
    """The reallocation with the too-uncertain channels held, and each channel's health flags."""
    table = analysis.channel_table()
    flags = {ch: _health_flags(bundle.health, ch) for ch in table.index}
    held = {ch for ch, row in table.iterrows() if too_uncertain(bundle.info, analysis, ch, row, flags[ch])}
    return reallocation(analysis, held, bundle.info.has_revenue), flags


def channel_verdicts(bundle: Bundle, analysis: PeriodAnalysis, trust: Trust | None = None, moves=None) -> list[Insight]:
    """One verdict per paid channel, uncertain first, then what to act on (see the module docstring);
    `moves`: `planned_moves`' result when the caller has it already."""
    info, trust = bundle.info, trust or assess_trust(bundle, analysis)
    plan, flags = moves or planned_moves(bundle, analysis)
    table = analysis.channel_table()
    verdicts = [_verdict(info, analysis, ch, row, plan, flags[ch], trust) for ch, row in table.iterrows()]
    return sorted(verdicts, key=lambda v: (ACTIONS.index(v.action), -float(v.numbers["spend"])))  # uncertain first


def trust_insight(trust: Trust) -> Insight | None:
    if trust.level is TrustLevel.HIGH:
        return None
    low = trust.low
    text = trust.headline + ". " + " ".join(f"To fix: {f}" for f in trust.fixes[:3])
    if not trust.probabilities_meaningful:
        text += (
            " Until the sampler converges, findings state no probabilities and propose no planner moves: "
            f"they are {NOT_MEANINGFUL}."
        )
    return Insight(
        "trust",
        "trust",
        "",
        "Fix the model before acting on it" if low else "Read these findings with care",
        text,
        {"reasons": float(len(trust.reasons))},
        None,
        10 if low else 6,
    )


def portfolio_insight(info: ModelInfo, analysis: PeriodAnalysis) -> Insight:
    """What paid media did overall, with the best and worst channel."""
    total = analysis.total()
    table = analysis.channel_table()
    share = f"{pct(total.pct_of_contribution_mean)} of {info.outcome_label}"
    share_ci = interval(total.pct_of_contribution_ci_lo, total.pct_of_contribution_ci_hi, pct)
    if info.has_revenue:
        best, worst = table["roi_mean"].idxmax(), table["roi_mean"].idxmin()
        efficiency = (
            f"{info.roi_label} {ratio(total.roi_mean)} ({CI} {interval(total.roi_ci_lo, total.roi_ci_hi)}). "
            f"Highest {info.roi_label}: {best} ({ratio(table.loc[best, 'roi_mean'])}); "
            f"lowest: {worst} ({ratio(table.loc[worst, 'roi_mean'])})."
        )
    else:
        best, worst = table["cpik_mean"].idxmin(), table["cpik_mean"].idxmax()
        per, scale = f"incremental {info.kpi_name}", analysis.cost_scale
        efficiency = (
            f"{cost_interval(total.cpik_mean, total.cpik_ci_lo, total.cpik_ci_hi, per, scale)}. Cheapest: {best} "
            f"({cost_per_kpi(table.loc[best, 'cpik_mean'], per, scale)}); most expensive: {worst} "
            f"({cost_per_kpi(table.loc[worst, 'cpik_mean'], per, scale)})."
        )
    return Insight(
        "portfolio",
        "info",
        "",
        "Paid media overall",
        f"Paid media drove {share} ({CI} {share_ci}), {outcome(total.incremental_outcome_mean, info.has_revenue)} "
        f"for {money(total.spend)} of spend: {efficiency}",
        {
            "roi_mean": total.roi_mean,
            "roi_ci_lo": total.roi_ci_lo,
            "roi_ci_hi": total.roi_ci_hi,
            "cpik_mean": total.cpik_mean,
            "pct_of_contribution_mean": total.pct_of_contribution_mean,
            "spend": total.spend,
            "incremental_outcome_mean": total.incremental_outcome_mean,
        },
        None,
        5,
    )


def build_insights(bundle: Bundle, analysis: PeriodAnalysis) -> list[Insight]:
    """All findings for one view: what to fix (when trust is not high), the portfolio, the
    reallocation, then one verdict per channel (uncertain first)."""
    info = bundle.info
    trust = assess_trust(bundle, analysis)
    moves = planned_moves(bundle, analysis)  # one reallocation serves the finding and every verdict
    verdicts = channel_verdicts(bundle, analysis, trust, moves)
    out = [trust_insight(trust), portfolio_insight(info, analysis)]
    out.append(reallocation_insight(info, analysis, moves[0], trust))
    return [i for i in out if i is not None] + verdicts
