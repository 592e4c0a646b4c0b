"""Compare: this view (the controls at the top) against a baseline: another version of the model
(a refresh), another model, or another period or geo of the same model. Per channel: both sides with
their intervals, the change with its own interval and the probability that it went up.

Both views live in the URL: this view as on every page (`model`, `version`, `period`, `geo`), the
baseline as `base_model`, `base_version`, `base_period`, `base_geo`."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, html

from mmm_dash.core.compare_views import METRIC_LABELS, ViewComparison, ViewSide, compare_views, comparison_rows
from mmm_dash.core.figures.compare import change_bars, dumbbell
from mmm_dash.core.formatting import CI, compact, interval, money, outcome, pct, ratio
from mmm_dash.core.trust import SampleSize
from mmm_dash.web.dashboard.components import chart_card, csv_json_buttons, graph, grid, number_col, page_header
from mmm_dash.web.dashboard.context import ALL_GEOS, View, catalog, frame, labelled_select, resolve
from mmm_dash.web.dashboard.links import parse_query, query_string
from mmm_dash.web.memo import cached, plain_div
from mmm_dash.web.view_compare import make_side

dash.register_page(__name__, path="/compare", name="Compare", title="Compare · mmm-dash", order=5.5)

BASE_KEYS = ("base_model", "base_version", "base_period", "base_geo")


def default_baseline(view: View) -> dict:
    """What to compare with when the URL names no baseline: the previous version of this model, or
    else the same model's previous calendar year (this view then reads the latest one)."""
    if view.versions and view.version in view.versions:
        i = view.versions.index(view.version)
        if i + 1 < len(view.versions):
            return {"model": view.model, "version": view.versions[i + 1], "period": view.period_key, "geo": view.geo}
    years = [k for k, p in view.bundle.presets.items() if p.kind == "year"]
    if view.period_key in years and years.index(view.period_key) > 0:
        return {"model": view.model, "version": view.version or None, "period": years[years.index(view.period_key) - 1]}
    if len(years) >= 2:
        return {"model": view.model, "version": view.version or None, "period": years[-2], "geo": view.geo}
    return {"model": view.model, "version": view.version or None, "period": "all", "geo": view.geo}


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
    if period is None and not any((base_model, base_version, base_period, base_geo)):
        years = [k for k, p in view.bundle.presets.items() if p.kind == "year"]
        if len(years) >= 2:  # a bare /compare: the latest year against the one before
            view = resolve(view.model, years[-1], view.geo, version)
    chosen = {"model": base_model, "version": base_version, "period": base_period, "geo": base_geo}
    if not any(chosen.values()):
        chosen = default_baseline(view)
    base = resolve(chosen["model"] or view.model, chosen.get("period"), chosen.get("geo"), chosen.get("version"))
    return frame(
        view,
        page_header(
            "Compare",
            "B is this view (the controls above); A is the baseline it is compared with. Changes read B − A.",
        ),
        baseline_controls(base if isinstance(base, View) else None, chosen),
        result(view, base),
    )


def baseline_controls(base: View | None, chosen: dict):
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
    if trigger == "base-model" and model != query.get("base_model"):
        query = {k: v for k, v in query.items() if k not in BASE_KEYS}
        query.update(base_model=model, base_period=query.get("base_period") or query.get("period") or "all")
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


def result(view: View, base):
    if not isinstance(base, View):
        return html.Div([html.Div("The baseline (A) cannot be shown yet:", className="small mb-1"), base])
    notes = [dbc.Alert(base.notice, color="warning", className="py-2", id="compare-base-notice")] if base.notice else []
    body = cached(view, __name__, lambda: comparison_body(view, base), base.entry, base.period_key, base.geo)
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
    return [
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

    frame_ = pd.DataFrame(comparison_rows(c))
    frame_["metric"] = [METRIC_LABELS[m] for m in frame_["metric"]]
    frame_["prob_up"] = pd.to_numeric(frame_["prob_up"]) * 100  # all None when a side did not converge
    cols = [
        {"field": "channel", "headerName": "Channel", "pinned": "left", "minWidth": 140},
        {"field": "metric", "headerName": "Metric", "minWidth": 170},
        number_col("a_mean", "A", ",.3~f"),
        number_col("a_ci_lo", f"A {CI} low", ",.3~f"),
        number_col("a_ci_hi", f"A {CI} high", ",.3~f"),
        number_col("b_mean", "B", ",.3~f"),
        number_col("b_ci_lo", f"B {CI} low", ",.3~f"),
        number_col("b_ci_hi", f"B {CI} high", ",.3~f"),
        number_col("change_mean", "Change B − A", "+,.3~f"),
        number_col("change_ci_lo", "Change low", "+,.3~f"),
        number_col("change_ci_hi", "Change high", "+,.3~f"),
        number_col("prob_up", "P(up) %", ".0f"),
        {"field": "in_views", "headerName": "In views"},
    ]
    return grid("compare-grid", frame_, cols, height=420)


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
    )


def _r2(value) -> str:
    return "–" if value is None else ratio(value, 3)


def _pct(value) -> str:
    return "–" if value is None else pct(value * 100, 2)
