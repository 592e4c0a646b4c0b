"""The per-channel metrics table shared by the ROI page grid and the exports."""

from __future__ import annotations

import pandas as pd

from mmm_dash.core.bundle import STATS, PeriodAnalysis

METRIC_ORDER = ("incremental_outcome", "pct_of_contribution", "roi", "mroi", "effectiveness", "cpik")
MARGINAL_COST = "mcpik"  # a KPI model's marginal cost per KPI (1 / mROI per draw), only in such models' tables
COST_METRICS = ("cpik", MARGINAL_COST)
KPI_METRICS = ("mcpik", "incremental_kpi")  # where the model has a KPI: marginal cost per KPI, the KPI beside revenue
PLAIN_COLUMNS = ("spend", "pct_of_spend", "impressions")


def metric_columns() -> list[str]:
    """Columns of the per-channel table, in display and export order."""
    return list(PLAIN_COLUMNS) + [f"{m}_{s}" for m in METRIC_ORDER for s in STATS]


def metrics_of(table: pd.DataFrame) -> tuple[str, ...]:
    """METRIC_ORDER, then the KPI_METRICS this model's table has (stable order)."""
    return METRIC_ORDER + tuple(m for m in KPI_METRICS if f"{m}_mean" in table.columns)


def channel_metrics(analysis: PeriodAnalysis, include_total: bool = False) -> pd.DataFrame:
    """One row per paid channel (and optionally the paid total), stable column order."""
    table = analysis.channels if include_total else analysis.channel_table()
    extra = [f"{m}_{s}" for m in metrics_of(table)[len(METRIC_ORDER) :] for s in STATS]
    out = table.reindex(columns=metric_columns() + extra).reset_index().rename(columns={"index": "channel"})
    if "channel" not in out:
        out.insert(0, "channel", table.index)
    out["channel"] = out["channel"].astype(str)
    return out


def in_cost_scale(table: pd.DataFrame, scale: int) -> pd.DataFrame:
    """The table with every cost per KPI column (and its marginal) multiplied by the view's cost scale
    (`PeriodAnalysis.cost_scale`), for a grid or chart that states costs per 1,000 KPI."""
    if scale == 1:
        return table
    out = table.copy()
    cols = [c for c in out.columns if c.split("_")[0] in COST_METRICS]
    out[cols] = out[cols] * scale
    return out


def in_units(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """`table` with its incremental_outcome_* columns read from `<metric>_*` (e.g. incremental_kpi), so a chart
    of the incremental outcome shows the KPI; `table` itself when `metric` is incremental_outcome."""
    if metric == "incremental_outcome" or table.empty:
        return table
    return table.assign(**{f"incremental_outcome_{s}": table[f"{metric}_{s}"] for s in STATS})
