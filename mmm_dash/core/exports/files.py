"""The export files, defined once: their names, their labels in menus, and how each is rendered."""

from __future__ import annotations

import dataclasses
import json

from mmm_dash.core.bundle import Bundle, PeriodAnalysis
from mmm_dash.core.exports import documents
from mmm_dash.core.exports.deck import report_pptx
from mmm_dash.core.exports.report import report_html
from mmm_dash.core.insights import build_insights


@dataclasses.dataclass(frozen=True)
class ExportFile:
    """One downloadable file of a model period: `metrics.csv` is kind "metrics", extension "csv"."""

    filename: str
    label: str

    @property
    def kind(self) -> str:
        """The part before the dot: insights, metrics, health, report or over_time."""
        return self.filename.split(".")[0]

    @property
    def ext(self) -> str:
        """The extension, which picks the MIME type."""
        return self.filename.split(".")[1]


EXPORT_FILES = (
    ExportFile("insights.json", "Insights (JSON)"),
    ExportFile("insights.csv", "Insights (CSV)"),
    ExportFile("insights.txt", "Insights (TXT)"),
    ExportFile("metrics.csv", "Metrics (CSV)"),
    ExportFile("metrics.json", "Metrics (JSON)"),
    ExportFile("health.json", "Model health (JSON)"),
    ExportFile("report.html", "Report (HTML)"),
    ExportFile("report.pptx", "Report (PowerPoint)"),
    ExportFile("over_time.csv", "Results over time (CSV)"),
    ExportFile("over_time.json", "Results over time (JSON)"),
)
BY_NAME = {f.filename: f for f in EXPORT_FILES}


def render(export: ExportFile, bundle: Bundle, analysis: PeriodAnalysis) -> str | bytes:
    """The body of `export` for one model period: text, or bytes for the PowerPoint deck."""
    if export.kind == "health":
        return json.dumps(documents.health_document(bundle, analysis), indent=2)
    if export.kind == "over_time":  # every quarter and month of the whole range, for the view's geo
        if export.ext == "json":
            return json.dumps(documents.over_time_document(bundle, analysis), indent=2)
        return documents.over_time_csv(bundle, analysis)
    if export.kind == "metrics":
        if export.ext == "json":
            return json.dumps(documents.metrics_document(bundle, analysis), indent=2)
        return documents.metrics_csv(analysis, bundle.info.has_revenue)
    insights = build_insights(bundle, analysis)
    if export.kind == "report" and export.ext == "pptx":
        return report_pptx(bundle, analysis, insights)
    if export.kind == "report":
        return report_html(bundle, analysis, insights)
    if export.ext == "json":
        return json.dumps(documents.insights_document(bundle, analysis, insights), indent=2)
    if export.ext == "csv":
        return documents.insights_csv(insights)
    return documents.insights_text(bundle, analysis, insights)
