"""Rule-based recommendations from posterior quantities. Every insight carries its numbers and the
probability behind it; nothing here invents a figure the bundle does not hold."""

from __future__ import annotations

import dataclasses

import numpy as np

from mmm_dash.core.bundle import ModelInfo, PeriodAnalysis
from mmm_dash.core.formatting import BOUND, CI, LEVEL, compact, interval, pct, prob, ratio

CONFIDENT = 0.9  # posterior probability we call "confident"
WIDE_INTERVAL = 1.0  # credible interval wider than the mean itself: too uncertain to act on
SATURATION_MROI = 1.0  # saturation point: where the next unit of spend returns less than it costs

KIND_ORDER = {"opportunity": 0, "warning": 1, "reallocation": 2, "caution": 3, "info": 4}


@dataclasses.dataclass(frozen=True)
class Insight:
    id: str
    kind: str  # opportunity, warning, reallocation, caution, info
    channel: str  # channel name, or "" for the whole portfolio
    title: str
    text: str
    numbers: dict[str, float]
    probability: float | None  # the posterior probability the insight rests on
    priority: float  # higher first


def saturation_multiplier(analysis: PeriodAnalysis, channel: str) -> float | None:
    """Smallest spend multiplier where the posterior-mean curve's marginal return drops below
    SATURATION_MROI (None if it never does on the 0-2x grid)."""
    curves = analysis.curves
    i = curves.channels.index(channel)
    spend = curves.spend_grid()[i]
    slope = np.diff(curves.mean[i]) / np.maximum(np.diff(spend), 1e-12)
    below = np.nonzero(slope < SATURATION_MROI)[0]
    if len(below) == 0:
        return None
    return float(curves.multipliers[below[0]])


def _roi_sentence(info: ModelInfo, row, p_above: float) -> str:
    return (
        f"{info.roi_label} {ratio(row.roi_mean)} ({CI} {interval(row.roi_ci_lo, row.roi_ci_hi)}), "
        f"P({info.roi_label} > 1) {prob(p_above)}"
    )


def channel_insights(info: ModelInfo, analysis: PeriodAnalysis) -> list[Insight]:
    """Per-channel rules: room to grow, saturated, unprofitable, too uncertain, cost per KPI."""
    out: list[Insight] = []
    table = analysis.channel_table()
    for channel, row in table.iterrows():
        p_roi = analysis.prob_roi_above(channel)
        p_mroi = analysis.prob_mroi_above(channel)
        width = (row.roi_ci_hi - row.roi_ci_lo) / row.roi_mean if row.roi_mean > 0 else np.inf
        base = {
            "roi_mean": row.roi_mean,
            "roi_ci_lo": row.roi_ci_lo,
            "roi_ci_hi": row.roi_ci_hi,
            "mroi_mean": row.mroi_mean,
            "spend": row.spend,
            "incremental_outcome_mean": row.incremental_outcome_mean,
        }
        sat = saturation_multiplier(analysis, channel)
        if info.has_revenue and p_roi >= CONFIDENT and row.mroi_mean > 1:
            out.append(
                Insight(
                    f"scale-{channel}",
                    "opportunity",
                    channel,
                    f"{channel}: room to grow",
                    f"{channel}: {_roi_sentence(info, row, p_roi)}; mROI {ratio(row.mroi_mean)} "
                    f"(P(mROI > 1) {prob(p_mroi)}) is above 1, so more spend still pays.",
                    {**base, "p_roi_above_1": p_roi, "p_mroi_above_1": p_mroi},
                    p_roi,
                    3 + row.mroi_mean,
                )
            )
        elif info.has_revenue and row.mroi_mean < 1 <= row.roi_mean:
            where = (
                f"the curve's marginal return falls below 1 at {sat:.2f}x of current spend"
                if sat is not None
                else "the curve flattens"
            )
            out.append(
                Insight(
                    f"saturated-{channel}",
                    "warning",
                    channel,
                    f"{channel}: saturated",
                    f"{channel}: {_roi_sentence(info, row, p_roi)}, but mROI is {ratio(row.mroi_mean)} "
                    f"(P(mROI < 1) {prob(1 - p_mroi)}): {where}. Hold or trim spend rather than add.",
                    {**base, "p_mroi_below_1": 1 - p_mroi, "saturation_multiplier": np.nan if sat is None else sat},
                    1 - p_mroi,
                    2 + (1 - row.mroi_mean),
                )
            )
        if info.has_revenue and 1 - p_roi >= CONFIDENT:
            out.append(
                Insight(
                    f"unprofitable-{channel}",
                    "warning",
                    channel,
                    f"{channel}: returns less than it costs",
                    f"{channel}: {_roi_sentence(info, row, p_roi)}; P({info.roi_label} < 1) {prob(1 - p_roi)}. "
                    f"Its {compact(row.spend)} of spend brings back {compact(row.incremental_outcome_mean)}: "
                    "cut it or change how it is bought.",
                    {**base, "p_roi_below_1": 1 - p_roi},
                    1 - p_roi,
                    2.5 + (1 - row.roi_mean),
                )
            )
        if width > WIDE_INTERVAL:
            out.append(
                Insight(
                    f"uncertain-{channel}",
                    "caution",
                    channel,
                    f"{channel}: too uncertain to act on",
                    f"{channel}: the {LEVEL} interval of {info.roi_label} runs from {ratio(row.roi_ci_lo)} to "
                    f"{ratio(row.roi_ci_hi)}, wider than its mean {ratio(row.roi_mean)} "
                    f"({width:.1f}x). Test before moving budget (e.g. a geo experiment).",
                    {**base, "relative_interval_width": width},
                    None,
                    0.5 + min(width, 3) / 10,
                )
            )
        if not info.has_revenue:
            portfolio = analysis.total()
            out.append(
                Insight(
                    f"cpik-{channel}",
                    "info",
                    channel,
                    f"{channel}: cost per incremental {info.kpi_name}",
                    f"{channel}: cost per incremental {info.kpi_name} {compact(row.cpik_mean)} "
                    f"({CI} {interval(row.cpik_ci_lo, row.cpik_ci_hi, compact)}) vs "
                    f"{compact(portfolio.cpik_mean)} for all paid channels.",
                    {
                        "cpik_mean": row.cpik_mean,
                        "cpik_ci_lo": row.cpik_ci_lo,
                        "cpik_ci_hi": row.cpik_ci_hi,
                        "portfolio_cpik_mean": portfolio.cpik_mean,
                    },
                    None,
                    1 + (portfolio.cpik_mean / row.cpik_mean if row.cpik_mean > 0 else 0),
                )
            )
    return out


def reallocation_insights(info: ModelInfo, analysis: PeriodAnalysis) -> list[Insight]:
    """From Meridian's own budget optimization at the historical budget."""
    opt = analysis.optimizations.get(1.0)
    if opt is None:
        return []
    gain = opt.total_optimal_outcome - opt.total_nonoptimized_outcome
    rel = gain / opt.total_nonoptimized_outcome if opt.total_nonoptimized_outcome else np.nan
    delta = opt.optimal_spend - opt.historical_spend
    moves = sorted(zip(opt.channels, delta, strict=True), key=lambda cd: -abs(cd[1]))
    parts = [f"{c} {'+' if d >= 0 else '-'}{compact(abs(d))}" for c, d in moves if abs(d) > 1e-6 * opt.budget]
    out = [
        Insight(
            "reallocate-budget",
            "reallocation",
            "",
            "Reallocate the same budget",
            f"Meridian's budget optimization keeps the total at {compact(opt.budget)} and moves spend "
            f"({', '.join(parts[:5]) or 'no changes'}), raising expected incremental {info.outcome_label} by "
            f"{compact(gain)} ({rel:+.1%}) from {compact(opt.total_nonoptimized_outcome)} to "
            f"{compact(opt.total_optimal_outcome)}, within {BOUND} of each channel's spend.",
            {
                "budget": opt.budget,
                "outcome_gain": gain,
                "relative_gain": rel,
                **{f"spend_change_{c}": float(d) for c, d in moves},
            },
            None,
            4 + max(rel, 0) * 10,
        )
    ]
    for channel, d, hist, o_new, o_old in zip(
        opt.channels, delta, opt.historical_spend, opt.optimal_outcome, opt.nonoptimized_outcome, strict=True
    ):
        if hist > 0 and abs(d) / hist >= 0.1:
            verb = "Increase" if d > 0 else "Decrease"
            out.append(
                Insight(
                    f"move-{channel}",
                    "reallocation",
                    channel,
                    f"{verb} {channel}",
                    f"{verb} {channel} by {compact(abs(d))} ({d / hist:+.0%}, from {compact(hist)} to "
                    f"{compact(hist + d)}): expected incremental {info.outcome_label} changes by "
                    f"{compact(o_new - o_old)} (Meridian budget optimization).",
                    {
                        "spend_change": float(d),
                        "relative_spend_change": float(d / hist),
                        "outcome_change": float(o_new - o_old),
                    },
                    None,
                    3 + abs(d) / hist,
                )
            )
    return out


def portfolio_insight(info: ModelInfo, analysis: PeriodAnalysis) -> Insight:
    """What paid media did overall, with the best and worst channel."""
    total = analysis.total()
    table = analysis.channel_table()
    best = table["roi_mean"].idxmax()
    worst = table["roi_mean"].idxmin()
    return Insight(
        "portfolio",
        "info",
        "",
        "Paid media overall",
        f"Paid media drove {pct(total.pct_of_contribution_mean)} of {info.outcome_label} "
        f"({CI} {interval(total.pct_of_contribution_ci_lo, total.pct_of_contribution_ci_hi, pct)}), "
        f"{compact(total.incremental_outcome_mean)} for {compact(total.spend)} of spend: "
        f"{info.roi_label} {ratio(total.roi_mean)} ({CI} {interval(total.roi_ci_lo, total.roi_ci_hi)}). "
        f"Highest {info.roi_label}: {best} ({ratio(table.loc[best, 'roi_mean'])}); "
        f"lowest: {worst} ({ratio(table.loc[worst, 'roi_mean'])}).",
        {
            "roi_mean": total.roi_mean,
            "roi_ci_lo": total.roi_ci_lo,
            "roi_ci_hi": total.roi_ci_hi,
            "pct_of_contribution_mean": total.pct_of_contribution_mean,
            "spend": total.spend,
            "incremental_outcome_mean": total.incremental_outcome_mean,
        },
        None,
        5,
    )


def build_insights(info: ModelInfo, analysis: PeriodAnalysis) -> list[Insight]:
    """All insights for one period, most important first."""
    insights = [portfolio_insight(info, analysis)]
    insights += channel_insights(info, analysis)
    insights += reallocation_insights(info, analysis)
    return sorted(insights, key=lambda i: (-i.priority, KIND_ORDER.get(i.kind, 9), i.id))
