"""Export formats: pure functions from the bundle to JSON documents, CSV, plain text and HTML.

JSON keys are stable (documented in README). Numbers stay numbers; a non-finite number is null.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import math

import numpy as np

from mmm_dash.core.bundle import STATS, Bundle, PeriodAnalysis
from mmm_dash.core.formatting import compact, interval, pct, ratio
from mmm_dash.core.insights import Insight, build_insights
from mmm_dash.core.tables import METRIC_ORDER, PLAIN_COLUMNS, channel_metrics

FORMAT_VERSION = 1
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
INSIGHT_CSV_NUMBERS = ("roi_mean", "roi_ci_lo", "roi_ci_hi", "mroi_mean", "spend", "incremental_outcome_mean")


def clean(value):
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


def neutralize(cell):
    """Defuse spreadsheet formulas in text cells (channel names come from model files)."""
    if isinstance(cell, str) and cell.startswith(FORMULA_PREFIXES):
        return "'" + cell
    return cell


def _outcome_ci(row) -> str:
    lo, hi = row.incremental_outcome_ci_lo, row.incremental_outcome_ci_hi
    return f"{compact(row.incremental_outcome_mean)} ({interval(lo, hi, compact)})"


def _header(bundle: Bundle, analysis: PeriodAnalysis) -> dict:
    info = bundle.info
    return {
        "format_version": FORMAT_VERSION,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "model": {
            "name": info.name,
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
        },
        "confidence_level": 0.9,
    }


def _channel_record(row) -> dict:
    record = {"channel": str(row["channel"])}
    record.update({col: row[col] for col in PLAIN_COLUMNS})
    for metric in METRIC_ORDER:
        record[metric] = {stat: row[f"{metric}_{stat}"] for stat in STATS}
    return record


def metrics_document(bundle: Bundle, analysis: PeriodAnalysis) -> dict:
    table = channel_metrics(analysis, include_total=True)
    rows = [_channel_record(r) for _i, r in table.iterrows()]
    return clean(
        {
            **_header(bundle, analysis),
            "channels": rows[:-1],
            "total": rows[-1],
            "baseline": {
                "incremental_outcome": {s: analysis.baseline[f"incremental_outcome_{s}"] for s in STATS},
                "pct_of_contribution": {s: analysis.baseline[f"pct_of_contribution_{s}"] for s in STATS},
            },
        }
    )


def insights_document(bundle: Bundle, analysis: PeriodAnalysis, insights: list[Insight] | None = None) -> dict:
    insights = insights if insights is not None else build_insights(bundle.info, analysis)
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
                    "numbers": i.numbers,
                }
                for i in insights
            ],
        }
    )


def csv_text(rows: list[list]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([neutralize(c) if not (isinstance(c, float) and not math.isfinite(c)) else "" for c in row])
    return buffer.getvalue()


def metrics_csv(analysis: PeriodAnalysis) -> str:
    table = channel_metrics(analysis)
    return csv_text([list(table.columns)] + [[*r] for r in table.itertuples(index=False)])


def insights_csv(insights: list[Insight]) -> str:
    header = ["id", "kind", "channel", "title", "text", "probability", *INSIGHT_CSV_NUMBERS, "numbers_json"]
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
                *[i.numbers.get(k, "") for k in INSIGHT_CSV_NUMBERS],
                json.dumps(clean(i.numbers), sort_keys=True),
            ]
        )
    return csv_text(rows)


def insights_text(bundle: Bundle, analysis: PeriodAnalysis, insights: list[Insight]) -> str:
    info, total = bundle.info, analysis.total()
    lines = [
        f"Media-mix model insights: {info.name}",
        f"Period: {analysis.period.label}",
        f"KPI: {info.kpi_name}; outcome measured in {info.outcome_label}; intervals are 90% credible intervals.",
        "",
        f"Paid spend {compact(total.spend)} drove {compact(total.incremental_outcome_mean)} incremental "
        f"{info.outcome_label} (90% CI {_outcome_ci(total).split(' (')[1][:-1]}); "
        f"blended {info.roi_label} {ratio(total.roi_mean)} (90% CI {interval(total.roi_ci_lo, total.roi_ci_hi)}).",
        "",
    ]
    for n, i in enumerate(insights, 1):
        lines.append(f"{n}. {i.title}")
        lines.append(f"   {i.text}")
        lines.append("")
    lines.append(f"Model file {info.file_name} (sha256 {info.sha256[:12]}), Meridian {info.meridian_version}.")
    return "\n".join(lines) + "\n"


def inspect_document(bundle: Bundle, analysis: PeriodAnalysis) -> dict:
    """What `inspect-model --json` prints: model info, channels and the per-channel table."""
    import dataclasses

    info = dataclasses.asdict(bundle.info)
    doc = metrics_document(bundle, analysis)
    return clean(
        {
            "model_info": info,
            "period": doc["period"],
            "channels": doc["channels"],
            "total": doc["total"],
            "baseline": doc["baseline"],
            "fit": analysis.fit,
        }
    )


def inspect_text(bundle: Bundle, analysis: PeriodAnalysis) -> str:
    info = bundle.info
    lines = [
        f"Model        {info.name} ({info.file_name})",
        f"Meridian     {info.meridian_version}   sha256 {info.sha256[:16]}…",
        f"KPI          {info.kpi_name} ({info.kpi_type}); outcome in {info.outcome_label}",
        f"Geography    {'national' if info.is_national else f'{info.n_geos} geos'}",
        f"Time         {info.time_start} – {info.time_end} ({info.n_times} periods)",
        f"Channels     paid: {', '.join(info.paid_channels)}",
    ]
    for label, names in (
        ("  R&F", info.rf_channels),
        ("  organic", info.organic_media_channels + info.organic_rf_channels),
        ("  non-media", info.non_media_channels),
    ):
        if names:
            lines.append(f"{label:12} {', '.join(names)}")
    lines += [
        f"Samples      {info.n_chains} chains x {info.n_draws} draws",
        f"Period       {analysis.period.label}",
        f"Fit          R² {analysis.fit['r_squared']:.3f}, MAPE {analysis.fit['mape']:.2%}, "
        f"wMAPE {analysis.fit['wmape']:.2%}",
        "",
        f"{'channel':<20}{'spend':>10}{'incr. outcome (90% CI)':>30}{'ROI (90% CI)':>22}{'mROI':>7}{'CPIK':>10}",
    ]
    table = channel_metrics(analysis, include_total=True)
    for _i, r in table.iterrows():
        outcome = _outcome_ci(r)
        roi = f"{ratio(r.roi_mean)} ({interval(r.roi_ci_lo, r.roi_ci_hi)})"
        lines.append(
            f"{r.channel:<20}{compact(r.spend):>10}{outcome:>30}{roi:>22}{ratio(r.mroi_mean):>7}{compact(r.cpik_mean):>10}"
        )
    lines.append(
        f"{'baseline':<20}{'':>10}{compact(analysis.baseline['incremental_outcome_mean']):>30}"
        f"   ({pct(analysis.baseline['pct_of_contribution_mean'])} of {info.outcome_label})"
    )
    return "\n".join(lines) + "\n"


REPORT_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:2rem auto;max-width:1100px;
  color:#212529;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
td,th{border-bottom:1px solid #dee2e6;padding:.35rem .5rem;text-align:left}th{background:#f8f9fa}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{color:#6c757d}li{margin-bottom:.6rem}
.note{color:#6c757d;font-size:.8rem}
"""


def report_html(bundle: Bundle, analysis: PeriodAnalysis, insights: list[Insight]) -> str:
    """One self-contained page: Plotly inlined once, no network needed to open it."""
    from plotly.offline import get_plotlyjs

    from mmm_dash.core.figures import charts, curves

    info = bundle.info
    table = analysis.channel_table()
    figures = [
        ("Expected vs actual", charts.expected_vs_actual(bundle.over_time, analysis.period, info.outcome_label)),
        ("Incremental outcome by channel", charts.contribution_bars(table, info.outcome_label)),
        (info.roi_label, charts.metric_bars(table, "roi", info.roi_label, 1.0 if info.has_revenue else None)),
        ("Response curves", curves.small_multiples(analysis.curves, info.outcome_label)),
    ]
    chart_html = "\n".join(
        f"<section><h2>{html.escape(title)}</h2>{fig.to_html(full_html=False, include_plotlyjs=False)}</section>"
        for title, fig in figures
    )
    metrics = channel_metrics(analysis, include_total=True)
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "Channel",
            "Spend",
            f"Incremental {info.outcome_label} (90% CI)",
            f"{info.roi_label} (90% CI)",
            "mROI",
            "CPIK",
            "% contribution",
        )
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(c))}</td>"
            for c in (
                r.channel,
                compact(r.spend),
                _outcome_ci(r),
                f"{ratio(r.roi_mean)} ({interval(r.roi_ci_lo, r.roi_ci_hi)})",
                ratio(r.mroi_mean),
                compact(r.cpik_mean),
                pct(r.pct_of_contribution_mean),
            )
        )
        + "</tr>"
        for _i, r in metrics.iterrows()
    )
    insight_items = "".join(
        f"<li><strong>{html.escape(i.title)}</strong><br>{html.escape(i.text)}</li>" for i in insights
    )
    info_items = "".join(
        f"<dt>{k}</dt><dd>{html.escape(str(v))}</dd>"
        for k, v in (
            ("Model", f"{info.name} ({info.file_name})"),
            ("Period", analysis.period.label),
            ("KPI", f"{info.kpi_name} ({info.kpi_type})"),
            ("Geography", "national" if info.is_national else f"{info.n_geos} geos"),
            ("Samples", f"{info.n_chains} chains × {info.n_draws} draws"),
            ("Meridian", info.meridian_version),
            ("Fit", f"R² {analysis.fit['r_squared']:.3f}, MAPE {analysis.fit['mape']:.2%}"),
        )
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>mmm-dash report: {html.escape(info.name)} · {html.escape(analysis.period.label)}</title>
<style>{REPORT_CSS}</style>
<script type="text/javascript">{get_plotlyjs()}</script></head>
<body><h1>Media-mix model report: {html.escape(info.name)}</h1><dl>{info_items}</dl>
<h2>Per-channel metrics</h2><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
<h2>Insights</h2><ol>{insight_items}</ol>
{chart_html}
<p class="note">Intervals are 90% credible intervals from the model's posterior. Generated by mmm-dash.</p>
</body></html>
"""
