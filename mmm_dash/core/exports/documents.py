"""Export documents: pure functions from the bundle to JSON documents, CSV and plain text.

JSON keys are stable (documented in README). Numbers stay numbers; a non-finite number is null.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import unicodedata
from typing import Any

import numpy as np

from mmm_dash.core import formatting
from mmm_dash.core.bundle import CONFIDENCE, STATS, Bundle, PeriodAnalysis
from mmm_dash.core.formatting import CI, LEVEL, csv_number, interval, money, outcome, ratio
from mmm_dash.core.insights import Insight, build_insights
from mmm_dash.core.scenario import ScenarioModel, ScenarioOutcome
from mmm_dash.core.tables import KPI_METRICS, METRIC_ORDER, PLAIN_COLUMNS, channel_metrics

FORMAT_VERSION = 1
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
INSIGHT_CSV_NUMBERS = ("roi_mean", "roi_ci_lo", "roi_ci_hi", "mroi_mean", "spend", "incremental_outcome_mean")


def clean(value: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN/inf to None, recursively."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return [clean(v) for v in value.tolist()]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


def neutralize(cell: Any) -> Any:
    """Defuse spreadsheet formulas in text cells (channel names come from model files). The first
    character is compared in its NFKC form, since spreadsheets also start formulas with the full-width
    and other compatibility forms of the starters (＝ ＋ － ＠, ﹦ ⁼)."""
    if isinstance(cell, str) and cell and unicodedata.normalize("NFKC", cell[0]).startswith(FORMULA_PREFIXES):
        return "'" + cell
    return cell


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, float | np.floating):
        return csv_number(float(value)) if math.isfinite(value) else ""
    return neutralize(value)


def csv_text(rows: list[list]) -> str:
    """CSV with CRLF line ends, formula-like cells defused, numbers at sensible precision (amounts to
    the cent, the rest to six significant digits; JSON keeps full precision) and non-finite ones empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_cell(c) for c in row])
    return buffer.getvalue()


def _header(bundle: Bundle, analysis: PeriodAnalysis) -> dict:
    info = bundle.info
    return {
        "format_version": FORMAT_VERSION,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "model": {
            "name": info.name,
            "version": info.version or None,
            "fit_date": info.fit_date or None,
            "file": info.file_name,
            "sha256": info.sha256,
            "meridian_version": info.meridian_version,
            "kpi": info.kpi_name,
            "kpi_type": info.kpi_type,
            "outcome": info.outcome_label,
            "outcome_is_revenue": info.has_revenue,
        },
        "period": {
            "key": analysis.period.key,
            "label": analysis.period.label,
            "start": analysis.period.start,
            "end": analysis.period.end,
            "n_times": analysis.period.n_times,
            "kind": analysis.period.kind,
        },
        "geo": analysis.geo,
        "currency": {"code": formatting.CURRENCY.code, "symbol": formatting.CURRENCY.symbol.strip()},
        "confidence_level": CONFIDENCE,
    }


def _channel_record(row) -> dict:
    record = {"channel": str(row["channel"])}
    record.update({col: row[col] for col in PLAIN_COLUMNS})
    for metric in METRIC_ORDER + tuple(m for m in KPI_METRICS if f"{m}_mean" in row.index):
        record[metric] = {stat: row[f"{metric}_{stat}"] for stat in STATS}
    return record


def _non_paid_records(analysis: PeriodAnalysis) -> list[dict]:
    table = analysis.non_paid
    metrics = ("incremental_outcome", "pct_of_contribution", "effectiveness", "incremental_kpi")
    return [
        {"channel": str(ch), **{m: {s: row[f"{m}_{s}"] for s in STATS} for m in metrics if f"{m}_mean" in row}}
        for ch, row in table.iterrows()
    ]


def health_document(bundle: Bundle, analysis: PeriodAnalysis) -> dict:
    """`health.json`: Meridian's model health review of the model file (the same for every period)."""
    return clean({**_header(bundle, analysis), "health": bundle.health.as_dict() if bundle.health else None})


def metrics_document(bundle: Bundle, analysis: PeriodAnalysis) -> dict:
    """`metrics.json`: every paid channel's metrics, the paid total, organic and non-media channels,
    the baseline and the model's health review."""
    table = channel_metrics(analysis, include_total=True)
    rows = [_channel_record(r) for _i, r in table.iterrows()]
    return clean(
        {
            **_header(bundle, analysis),
            "channels": rows[:-1],
            "total": rows[-1],
            "non_paid": _non_paid_records(analysis),
            "baseline": {
                "incremental_outcome": {s: analysis.baseline[f"incremental_outcome_{s}"] for s in STATS},
                "pct_of_contribution": {s: analysis.baseline[f"pct_of_contribution_{s}"] for s in STATS},
                **(
                    {"incremental_kpi": {s: analysis.baseline[f"incremental_kpi_{s}"] for s in STATS}}
                    if "incremental_kpi_mean" in analysis.baseline
                    else {}
                ),
            },
            "health": bundle.health.as_dict() if bundle.health else None,
        }
    )


def insights_document(bundle: Bundle, analysis: PeriodAnalysis, insights: list[Insight] | None = None) -> dict:
    """`insights.json`: the period's insights with their numbers and probabilities (null, with a
    `probability_reason`, when the sampler did not converge: see `core.trust.converged`)."""
    insights = insights if insights is not None else build_insights(bundle, analysis)
    return clean(
        {
            **_header(bundle, analysis),
            "insights": [
                {
                    "id": i.id,
                    "kind": i.kind,
                    "channel": i.channel,
                    "title": i.title,
                    "text": i.text,
                    "probability": i.probability,
                    "probability_reason": i.probability_reason,
                    "numbers": i.numbers,
                }
                for i in insights
            ],
        }
    )


def money_columns(columns: list[str], has_revenue: bool) -> list[str]:
    """Column names with the currency where the column is an amount: `spend_usd`, `cpik_mean_usd`,
    and incremental outcome when it is revenue."""
    code = formatting.CURRENCY.code.lower()
    money = ("spend", "cpik_", "mcpik_") + (("incremental_outcome_",) if has_revenue else ())
    return [f"{c}_{code}" if c == "spend" or c.startswith(money[1:]) else c for c in columns]


def metrics_csv(analysis: PeriodAnalysis, has_revenue: bool = True) -> str:
    """`metrics.csv`: the per-channel table, one row per paid channel."""
    table = channel_metrics(analysis)
    header = money_columns(list(table.columns), has_revenue)
    return csv_text([header] + [[*r] for r in table.itertuples(index=False)])


def insights_csv(insights: list[Insight]) -> str:
    """`insights.csv`: one row per insight, its main numbers in columns and all of them as JSON."""
    header = [
        "id",
        "kind",
        "channel",
        "title",
        "text",
        "probability",
        "probability_reason",
        *INSIGHT_CSV_NUMBERS,
        "numbers_json",
    ]
    rows = [header]
    for i in insights:
        rows.append(
            [
                i.id,
                i.kind,
                i.channel,
                i.title,
                i.text,
                "" if i.probability is None else i.probability,
                i.probability_reason or "",
                *[i.numbers.get(k, "") for k in INSIGHT_CSV_NUMBERS],
                json.dumps(clean(i.numbers), sort_keys=True),
            ]
        )
    return csv_text(rows)


def insights_text(bundle: Bundle, analysis: PeriodAnalysis, insights: list[Insight]) -> str:
    """`insights.txt`: a headline and the numbered insights, for pasting into an email."""
    info, total = bundle.info, analysis.total()
    outcome_ci = interval(
        total.incremental_outcome_ci_lo, total.incremental_outcome_ci_hi, lambda x: outcome(x, info.has_revenue)
    )
    lines = [
        f"Media-mix model insights: {info.name}",
        f"Period: {analysis.period.label}",
        f"KPI: {info.kpi_description}; outcome measured in {info.outcome_label}; intervals are {LEVEL} credible "
        "intervals.",
        "",
        f"Paid spend {money(total.spend)} drove "
        f"{outcome(total.incremental_outcome_mean, info.has_revenue)} incremental "
        f"{info.outcome_label} ({CI} {outcome_ci}); "
        f"blended {info.roi_label} {ratio(total.roi_mean)} ({CI} {interval(total.roi_ci_lo, total.roi_ci_hi)}).",
        "",
    ]
    for n, i in enumerate(insights, 1):
        lines.append(f"{n}. {i.title}")
        lines.append(f"   {i.text}")
        lines.append("")
    lines.append(f"Model file {info.file_name} (sha256 {info.sha256[:12]}), Meridian {info.meridian_version}.")
    return "\n".join(lines) + "\n"


# -- saved scenarios -----------------------------------------------------------------------------
def scenario_rows(model: ScenarioModel, outcome: ScenarioOutcome) -> list[dict]:
    """Per-channel rows plus a total row, for a saved scenario's downloads."""
    rows = []
    for i, channel in enumerate(model.channels):
        rows.append(
            {
                "channel": channel,
                "historical_spend": float(model.historical_spend[i]),
                "scenario_spend": float(outcome.spend[i]),
                "incremental_outcome_mean": float(outcome.outcome_mean[i]),
                "incremental_outcome_ci_lo": float(outcome.outcome_ci_lo[i]),
                "incremental_outcome_ci_hi": float(outcome.outcome_ci_hi[i]),
                "roi_mean": float(outcome.roi_mean[i]),
                "roi_ci_lo": float(outcome.roi_ci_lo[i]),
                "roi_ci_hi": float(outcome.roi_ci_hi[i]),
            }
        )
    rows.append(
        {
            "channel": "Total",
            "historical_spend": float(np.sum(model.historical_spend)),
            "scenario_spend": outcome.total_spend,
            "incremental_outcome_mean": outcome.total_mean,
            "incremental_outcome_ci_lo": outcome.total_ci_lo,
            "incremental_outcome_ci_hi": outcome.total_ci_hi,
            "roi_mean": outcome.total_roi_mean,
            "roi_ci_lo": outcome.total_roi_ci_lo,
            "roi_ci_hi": outcome.total_roi_ci_hi,
        }
    )
    return rows


def scenario_document(
    name: str, model: str, period: str, outcome_label: str, settings: dict, updated_at: str, rows: list[dict]
) -> dict:
    """A saved scenario's JSON download: its settings and predicted outcome per channel and in total."""
    return clean(
        {
            "name": name,
            "model": model,
            "period": period,
            "outcome": outcome_label,
            "confidence_level": CONFIDENCE,
            "settings": settings,
            "updated_at": updated_at,
            "channels": rows[:-1],
            "total": rows[-1],
        }
    )


def scenario_csv(rows: list[dict]) -> str:
    """A saved scenario's CSV download: the rows of `scenario_rows` under their keys."""
    return csv_text([list(rows[0])] + [list(r.values()) for r in rows])


# -- results over time ---------------------------------------------------------------------------
OVER_TIME_STATS = ("mean", "ci_lo", "ci_hi")
# CSV precision by column: money and outcome to the cent, shares in percent to 4 decimals, ratios
# to 6 significant digits (a cost per KPI can be 0.004 or 40,000)
AMOUNT_COLUMNS = ("spend", "incremental_outcome_mean", "incremental_outcome_ci_lo", "incremental_outcome_ci_hi")
PERCENT_COLUMNS = ("pct_of_spend", "pct_of_contribution_mean", "pct_of_contribution_ci_lo", "pct_of_contribution_ci_hi")


def _significant(x: float, digits: int = 6) -> float:
    return float(f"{x:.{digits}g}") if math.isfinite(x) else x


def _csv_number(column: str, value: Any) -> Any:
    if not isinstance(value, float | np.floating) or not math.isfinite(value):
        return value
    if column in AMOUNT_COLUMNS:
        return round(float(value), 2)
    if column in PERCENT_COLUMNS:
        return round(float(value), 4)
    return _significant(float(value))


def _over_time_scope(bundle: Bundle) -> dict:
    times = bundle.draws.times
    return {
        "start": times[0],
        "end": times[-1],
        "n_times": len(times),
        "period_applies": False,
        "note": "Every calendar quarter and month of the model's whole range, each its own window of weeks; "
        "the period of the view does not apply (the geo does).",
    }


def over_time_document(bundle: Bundle, analysis: PeriodAnalysis) -> dict:
    """`over_time.json`: per quarter and per month of the whole range, each paid channel's spend,
    incremental outcome, contribution share and ROI (or cost per KPI) with intervals, and the paid
    total, for the view's geo. The view's period is recorded but does not apply (see `coverage`)."""
    from mmm_dash.core.bundle import TOTAL_CHANNEL
    from mmm_dash.core.over_time import BUCKETS, results_over_time

    buckets = {}
    for bucket in BUCKETS:
        results = results_over_time(bundle, bucket, analysis.geo)
        partial = {p.key for p in results.partial}
        metrics = ("incremental_outcome", "pct_of_contribution", results.efficiency)
        records = []
        for period in results.periods:
            rows = results.table[results.table["bucket"] == period.key]
            channels = [
                {
                    "channel": row["channel"],
                    "spend": row["spend"],
                    "pct_of_spend": row["pct_of_spend"],
                    **{m: {s: row[f"{m}_{s}"] for s in OVER_TIME_STATS} for m in metrics},
                }
                for _i, row in rows.iterrows()
            ]
            records.append(
                {
                    "bucket": period.key,
                    "label": period.label.split(" (")[0],
                    "start": period.start,
                    "end": period.end,
                    "n_times": period.n_times,
                    "partial": period.key in partial,
                    "channels": [c for c in channels if c["channel"] != TOTAL_CHANNEL],
                    "total": next((c for c in channels if c["channel"] == TOTAL_CHANNEL), None),
                }
            )
        buckets[bucket] = records
    return clean(
        {
            **_header(bundle, analysis),
            "coverage": _over_time_scope(bundle),
            "efficiency_metric": "roi" if bundle.info.has_revenue else "cpik",
            "buckets": buckets,
        }
    )


def over_time_csv(bundle: Bundle, analysis: PeriodAnalysis) -> str:
    """`over_time.csv`: one row per bucket (quarters, then months) and paid channel, the paid total
    last in each bucket; the whole range whatever the view's period, for the view's geo."""
    from mmm_dash.core.over_time import BUCKETS, columns, results_over_time

    header = ["bucket_kind", *columns(bundle.info)]
    rows = [header]
    for bucket in BUCKETS:
        table = results_over_time(bundle, bucket, analysis.geo).table
        for record in table.itertuples(index=False):
            rows.append([bucket, *(_csv_number(c, v) for c, v in zip(header[1:], record, strict=True))])
    return csv_text(rows)
