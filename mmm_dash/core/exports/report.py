"""The self-contained HTML report: metrics, insights and the main charts in one file."""

from __future__ import annotations

import html

from mmm_dash.core.bundle import Bundle, PeriodAnalysis
from mmm_dash.core.formatting import CI, LEVEL, money, outcome, pct, ratio, with_currency, with_interval
from mmm_dash.core.insights import Insight
from mmm_dash.core.tables import channel_metrics

REPORT_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:2rem auto;max-width:1100px;
  color:#212529;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
td,th{border-bottom:1px solid #dee2e6;padding:.35rem .5rem;text-align:left}th{background:#f8f9fa}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{color:#6c757d}li{margin-bottom:.6rem}
.note{color:#6c757d;font-size:.8rem}
.trust{border-left:5px solid;padding:.6rem 1rem;margin:1rem 0;border-radius:.3rem}
.trust-high{border-color:#2f9e44;background:#ebfbee}.trust-caution{border-color:#f08c00;background:#fff9db}
.trust-low{border-color:#e03131;background:#fff5f5}
.status-pass{color:#2f9e44}.status-review{color:#e67700}.status-fail{color:#c92a2a;font-weight:600}
"""


def trust_section(bundle: Bundle, analysis: PeriodAnalysis) -> str:
    """The trust banner, as on every page: the combined verdict (which check drives it, and Meridian's
    review beside it), the reasons with their numbers, what to fix."""
    from mmm_dash.core.trust import assess_trust

    trust = assess_trust(bundle, analysis)
    items = "".join(f"<li>{html.escape(r.what)}. {html.escape(r.fix)}</li>" for r in trust.reasons)
    return (
        f'<div class="trust trust-{trust.level.value}"><strong>Trust: {trust.level.value}</strong> — '
        f"{html.escape(trust.verdict_reason)}" + (f"<ul>{items}</ul>" if items else "") + "</div>"
    )


def health_section(bundle: Bundle) -> str:
    """Meridian's model health review: each check's status, finding and recommendation."""
    health = bundle.health
    if health is None:
        return "<h2>Model health (Meridian's own review)</h2><p>This bundle has no health review.</p>"
    rows = "".join(
        f'<tr><td>{html.escape(c.name)}</td><td class="status-{c.status.value}">{c.status.label}</td>'
        f"<td>{html.escape(c.message)}</td><td>{html.escape(c.recommendation)}</td></tr>"
        for c in health.checks
    )
    skipped = f'<p class="note">Not run: {html.escape(", ".join(health.skipped))}.</p>' if health.skipped else ""
    return (
        f"<h2>Model health: {health.status.label} (Meridian's own review)</h2><p>{html.escape(health.summary)} "
        f"(Meridian's health score {health.score:.0f} of 100. This is Meridian's verdict on its own checks; "
        "the trust verdict above also weighs fit on this window and effective sample size.)</p>"
        "<table><thead><tr><th>Check</th><th>Status</th><th>Finding</th><th>Meridian's recommendation</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>{skipped}"
    )


def report_html(bundle: Bundle, analysis: PeriodAnalysis, insights: list[Insight]) -> str:
    """One self-contained page: Plotly inlined once, no network needed to open it."""
    from plotly.offline import get_plotlyjs

    from mmm_dash.core.figures import charts, curves
    from mmm_dash.core.figures.theme import CHART_CONFIG

    info = bundle.info
    table = analysis.channel_table()
    figures = [
        ("Expected vs actual", charts.expected_vs_actual(analysis.series, info.outcome_label)),
        ("Incremental outcome by channel", charts.contribution_bars(table, info.outcome_label)),
        (info.roi_label, charts.metric_bars(table, "roi", info.roi_label, 1.0 if info.has_revenue else None)),
        ("Response curves", curves.small_multiples(analysis.curves, info.outcome_label)),
    ]
    chart_html = "\n".join(
        f"<section><h2>{html.escape(title)}</h2>"
        f"{fig.to_html(full_html=False, include_plotlyjs=False, config=CHART_CONFIG)}</section>"
        for title, fig in figures
    )
    metrics = channel_metrics(analysis, include_total=True)

    def amount(x):
        return outcome(x, info.has_revenue)

    head = "".join(
        f"<th>{html.escape(h)}</th>"
        for h in (
            "Channel",
            with_currency("Spend"),
            with_currency(f"Incremental {info.outcome_label}", info.has_revenue) + f" ({CI})",
            f"{info.roi_label} ({CI})",
            "mROI",
            with_currency(f"Cost per incremental {info.kpi_name}"),
            "% contribution",
        )
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(c))}</td>"
            for c in (
                r.channel,
                money(r.spend),
                with_interval(
                    r.incremental_outcome_mean, r.incremental_outcome_ci_lo, r.incremental_outcome_ci_hi, amount
                ),
                with_interval(r.roi_mean, r.roi_ci_lo, r.roi_ci_hi),
                ratio(r.mroi_mean),
                money(r.cpik_mean, 4),
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
            *((("Version", info.version),) if info.version else ()),
            *((("Fitted", info.fit_date[:10]),) if info.fit_date else ()),
            ("Period", f"{analysis.period.label} ({analysis.period.start} – {analysis.period.end})"),
            ("Geo", analysis.geo or "all geos"),
            ("KPI and its type", info.kpi_description),
            ("Geography", info.geography_label),
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
{trust_section(bundle, analysis)}
<h2>Per-channel metrics</h2><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
<h2>Insights</h2><ol>{insight_items}</ol>
{health_section(bundle)}
{chart_html}
<p class="note">Intervals are {LEVEL} credible intervals from the model's posterior. Generated by mmm-dash.</p>
</body></html>
"""
