"""What `python -m mmm_dash inspect-model` prints: a JSON document or aligned plain text."""

from __future__ import annotations

import dataclasses

from mmm_dash.core.bundle import Bundle, PeriodAnalysis
from mmm_dash.core.exports.documents import clean, metrics_document
from mmm_dash.core.formatting import CI, compact, pct, ratio, with_interval
from mmm_dash.core.tables import channel_metrics


def inspect_document(bundle: Bundle, analysis: PeriodAnalysis) -> dict:
    """What `inspect-model --json` prints: model info, channels and the per-channel table."""
    doc = metrics_document(bundle, analysis)
    return clean(
        {
            "model_info": dataclasses.asdict(bundle.info),
            "period": doc["period"],
            "channels": doc["channels"],
            "total": doc["total"],
            "baseline": doc["baseline"],
            "fit": analysis.fit,
        }
    )


def inspect_text(bundle: Bundle, analysis: PeriodAnalysis) -> str:
    """What `inspect-model` prints: the model's facts, then one aligned line per paid channel."""
    info = bundle.info
    lines = [
        f"Model        {info.name} ({info.file_name})",
        f"Meridian     {info.meridian_version}   sha256 {info.sha256[:16]}…",
        f"KPI          {info.kpi_description}; outcome in {info.outcome_label}",
        f"Geography    {info.geography_label}",
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
        f"{'channel':<20}{'spend':>10}{f'incr. outcome ({CI})':>30}{f'ROI ({CI})':>22}{'mROI':>7}{'CPIK':>10}",
    ]
    table = channel_metrics(analysis, include_total=True)
    for _i, r in table.iterrows():
        outcome = with_interval(
            r.incremental_outcome_mean, r.incremental_outcome_ci_lo, r.incremental_outcome_ci_hi, compact
        )
        roi = with_interval(r.roi_mean, r.roi_ci_lo, r.roi_ci_hi)
        lines.append(
            f"{r.channel:<20}{compact(r.spend):>10}{outcome:>30}{roi:>22}{ratio(r.mroi_mean):>7}{compact(r.cpik_mean):>10}"
        )
    lines.append(
        f"{'baseline':<20}{'':>10}{compact(analysis.baseline['incremental_outcome_mean']):>30}"
        f"   ({pct(analysis.baseline['pct_of_contribution_mean'])} of {info.outcome_label})"
    )
    return "\n".join(lines) + "\n"
