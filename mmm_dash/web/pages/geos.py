"""Geos: every geo of a geo model side by side for the selected period, to see where media works.

A sortable table of every geo (paged when there are many), then small multiples by channel for the
geos with the most spend (all of them up to `TOP_GEOS`) and each geo's spend mix. Numbers are the
window engine's for each geo (`bundle.period(period, geo)`); the Geo selector does not filter this
page, which always shows every geo.
"""

import dataclasses

import dash
from dash import html

from mmm_dash.core import formatting
from mmm_dash.core.figures.breakdowns import geo_small_multiples, geo_spend_share
from mmm_dash.core.formatting import LEVEL
from mmm_dash.core.geos import TOP_GEOS, GeoBreakdown, geo_breakdown
from mmm_dash.web.dashboard.components import chart_card, graph, grid, number_col, page_header
from mmm_dash.web.dashboard.context import View, frame, resolve
from mmm_dash.web.dashboard.over_time import metric_label
from mmm_dash.web.memo import cached

dash.register_page(__name__, path="/geos", name="Geos", title="Geos · mmm-dash", order=2.5)

PAGE_SIZE = 20  # grid rows per page once a model has more geos than this
NATIONAL = "This model is national, so it has no geos to compare."


def column_defs(view: View, efficiency: str) -> list[dict]:
    info = view.info
    eff = formatting.with_currency(f"Cost per {info.kpi_name}") if efficiency == "cpik" else "ROI"
    eff_fmt = ",.4~f" if efficiency == "cpik" else ".2f"
    return [
        {"field": "geo", "headerName": "Geo", "pinned": "left", "filter": "agTextColumnFilter", "minWidth": 130},
        number_col("spend", formatting.with_currency("Spend"), ",.0f", sort="desc"),
        number_col("pct_of_spend", "% of spend", ".1f"),
        number_col("incremental_outcome_mean", metric_label(info, "incremental_outcome"), ",.0f"),
        number_col("incremental_outcome_ci_lo", f"{LEVEL} CI low", ",.0f"),
        number_col("incremental_outcome_ci_hi", f"{LEVEL} CI high", ",.0f"),
        number_col(f"{efficiency}_mean", eff, eff_fmt),
        number_col(f"{efficiency}_ci_lo", f"{LEVEL} CI low", eff_fmt),
        number_col(f"{efficiency}_ci_hi", f"{LEVEL} CI high", eff_fmt),
        number_col("pct_of_contribution_mean", "Contribution share (% of outcome)", ".2f"),
        number_col("pct_of_contribution_ci_lo", f"{LEVEL} CI low", ".2f"),
        number_col("pct_of_contribution_ci_hi", f"{LEVEL} CI high", ".2f"),
    ]


def geo_grid(view: View, breakdown: GeoBreakdown):
    n = len(breakdown.geos)
    paged = n > PAGE_SIZE
    table = grid(
        "geos-grid", breakdown.geos, column_defs(view, breakdown.efficiency), height=130 + 42 * min(n, PAGE_SIZE)
    )
    if paged:
        table.dashGridOptions = {**table.dashGridOptions, "pagination": True, "paginationPageSize": PAGE_SIZE}
        table.style = {**table.style, "height": f"{180 + 42 * PAGE_SIZE}px"}
    return table


def content(view: View):
    every_geo = dataclasses.replace(view, geo=None)  # the page shows every geo whichever one is selected
    return frame(view, *cached(every_geo, __name__, lambda: body(view)))


def body(view: View) -> list:
    """Everything below the controls: the same on every visit to this model and period."""
    info = view.info
    if info.is_national or not info.geos:
        return [page_header("Geos"), html.P(NATIONAL, id="geos-national", className="text-secondary")]
    breakdown = geo_breakdown(view.bundle, view.period_key)
    efficiency = breakdown.efficiency
    top = breakdown.top(TOP_GEOS)
    n = len(breakdown.geos)
    shown = (
        f"The charts show the {len(top)} geos with the most spend of {n}; the table lists every geo."
        if len(top) < n
        else ""
    )
    reference = 1.0 if info.has_revenue else None
    panels = "One panel per geo, most spend first; every panel has the same y-axis scale."
    return [
        page_header(
            "Geos",
            f"{n} geos · {breakdown.period.label} · paid channels in total · intervals are {LEVEL} credible",
        ),
        chart_card(
            "Every geo",
            geo_grid(view, breakdown),
            note="Sort or filter any column. Incremental outcome and "
            f"{'ROI' if efficiency == 'roi' else 'cost per KPI'} are for all paid channels together; "
            "% contribution is paid media's share of the geo's own expected outcome; "
            "% of spend is the geo's share of all geos' spend. "
            "The Geo selector above does not filter this page.",
            card_id="geos-table-card",
        ),
        html.Div(shown, className="small-note mb-2", id="geos-top-note") if shown else None,
        chart_card(
            f"Incremental {info.outcome_label} by channel, per geo",
            graph(
                "geos-outcome",
                geo_small_multiples(
                    breakdown.channels, top, "incremental_outcome", metric_label(info, "incremental_outcome")
                ),
            ),
            note=f"{panels} Error bars: {LEVEL} credible interval.",
        ),
        chart_card(
            f"{metric_label(info, efficiency)} by channel, per geo",
            graph(
                "geos-efficiency",
                geo_small_multiples(breakdown.channels, top, efficiency, metric_label(info, efficiency), reference),
            ),
            note=f"{panels} Error bars: {LEVEL} credible interval."
            + (" Dashed line: ROI = 1." if reference is not None else " Lower is better."),
        ),
        chart_card(
            "Spend share per geo",
            graph("geos-spend-share", geo_spend_share(breakdown.channels, breakdown.geos, top)),
            note="Each bar splits one geo's paid spend by channel; the label gives the geo's share of all spend.",
        ),
    ]


def layout(model=None, period=None, geo=None, version=None, **_):
    view = resolve(model, period, geo, version)
    return content(view) if isinstance(view, View) else view
