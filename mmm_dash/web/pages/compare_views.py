"""Compare: this view (the controls at the top) against a baseline: another version of the model
(a refresh), another model, or another period or geo of the same model. Per channel: both sides with
their intervals, the change with its own interval and the probability that it went up; what keeps the
two from being like for like; what changed in the model itself.

Both views live in the URL: this view as on every page (`model`, `version`, `period`, `geo`), the
baseline as `base_model`, `base_version`, `base_period`, `base_geo`. Without a baseline in the URL the
page compares like for like (`core.compare_views.default_baseline`): the previous version over the weeks
both versions cover, or else the same weeks a year earlier, on the same geo. Another model is only
compared when the analyst picks it in the baseline's Model list, and the page then says so."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, html

from mmm_dash.core.compare_views import (
    METRIC_LABELS,
    ViewComparison,
    ViewSide,
    compare_views,
    comparison_table,
    default_baseline,
    model_changes,
)
from mmm_dash.core.figures.compare import change_bars, dumbbell
from mmm_dash.core.formatting import CI, compact, interval, money, outcome, pct, ratio
from mmm_dash.core.trust import SampleSize
from mmm_dash.core.windows import range_key
from mmm_dash.web.dashboard.components import chart_card, csv_json_buttons, graph, grid, number_col, page_header
from mmm_dash.web.dashboard.context import ALL_GEOS, View, catalog, frame, labelled_select, resolve
from mmm_dash.web.dashboard.links import parse_query, query_string
from mmm_dash.web.memo import cached, plain_div
from mmm_dash.web.view_compare import make_side

dash.register_page(__name__, path="/compare", name="Compare", title="Compare · mmm-dash", order=5.5)

BASE_KEYS = ("base_model", "base_version", "base_period", "base_geo")


def previous_version(view: View) -> str | None:
    """The version before the one this view reads (versions are listed newest first), or None."""
    if view.version in view.versions:
        i = view.versions.index(view.version)
        if i + 1 < len(view.versions):
            return view.versions[i + 1]
    return None


def _key(window: tuple[str, str]) -> str:
    return range_key(*window)


def like_for_like(view: View, period: str | None):
    """(B, A, the default's note) when the URL names no baseline: the previous version over the weeks
    both cover, or the same weeks a year earlier (`core.compare_views.default_baseline`). A is a View,
    the page to show in its place (the previous version is still being analysed), or None when
    nothing is like for like; B is narrowed to the compared weeks."""
    window = None if period is None else (view.analysis.period.start, view.analysis.period.end)
    previous = previous_version(view)
    earlier = resolve(view.model, None, view.geo, previous) if previous else None
    if previous and not isinstance(earlier, View):
        return view, earlier, None
    choice = default_baseline(
        view.bundle.draws.times, window, previous, earlier.bundle.draws.times if earlier is not None else None
    )
    if choice.base is None:
        return view, None, choice.note
    if choice.view != (view.analysis.period.start, view.analysis.period.end):
        view = resolve(view.model, _key(choice.view), view.geo, view.version or None)
    base = resolve(view.model, _key(choice.base), view.geo, choice.base_version or view.version or None)
    return view, base, choice.note


def layout(
    model=None,
    period=None,
    geo=None,
    version=None,
    base_model=None,
    base_version=None,
    base_period=None,
    base_geo=None,
    **_,
):
    view = resolve(model, period or None, geo, version)
    if not isinstance(view, View):
        return view
    chosen = {"model": base_model, "version": base_version, "period": base_period, "geo": base_geo}
    note = None
    if any(chosen.values()):
        base = resolve(base_model or view.model, base_period, base_geo, base_version)
    else:
        view, base, note = like_for_like(view, period or None)
        chosen = {"model": view.model, "version": view.version or None, "period": view.period_key, "geo": view.geo}
    return frame(
        view,
        page_header(
            "Compare",
            "B is this view (the controls above); A is the baseline it is compared with. Changes read B − A.",
        ),
        baseline_controls(base if isinstance(base, View) else (view if base is None else None), chosen, view),
        html.Div(note, className="small text-secondary mb-2", id="compare-default") if note else None,
        result(view, base, note),
    )


def baseline_controls(base: View | None, chosen: dict, view: View):
    names = catalog().models()
    model = base.model if base else (chosen.get("model") or names[0])
    versions = base.versions if base else []
    presets = base.bundle.presets if base else {}
    periods = [{"label": p.label, "value": k} for k, p in presets.items()]
    if base and base.period_key not in presets:
        periods.append({"label": base.analysis.period.label, "value": base.period_key})
    geos = base.info.geos if base else ()

    rendered = {
        "base-model": model,
        "base-version": base.version if base and base.version else None,
        "base-period": base.period_key if base else None,
        "base-geo": base.geo if base and base.geo else ALL_GEOS,
        "view-period": view.period_key,  # B's weeks, kept in the URL once A is chosen by hand
        "view-window": range_key(view.analysis.period.start, view.analysis.period.end),
    }
    return dbc.Card(
        dbc.CardBody(
            [
                dash.dcc.Store(id="base-rendered", data=rendered),
                html.Div("A — compare with", className="fw-semibold small mb-2"),
                dbc.Row(
                    [
                        labelled_select("base-model", "Model", [{"label": n, "value": n} for n in names], model),
                        labelled_select(
                            "base-version",
                            "Version",
                            [{"label": v, "value": v} for v in versions],
                            base.version if base and base.version else None,
                            hidden=len(versions) < 2,
                            min_width="10rem",
                        ),
                        labelled_select(
                            "base-period", "Period", periods, base.period_key if base else None, min_width="18rem"
                        ),
                        labelled_select(
                            "base-geo",
                            "Geo",
                            [{"label": "All geos", "value": ALL_GEOS}] + [{"label": g, "value": g} for g in geos],
                            (base.geo if base and base.geo else ALL_GEOS),
                            hidden=not geos,
                        ),
                    ],
                    className="g-2 align-items-center",
                ),
            ]
        ),
        className="shadow-sm mb-3",
        id="compare-baseline",
    )


@callback(
    Output("url", "search", allow_duplicate=True),
    Input("base-model", "value"),
    Input("base-version", "value"),
    Input("base-period", "value"),
    Input("base-geo", "value"),
    State("url", "search"),
    State("base-rendered", "data"),
    prevent_initial_call=True,
)
def baseline_to_url(model, version, period, geo, search, rendered):
    """The baseline's controls into the URL (this view's part of the query is kept as it is)."""
    query = parse_query(search)
    trigger = dash.ctx.triggered_id
    values = {"base-model": model, "base-version": version, "base-period": period, "base-geo": geo}
    if isinstance(rendered, dict) and values.get(trigger) == rendered.get(trigger):
        raise dash.exceptions.PreventUpdate  # a dropdown reporting the value it was rendered with
    if isinstance(rendered, dict) and rendered.get("view-period"):
        query["period"] = rendered["view-period"]  # B stays on the weeks it showed (the default may narrow them)
    if trigger == "base-model" and model != query.get("base_model"):
        # Another model: the same weeks as B where it has them, and B's geo (notices say where not).
        query = {k: v for k, v in query.items() if k not in BASE_KEYS}
        window = rendered.get("view-window") if isinstance(rendered, dict) else None
        query.update(base_model=model, base_period=window or query.get("period") or "all", base_geo=query.get("geo"))
    else:
        query["base_model"] = model
        if trigger == "base-version":
            query["base_version"] = version
        elif trigger == "base-period":
            query["base_period"] = period
        elif trigger == "base-geo":
            query["base_geo"] = None if geo == ALL_GEOS else geo
    new = query_string(query)
    if new == query_string(parse_query(search)):
        raise dash.exceptions.PreventUpdate
    return new


def result(view: View, base, note: str | None = None):
    if base is None:
        return dbc.Alert(note, color="warning", id="compare-nothing")
    if not isinstance(base, View):
        return html.Div([html.Div("The baseline (A) cannot be shown yet:", className="small mb-1"), base])
    notes = [dbc.Alert(base.notice, color="warning", className="py-2", id="compare-base-notice")] if base.notice else []
    body = cached(
        view, __name__, lambda: comparison_body(view, base), base.entry, base.info.sha256, base.period_key, base.geo
    )
    return plain_div([*notes, *body], id="compare-result")


def comparison_body(view: View, base: View) -> list:
    c = compare_views(make_side(base.bundle, base.analysis), make_side(view.bundle, view.analysis))
    query = download_query(view, base)
    downloads = csv_json_buttons("/compare/download", query, "compare-download")
    tabs = [
        dbc.Tab(
            dbc.Row(
                [
                    dbc.Col(graph(f"compare-dumbbell-{m}", dumbbell(c, m, "A (baseline)", "B (this view)")), lg=6),
                    dbc.Col(graph(f"compare-change-{m}", change_bars(c, m)), lg=6),
                ]
            ),
            label=METRIC_LABELS[m],
            tab_id=f"tab-{m}",
        )
        for m in c.metrics
        if m != "spend"
    ]
    caveats = (
        [dbc.Alert(html.Ul([html.Li(x) for x in c.caveats], className="mb-0"), color="warning", id="compare-caveats")]
        if c.caveats
        else []
    )
    return [
        *caveats,
        dbc.Alert(c.pairing_note, color="info", className="py-2 small", id="compare-pairing"),
        dbc.Row(
            [
                dbc.Col(side_card("A · baseline", c.a, "compare-a"), md=6),
                dbc.Col(side_card("B · this view", c.b, "compare-b"), md=6),
            ],
            className="g-3 mb-3",
        ),
        chart_card(
            "What changed",
            html.Ul([html.Li(f, className="mb-1") for f in c.findings], className="mb-0", id="compare-findings"),
            header_right=downloads,
        ),
        chart_card(
            "Per channel",
            dbc.Tabs(tabs, active_tab=tabs[0].tab_id if tabs else None, id="compare-tabs"),
            note=f"Points: posterior mean with its {CI}; bars: B − A with the {CI} of the change, green where "
            "P(up) ≥ 90%, red where P(up) ≤ 10%, grey otherwise.",
        ),
        chart_card("All numbers", comparison_grid(c)),
        chart_card("What changed in the model", changes_table(c)),
        chart_card("Fit and model health", fit_table(c)),
    ]


def download_query(view: View, base: View) -> str:
    values = {
        "model": view.model,
        "version": view.version or None,
        "period": view.period_key,
        "geo": view.geo,
        "base_model": base.model,
        "base_version": base.version or None,
        "base_period": base.period_key,
        "base_geo": base.geo,
    }
    return query_string(values)


def side_card(title: str, s: ViewSide, card_id: str):
    info, a = s.info, s.analysis

    def amount(x):
        return outcome(x, info.has_revenue)

    total = a.total()
    health = s.health.status.label if s.health else "not reviewed"
    rows = [
        ("Reads", s.label),
        ("Model file", info.file_name + (f" (fitted {info.fit_date[:10]})" if info.fit_date else "")),
        ("Weeks", f"{a.period.start} – {a.period.end} ({a.period.n_times})"),
        ("Outcome", info.outcome_label),
        ("Paid spend", money(total.spend)),
        (
            f"Incremental {info.outcome_label}",
            f"{amount(total.incremental_outcome_mean)} ({CI} "
            f"{interval(total.incremental_outcome_ci_lo, total.incremental_outcome_ci_hi, amount)})",
        ),
        ("R²", ratio(a.fit.get("r_squared"), 3)),
        ("Health review", health),
    ]
    return dbc.Card(
        [
            dbc.CardHeader(title),
            dbc.CardBody(
                dbc.Table(
                    html.Tbody(
                        [html.Tr([html.Th(k, className="fw-normal text-secondary"), html.Td(v)]) for k, v in rows]
                    ),
                    size="sm",
                    className="mb-0",
                )
            ),
        ],
        className="shadow-sm h-100",
        id=card_id,
    )


def comparison_grid(c: ViewComparison):
    import pandas as pd

    cols = [
        {"field": "channel", "headerName": "Channel", "pinned": "left", "minWidth": 140},
        {"field": "metric", "headerName": "Metric", "minWidth": 170},
        {"field": "a", "headerName": "A", "type": "rightAligned"},
        {"field": "a_ci", "headerName": f"A {CI}", "type": "rightAligned", "minWidth": 150},
        {"field": "b", "headerName": "B", "type": "rightAligned"},
        {"field": "b_ci", "headerName": f"B {CI}", "type": "rightAligned", "minWidth": 150},
        {"field": "change", "headerName": "Change B − A", "type": "rightAligned"},
        {"field": "change_ci", "headerName": f"Change {CI}", "type": "rightAligned", "minWidth": 160},
        {"field": "relative", "headerName": "Change vs A", "type": "rightAligned"},
        number_col("prob_up", "P(up) %", ".0f"),
        {"field": "in_views", "headerName": "In views"},
    ]
    return grid("compare-grid", pd.DataFrame(comparison_table(c)), cols, height=420)


def changes_table(c: ViewComparison):
    """What changed between A's and B's model, side by side, and one line naming what did not; one
    sentence when both read one file."""
    if c.a.info.sha256 == c.b.info.sha256:
        return html.Div(
            "A and B read the same model file: the model itself did not change.", id="compare-model-changes"
        )
    rows = model_changes(c.a.info, c.b.info)
    changed = [r for r in rows if r.changed]
    same = [r.what for r in rows if not r.changed and not r.what.startswith("Prior ")]
    same_priors = sum(1 for r in rows if not r.changed and r.what.startswith("Prior "))
    if same_priors:
        same.append(f"{same_priors} prior{'s' if same_priors > 1 else ''}")
    table = dbc.Table(
        [
            html.Thead(html.Tr([html.Th(""), html.Th("A · baseline"), html.Th("B · this view")])),
            html.Tbody(
                [
                    html.Tr([html.Th(r.what, className="fw-normal text-secondary"), html.Td(r.a), html.Td(r.b)])
                    for r in changed
                ]
            ),
        ],
        size="sm",
        responsive=True,  # long prior descriptions scroll inside the card, never the page
        className="mb-2",
    )
    unchanged = html.Div(f"Unchanged: {', '.join(same)}.", className="small text-secondary") if same else None
    return html.Div(
        [table if changed else html.Div("Nothing recorded differs.", className="mb-2"), unchanged],
        id="compare-model-changes",
    )


def fit_table(c: ViewComparison):
    def health(s: ViewSide) -> str:
        if s.health is None:
            return "–"
        failed = [ch.name for ch in s.health.not_passed()]
        return s.health.status.label + (f" ({', '.join(failed)})" if failed else "")

    rows = [(label, fmt(a), fmt(b)) for (label, a, b), fmt in zip(c.fit, (_r2, _pct, _pct), strict=True)]
    rows += [
        ("Max R-hat", ratio(c.a.max_rhat, 3), ratio(c.b.max_rhat, 3)),
        (f"Smallest effective sample size ({SampleSize.SCOPE})", compact(c.a.min_ess), compact(c.b.min_ess)),
        ("Posterior draws", f"{c.a.info.n_posterior_draws:,}", f"{c.b.info.n_posterior_draws:,}"),
        ("Meridian health review", health(c.a), health(c.b)),
    ]
    return dbc.Table(
        [
            html.Thead(html.Tr([html.Th(""), html.Th("A · baseline"), html.Th("B · this view")])),
            html.Tbody(
                [
                    html.Tr([html.Th(k, className="fw-normal text-secondary"), html.Td(a), html.Td(b)])
                    for k, a, b in rows
                ]
            ),
        ],
        size="sm",
        id="compare-fit",
        className="mb-0",
        style={"tableLayout": "fixed", "overflowWrap": "anywhere"},  # long labels wrap on a phone, never widen the page
    )


def _r2(value) -> str:
    return "–" if value is None else ratio(value, 3)


def _pct(value) -> str:
    return "–" if value is None else pct(value * 100, 2)
