"""The report as a PowerPoint deck (python-pptx), because the numbers end up in slides.

The same content as the HTML report (`report.py`): what the view is and how far it can be trusted, the
headline numbers, incremental outcome and ROI per channel as native PowerPoint charts (their data sits
in the deck's embedded workbook, so they stay editable), expected vs actual, the per-channel table
with amounts in the deployment's currency, and one verdict per channel.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

from mmm_dash.core import formatting
from mmm_dash.core.bundle import Bundle, PeriodAnalysis
from mmm_dash.core.formatting import CI, LEVEL, money, outcome, pct, ratio, with_interval
from mmm_dash.core.headline import headline_numbers
from mmm_dash.core.insights import ACTION_LABELS, Insight
from mmm_dash.core.trust import assess_trust

WIDE = (13.333, 7.5)  # inches: a 16:9 slide
MARGIN = 0.5
TITLE_HEIGHT = 0.9
BLUE, GREY, DARK = "2A6FDB", "6C757D", "212529"
TRUST_COLORS = {"high": "2F9E44", "caution": "F08C00", "low": "E03131"}


def excel_money_format(decimals: int = 0) -> str:
    """An Excel number format writing amounts in the deployment's currency: '"$"#,##0'."""
    return f'"{formatting.CURRENCY.symbol}"#,##0' + ("." + "0" * decimals if decimals else "")


def finite_or_none(values) -> list[float | None]:
    """Chart values: a non-finite number is a gap, not an error in PowerPoint."""
    return [float(v) if v is not None and math.isfinite(float(v)) else None for v in values]


def channel_rows(bundle: Bundle, analysis: PeriodAnalysis) -> tuple[list[str], list[list[str]]]:
    """The per-channel table (and the paid total) as text cells; amounts carry the currency."""
    info = bundle.info

    def amount(x):
        return outcome(x, info.has_revenue)

    header = [
        "Channel",
        f"Spend ({formatting.CURRENCY.code})",
        f"Incremental {info.outcome_label} ({CI})",
        f"{info.roi_label} ({CI})",
        "mROI",
        f"Cost per incremental {info.kpi_name}",
        "% of outcome",
    ]
    rows = [
        [
            str(channel),
            money(r.spend),
            with_interval(r.incremental_outcome_mean, r.incremental_outcome_ci_lo, r.incremental_outcome_ci_hi, amount),
            with_interval(r.roi_mean, r.roi_ci_lo, r.roi_ci_hi),
            ratio(r.mroi_mean),
            money(r.cpik_mean, 3),
            pct(r.pct_of_contribution_mean),
        ]
        for channel, r in analysis.channels.iterrows()
    ]
    return header, rows


# -- drawing --------------------------------------------------------------------------------------
def _rgb(hex_color: str):
    from pptx.dml.color import RGBColor

    return RGBColor.from_string(hex_color)


def _text(frame, lines: Sequence[str | tuple[str, float, bool, str]], size: float = 14) -> None:
    """Fill a text frame: each line is text, or (text, size, bold, hex colour)."""
    from pptx.util import Pt

    frame.word_wrap = True
    for k, line in enumerate(lines):
        text, line_size, bold, color = (line, size, False, DARK) if isinstance(line, str) else line
        paragraph = frame.paragraphs[0] if k == 0 else frame.add_paragraph()
        run = paragraph.add_run()
        run.text = text
        run.font.size, run.font.bold, run.font.color.rgb = Pt(line_size), bold, _rgb(color)


def window_text(period) -> str:
    """The window as the report names it: its label, with its first and last week when the label has not."""
    return period.label if period.start in period.label else f"{period.label} ({period.start} – {period.end})"


def _slide(prs, title: str, footer: str):
    """A slide with its title placeholder across the top (the outline and screen readers see it) and
    the view it describes in small print at the bottom (a slide copied into another deck keeps it)."""
    from pptx.util import Inches, Pt

    slide = prs.slides.add_slide(prs.slide_layouts[5])  # "Title Only"
    shape = slide.shapes.title
    shape.left, shape.top = Inches(MARGIN), Inches(0.3)
    shape.width, shape.height = Inches(WIDE[0] - 2 * MARGIN), Inches(TITLE_HEIGHT)
    shape.text = title
    for paragraph in shape.text_frame.paragraphs:
        paragraph.font.size = Pt(26)
    box = slide.shapes.add_textbox(Inches(MARGIN), Inches(WIDE[1] - 0.45), Inches(WIDE[0] - 2 * MARGIN), Inches(0.3))
    _text(box.text_frame, [(footer, 10, False, GREY)])
    return slide


def _body_box(slide, top: float = 0.3 + TITLE_HEIGHT + 0.1, height: float | None = None):
    from pptx.util import Inches

    height = height if height is not None else WIDE[1] - top - MARGIN - 0.1
    return Inches(MARGIN), Inches(top), Inches(WIDE[0] - 2 * MARGIN), Inches(height)


def _bar_chart(slide, categories, series: list[tuple[str, list]], number_format: str, horizontal: bool = True):
    """A native clustered bar chart (editable in PowerPoint: Edit Data opens its workbook)."""
    from pptx.chart.data import CategoryChartData
    from pptx.enum.chart import XL_CHART_TYPE

    data = CategoryChartData(number_format=number_format)
    data.categories = list(categories)
    for name, values in series:
        data.add_series(name, finite_or_none(values))
    kind = XL_CHART_TYPE.BAR_CLUSTERED if horizontal else XL_CHART_TYPE.COLUMN_CLUSTERED
    chart = slide.shapes.add_chart(kind, *_body_box(slide), data).chart
    chart.has_legend = len(series) > 1
    plot = chart.plots[0]
    plot.has_data_labels = True
    plot.data_labels.number_format, plot.data_labels.number_format_is_linked = number_format, False
    chart.value_axis.tick_labels.number_format = number_format
    chart.value_axis.tick_labels.number_format_is_linked = False
    for s in plot.series:
        s.format.fill.solid()
        s.format.fill.fore_color.rgb = _rgb(BLUE)
    return chart


def _table(slide, header: list[str], rows: list[list[str]], widths: Sequence[float], size: float = 12):
    from pptx.util import Inches, Pt

    left, box_top, width, _h = _body_box(slide)
    shape = slide.shapes.add_table(len(rows) + 1, len(header), left, box_top, width, Inches(0.4 * (len(rows) + 1)))
    table = shape.table
    total = sum(widths)
    for j, w in enumerate(widths):
        table.columns[j].width = int(width * w / total)
    for i, row in enumerate([header, *rows]):
        for j, value in enumerate(row):
            cell = table.cell(i, j)
            cell.text = value
            for paragraph in cell.text_frame.paragraphs:
                paragraph.font.size = Pt(size)
                paragraph.font.bold = i == 0
    return table


def _table_slides(prs, title, footer, header, rows, widths, size, per_slide) -> None:
    """A table on as many slides as it takes, `per_slide` rows each, the header repeated."""
    for start in range(0, len(rows), per_slide):
        slide = _slide(prs, title + (" (continued)" if start else ""), footer)
        _table(slide, header, rows[start : start + per_slide], widths, size)


# -- the deck -------------------------------------------------------------------------------------
def report_pptx(bundle: Bundle, analysis: PeriodAnalysis, insights: list[Insight]) -> bytes:
    """The view's report as a .pptx file."""
    from pptx import Presentation
    from pptx.enum.chart import XL_CHART_TYPE
    from pptx.enum.shapes import MSO_SHAPE
    from pptx.enum.text import MSO_AUTO_SIZE
    from pptx.util import Inches

    info, period = bundle.info, analysis.period
    trust = assess_trust(bundle, analysis)
    table = analysis.channel_table()
    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(WIDE[0]), Inches(WIDE[1])
    where = analysis.geo or ("national" if info.is_national else "all geos")
    footer = f"{info.name}" + (f" {info.version}" if info.version else "") + f" · {window_text(period)} · {where}"
    footer += f" · trust: {trust.level.value} · intervals: {CI}"

    # 1. What this is, and how far it can be trusted
    slide = prs.slides.add_slide(prs.slide_layouts[0])
    title, subtitle = slide.shapes.title, slide.placeholders[1]
    title.left, title.top, title.width, title.height = Inches(MARGIN), Inches(1.6), Inches(12.3), Inches(1.5)
    title.text = f"Media-mix model report: {info.name}"
    subtitle.left, subtitle.top, subtitle.width, subtitle.height = Inches(MARGIN), Inches(3.3), Inches(12.3), Inches(3)
    subtitle.text_frame.clear()
    _text(
        subtitle.text_frame,
        [
            (
                " · ".join(
                    p
                    for p in (
                        f"Version {info.version}" if info.version else "",
                        f"fitted {info.fit_date[:10]}" if info.fit_date else "",
                        f"Meridian {info.meridian_version}",
                    )
                    if p
                ),
                16,
                False,
                GREY,
            ),
            (f"{window_text(period)} · {where}", 18, False, DARK),
            (f"Trust: {trust.level.value}", 20, True, TRUST_COLORS[trust.level.value]),
            (trust.headline, 14, False, DARK),
        ],
    )

    # 2. Headline numbers
    slide = _slide(prs, "Headline numbers", footer)
    cards = [(h.label, h.value, h.detail) for h in headline_numbers(bundle.info, analysis)]
    card_width = (WIDE[0] - 2 * MARGIN - 0.3 * (len(cards) - 1)) / len(cards)
    for k, (label, value, detail) in enumerate(cards):
        box = slide.shapes.add_shape(
            MSO_SHAPE.ROUNDED_RECTANGLE,
            Inches(MARGIN + k * (card_width + 0.3)),
            Inches(1.6),
            Inches(card_width),
            Inches(1.9),
        )
        box.fill.solid()
        box.fill.fore_color.rgb = _rgb("F8F9FA")
        box.line.color.rgb = _rgb("DEE2E6")
        _text(box.text_frame, [(label, 13, False, GREY), (value, 30, True, DARK), (detail, 12, False, GREY)])
    fit = analysis.fit
    notes = [
        (f"Trust: {trust.level.value}. {trust.headline}", 14, True, TRUST_COLORS[trust.level.value]),
        *[(f"{r.what}. {r.fix}", 12, False, DARK) for r in trust.reasons],
        (
            f"Fit: R² {fit['r_squared']:.3f}, MAPE {fit['mape']:.1%}, wMAPE {fit['wmape']:.1%} "
            f"({analysis.geo or 'national'}).",
            12,
            False,
            GREY,
        ),
        (f"Intervals are {LEVEL} credible intervals from the model's posterior.", 12, False, GREY),
    ]
    _text(slide.shapes.add_textbox(*_body_box(slide, 3.8, 3.2)).text_frame, notes)

    # 3. Incremental outcome by channel (native chart)
    order = table.sort_values("incremental_outcome_mean").index  # largest at the top of a bar chart
    slide = _slide(
        prs, formatting.with_currency(f"Incremental {info.outcome_label} by channel", info.has_revenue), footer
    )
    _bar_chart(
        slide,
        [str(c) for c in order],
        [(f"Incremental {info.outcome_label} (mean)", table.loc[order, "incremental_outcome_mean"])],
        excel_money_format() if info.has_revenue else "#,##0",
    )

    # 4. ROI (or, without revenue, the cost per incremental KPI) by channel (native chart)
    if info.has_revenue:
        metric, label, number_format = "roi_mean", "ROI", "0.00"
    else:
        metric, label = "cpik_mean", formatting.with_currency(f"Cost per incremental {info.kpi_name}")
        number_format = excel_money_format(2)
    order = table.sort_values(metric).index
    slide = _slide(prs, f"{label} by channel", footer)
    _bar_chart(slide, [str(c) for c in order], [(f"{label} (mean)", table.loc[order, metric])], number_format)

    # 5. Expected vs actual (native line chart)
    from pptx.chart.data import CategoryChartData

    series = analysis.series
    data = CategoryChartData(number_format=excel_money_format() if info.has_revenue else "#,##0")
    data.categories = list(series.time)
    data.add_series("Actual", finite_or_none(series.actual))
    data.add_series("Expected (posterior mean)", finite_or_none(series.expected_mean))
    slide = _slide(prs, formatting.with_currency(f"Expected vs actual {info.outcome_label}", info.has_revenue), footer)
    chart = slide.shapes.add_chart(XL_CHART_TYPE.LINE, *_body_box(slide), data).chart
    chart.has_legend = True
    chart.value_axis.tick_labels.number_format_is_linked = False
    chart.value_axis.tick_labels.number_format = data.number_format
    for s, color in zip(chart.plots[0].series, (DARK, BLUE), strict=True):
        s.smooth = False
        s.format.line.color.rgb = _rgb(color)

    # 6. The per-channel table, then 7. one verdict per channel (long ones continue on more slides)
    header, rows = channel_rows(bundle, analysis)
    _table_slides(prs, "Per-channel metrics", footer, header, rows, (1.6, 1.2, 2.4, 2.0, 0.9, 1.5, 1.1), 12, 10)
    verdicts = [[i.channel, ACTION_LABELS.get(i.action, i.action), i.text] for i in insights if i.action]
    _table_slides(
        prs, "One verdict per channel", footer, ["Channel", "Verdict", "Why"], verdicts, (1.6, 1.7, 8.9), 11, 6
    )
    findings = [i for i in insights if not i.action]
    if findings:
        slide = _slide(prs, "Findings", footer)
        lines = []
        for i in findings:
            lines += [(i.title, 15, True, DARK), (i.text, 12, False, DARK)]
        frame = slide.shapes.add_textbox(*_body_box(slide)).text_frame
        _text(frame, lines)
        frame.auto_size = MSO_AUTO_SIZE.TEXT_TO_FIT_SHAPE  # many findings: PowerPoint shrinks the text

    buffer = io.BytesIO()
    prs.save(buffer)
    return buffer.getvalue()
