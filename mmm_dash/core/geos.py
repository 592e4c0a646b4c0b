"""Geo drill-down: every geo of a geo model side by side for one period, from the window engine.

Each geo's numbers are `bundle.period(period_key, geo)`, which equal Meridian's
`summary_metrics(selected_times=..., selected_geos=[geo])`; only the spend share across geos is
computed here (a geo's spend over the spend of all geos). A geo's contribution share is its paid
media's incremental outcome as a percent of that geo's own expected outcome, as Meridian defines it.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from mmm_dash.core.bundle import Bundle, Period
from mmm_dash.core.over_time import INTERVAL_STATS, efficiency_metric

TOP_GEOS = 12  # small multiples beyond this many panels stop being readable; the table lists every geo


def _stats(metric: str) -> list[str]:
    return [f"{metric}_{s}" for s in INTERVAL_STATS]


def geo_columns(efficiency: str) -> list[str]:
    """The per-geo table's columns, in display order."""
    return [
        "geo",
        "spend",
        "pct_of_spend",
        *_stats("incremental_outcome"),
        *_stats(efficiency),
        *_stats("pct_of_contribution"),
    ]


def channel_columns(efficiency: str) -> list[str]:
    """The per-geo-and-channel table's columns, in display order."""
    return ["geo", "channel", "spend", "pct_of_spend", *_stats("incremental_outcome"), *_stats(efficiency)]


@dataclasses.dataclass(frozen=True)
class GeoBreakdown:
    """One period's results per geo (paid total) and per geo and paid channel."""

    period: Period
    efficiency: str  # "roi" or "cpik"
    geos: pd.DataFrame  # `geo_columns`, one row per geo, most spend first
    channels: pd.DataFrame  # `channel_columns`, geo by geo (same order), paid channels in model order

    def top(self, n: int = TOP_GEOS) -> list[str]:
        """The `n` geos with the most spend, most first."""
        return list(self.geos["geo"].head(n))


def geo_breakdown(bundle: Bundle, period_key: str) -> GeoBreakdown:
    """Every geo of `bundle` for the period `period_key` (a preset or range key). A national model
    has no geos: ValueError."""
    info = bundle.info
    if info.is_national or not info.geos:
        raise ValueError("This model is national: it has no geos.")
    efficiency = efficiency_metric(info)
    analyses = {geo: bundle.period(period_key, geo) for geo in info.geos}
    totals = pd.DataFrame([{"geo": geo, **a.total().to_dict()} for geo, a in analyses.items()])
    all_spend = float(totals["spend"].sum())
    totals["pct_of_spend"] = totals["spend"] / all_spend * 100 if all_spend else np.nan
    totals = totals.sort_values("spend", ascending=False, kind="stable").reset_index(drop=True)
    order = list(totals["geo"])
    measures = channel_columns(efficiency)[2:]
    paid = list(bundle.draws.channels)
    per_channel = [analyses[geo].channels.loc[paid, measures].assign(geo=geo) for geo in order]
    channels = pd.concat(per_channel).rename_axis("channel").reset_index()
    channels = channels.reindex(columns=channel_columns(efficiency))
    channels["channel"] = channels["channel"].astype(str)
    period = next(iter(analyses.values())).period
    return GeoBreakdown(period, efficiency, totals.reindex(columns=geo_columns(efficiency)), channels)
