"""The Compare page's downloads: `compare.json` (stable keys, numbers as numbers) and `compare.csv`."""

from __future__ import annotations

import datetime as dt

from mmm_dash.core.bundle import CONFIDENCE
from mmm_dash.core.compare_views import ViewComparison, ViewSide, comparison_rows, model_changes
from mmm_dash.core.exports.documents import FORMAT_VERSION, clean, csv_text
from mmm_dash.core.trust import not_meaningful_reason


def _side(s: ViewSide) -> dict:
    info, period = s.info, s.analysis.period
    return {
        "label": s.label,
        "model": info.name,
        "version": info.version or None,
        "file": info.file_name,
        "sha256": info.sha256,
        "fit_date": info.fit_date or None,
        "outcome": info.outcome_label,
        "outcome_is_revenue": info.has_revenue,
        "period": {"key": period.key, "label": period.label, "start": period.start, "end": period.end},
        "geo": s.analysis.geo,
        "fit": s.analysis.fit,
        "health": s.health.status.value if s.health else None,
        "max_r_hat": s.max_rhat,
        "min_ess": s.min_ess,
    }


def comparison_document(c: ViewComparison) -> dict:
    return clean(
        {
            "format_version": FORMAT_VERSION,
            "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "confidence_level": CONFIDENCE,
            "a": _side(c.a),
            "b": _side(c.b),
            "draws": "paired" if c.paired else "independent",
            "pairing": c.pairing_note,
            "change": "b - a",
            "metrics": list(c.metrics),
            "not_compared": c.not_compared,
            "probability_reason": not_meaningful_reason(c.a.converged and c.b.converged),  # set: every prob_up null
            "rows": comparison_rows(c),
            "caveats": list(c.caveats),
            "model_changes": [
                {"what": m.what, "a": m.a, "b": m.b, "changed": m.changed} for m in model_changes(c.a.info, c.b.info)
            ],
            "findings": list(c.findings),
        }
    )


def comparison_csv(c: ViewComparison) -> str:
    rows = comparison_rows(c)
    header = list(rows[0]) if rows else ["channel"]
    return csv_text([header] + [[r[k] if r[k] is not None else float("nan") for k in header] for r in rows])
