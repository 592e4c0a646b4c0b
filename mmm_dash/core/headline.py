"""The view's headline numbers (spend, incremental outcome, blended ROI or cost per KPI, media share),
written once: the Overview's cards and the deck's headline slide both call `headline_numbers`."""

from __future__ import annotations

import dataclasses

from mmm_dash.core import formatting
from mmm_dash.core.bundle import ModelInfo, PeriodAnalysis
from mmm_dash.core.formatting import CI, interval, money, outcome, pct, ratio


@dataclasses.dataclass(frozen=True)
class Headline:
    label: str
    value: str
    detail: str
    card_id: str


def headline_numbers(info: ModelInfo, analysis: PeriodAnalysis, in_kpi: bool = False) -> list[Headline]:
    """The four headline numbers of `analysis`; `in_kpi` states a revenue model's KPI and its cost
    (units=kpi) as a KPI-only model's are stated."""
    total = analysis.total()
    in_revenue = info.has_revenue and not in_kpi
    label = info.kpi_name if in_kpi else info.outcome_label
    inc = "incremental_kpi" if in_kpi else "incremental_outcome"

    def amount(x):
        return outcome(x, in_revenue)

    if in_revenue:
        efficiency = Headline(
            "Blended ROI", ratio(total.roi_mean), f"{CI} " + interval(total.roi_ci_lo, total.roi_ci_hi), "card-roi"
        )
    else:  # a KPI: what a unit of it costs (in the view's one cost scale), never KPI per unit of money
        scale = analysis.cost_scale
        per = f"per 1,000 incremental {info.kpi_name}" if scale > 1 else f"per incremental {info.kpi_name}"
        efficiency = Headline(
            f"Cost {per}",
            money(total.cpik_mean * scale),
            f"{CI} {money(total.cpik_ci_lo * scale)}–{money(total.cpik_ci_hi * scale)}",
            "card-roi",
        )
    return [
        Headline(
            f"Total paid spend ({formatting.CURRENCY.code})",
            money(total.spend),
            f"{len(info.paid_channels)} paid channels",
            "card-spend",
        ),
        Headline(
            f"Incremental {label}" + (f" ({formatting.CURRENCY.code})" if in_revenue else ""),
            amount(total[f"{inc}_mean"]),
            f"{CI} " + interval(total[f"{inc}_ci_lo"], total[f"{inc}_ci_hi"], amount),
            "card-outcome",
        ),
        efficiency,
        Headline(
            f"Share of {info.outcome_label} from media",
            pct(total.pct_of_contribution_mean),
            f"{CI} {interval(total.pct_of_contribution_ci_lo, total.pct_of_contribution_ci_hi, pct)}",
            "card-share",
        ),
    ]
