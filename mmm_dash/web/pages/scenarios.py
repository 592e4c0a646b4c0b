"""Scenario planner: what-if budgets, a fast optimizer over the model's curves, saved scenarios."""

import dash
import dash_bootstrap_components as dbc
import numpy as np
from dash import ALL, Input, Output, State, callback, ctx, dcc, html
from flask_login import current_user

from mmm_dash.core.figures.curves import allocation_comparison, response_curve, small_multiples
from mmm_dash.core.formatting import compact, interval, ratio
from mmm_dash.core.scenario import DEFAULT_BOUND, MAX_MULTIPLIER, ScenarioError
from mmm_dash.web.dashboard.components import chart_card, graph, metric_card, page_header
from mmm_dash.web.dashboard.context import View, catalog, frame, resolve
from mmm_dash.web.scenarios import service

dash.register_page(__name__, path="/scenarios", name="Scenarios", title="Scenarios · mmm-dash", order=4)

ALL_CHANNELS = "__all__"  # curve picker value: every channel's curve as small multiples
MODES = [
    {"label": "Fixed budget: maximise outcome", "value": "fixed"},
    {"label": "Flexible: spend while total ROI ≥ target", "value": "target_roi"},
    {"label": "Flexible: spend while marginal ROI ≥ target", "value": "target_mroi"},
]


def _id(kind: str, i: int) -> dict:
    return {"type": kind, "index": i}


def channel_row(i: int, channel: str, hist: float):
    return dbc.Row(
        [
            dbc.Col(html.Div(channel, className="fw-semibold small"), xs=12, md=2),
            dbc.Col(
                dcc.Slider(
                    id=_id("sc-slider", i),
                    min=0,
                    max=MAX_MULTIPLIER * 100,
                    step=1,
                    value=100,
                    marks={0: "0%", 100: "100%", 200: "200%"},
                    tooltip={"placement": "bottom"},
                ),
                xs=12,
                md=5,
            ),
            dbc.Col(
                dbc.Input(
                    id=_id("sc-number", i),
                    type="number",
                    value=100,
                    min=0,
                    size="sm",
                    debounce=True,
                ),
                xs=4,
                md=2,
            ),
            dbc.Col(
                dbc.InputGroup(
                    [
                        dbc.Input(
                            id=_id("sc-lower", i), type="number", value=round((1 - DEFAULT_BOUND) * 100), size="sm"
                        ),
                        dbc.Input(
                            id=_id("sc-upper", i), type="number", value=round((1 + DEFAULT_BOUND) * 100), size="sm"
                        ),
                    ],
                    size="sm",
                ),
                xs=8,
                md=3,
            ),
        ],
        className="align-items-center g-2 mb-2",
    )


def controls(view: View):
    curves = view.analysis.curves
    hist_total = float(curves.historical_spend.sum())
    return dbc.Card(
        dbc.CardBody(
            [
                dbc.Row(
                    [
                        dbc.Col(html.Div("Spend per channel", className="fw-semibold"), md=True),
                        dbc.Col(
                            dbc.RadioItems(
                                id="sc-unit",
                                options=[
                                    {"label": "% of historical", "value": "pct"},
                                    {"label": "absolute", "value": "abs"},
                                ],
                                value="pct",
                                inline=True,
                                className="small",
                            ),
                            md="auto",
                        ),
                    ],
                    className="mb-2",
                ),
                html.Div(
                    className="small text-secondary mb-2",
                    children=(
                        "Slider and box: scenario spend. Last two boxes: lower and upper bound (% of historical) "
                        "for the optimizer."
                    ),
                ),
                *[
                    channel_row(i, ch, h)
                    for i, (ch, h) in enumerate(zip(curves.channels, curves.historical_spend, strict=True))
                ],
                html.Hr(),
                dbc.Row(
                    [
                        dbc.Col(
                            [
                                dbc.Label("Optimizer", html_for="sc-mode", className="small"),
                                dcc.Dropdown(id="sc-mode", options=MODES, value="fixed", clearable=False),
                            ],
                            md=6,
                        ),
                        dbc.Col(
                            [
                                dbc.Label("Total budget", html_for="sc-budget", className="small"),
                                dbc.Input(id="sc-budget", type="number", value=round(hist_total), min=0, size="sm"),
                            ],
                            md=3,
                        ),
                        dbc.Col(
                            [
                                dbc.Label("Target", html_for="sc-target", className="small"),
                                dbc.Input(id="sc-target", type="number", value=1.0, min=0, step=0.05, size="sm"),
                            ],
                            md=3,
                        ),
                    ],
                    className="g-2 mb-2",
                ),
                html.Div(
                    [
                        dbc.Button("Optimize", id="sc-optimize", color="primary", size="sm", className="me-2"),
                        dbc.Button("Reset to historical", id="sc-reset", color="secondary", outline=True, size="sm"),
                    ]
                ),
                html.Hr(),
                html.Div("Saved scenarios", className="fw-semibold mb-2"),
                dbc.InputGroup(
                    [
                        dbc.Input(id="sc-name", placeholder="Scenario name", maxLength=service.MAX_NAME, size="sm"),
                        dbc.Button("Save", id="sc-save", color="success", size="sm"),
                    ],
                    size="sm",
                    className="mb-2",
                ),
                dbc.Row(
                    [
                        dbc.Col(
                            dcc.Dropdown(id="sc-saved", options=saved_options(view.model), placeholder="Open…"), md=True
                        ),
                        dbc.Col(
                            [
                                dbc.Button(
                                    "Delete", id="sc-delete", color="danger", outline=True, size="sm", className="me-1"
                                ),
                                dbc.Button(
                                    "CSV",
                                    id="sc-dl-csv",
                                    href="#",
                                    external_link=True,
                                    size="sm",
                                    color="secondary",
                                    outline=True,
                                    className="me-1",
                                    disabled=True,
                                ),
                                dbc.Button(
                                    "JSON",
                                    id="sc-dl-json",
                                    href="#",
                                    external_link=True,
                                    size="sm",
                                    color="secondary",
                                    outline=True,
                                    disabled=True,
                                ),
                            ],
                            md="auto",
                        ),
                    ],
                    className="g-2 align-items-center",
                ),
                html.Div(id="sc-saved-msg", className="small mt-2"),
            ]
        ),
        className="shadow-sm mb-3",
    )


def saved_options(model: str) -> list[dict]:
    if not current_user or not current_user.is_authenticated:
        return []
    return [
        {"label": f"{s.name} ({s.period}, {s.updated_at:%Y-%m-%d %H:%M})", "value": s.id}
        for s in service.list_scenarios(current_user.id, model)
    ]


def content(view: View):
    hist = [float(x) for x in view.analysis.curves.historical_spend]
    return frame(
        view,
        page_header(
            "Scenario planner",
            f"Predicted incremental {view.info.outcome_label} for a budget · "
            f"{view.analysis.period.label} · intervals from the posterior draws",
        ),
        dcc.Store(id="sc-view", data={"model": view.model, "period": view.period_key, "historical": hist}),
        dcc.Store(id="sc-spend", data=hist),
        dcc.Store(id="sc-loaded"),
        html.Div(id="sc-error"),
        dbc.Row(
            [
                dbc.Col(controls(view), lg=6),
                dbc.Col(
                    [
                        html.Div(id="sc-summary", children=initial_summary(view)),
                        chart_card(
                            "Allocation",
                            graph("sc-allocation", allocation_comparison(view.info.paid_channels, hist, hist)),
                        ),
                        chart_card("Per channel", html.Div(id="sc-table")),
                        chart_card(
                            "Response curves at the scenario",
                            graph("sc-curve", {}),
                            header_right=dcc.Dropdown(
                                id="sc-curve-channel",
                                options=[{"label": "All channels", "value": ALL_CHANNELS}]
                                + list(view.info.paid_channels),
                                value=ALL_CHANNELS,
                                clearable=False,
                                style={"minWidth": "12rem"},
                            ),
                        ),
                    ],
                    lg=6,
                ),
            ]
        ),
    )


def layout(model=None, period=None, **_):
    view = resolve(model, period)
    return content(view) if isinstance(view, View) else view


# -- state: one callback owns the scenario spend, whatever changed it ---------------------------
def _numbers(spend, hist, unit):
    return [round(s) if unit == "abs" else round(s / h * 100, 1) if h else 0 for s, h in zip(spend, hist, strict=True)]


def _sliders(spend, hist):
    return [min(MAX_MULTIPLIER * 100, round(s / h * 100)) if h else 0 for s, h in zip(spend, hist, strict=True)]


@callback(
    Output("sc-spend", "data"),
    Output({"type": "sc-slider", "index": ALL}, "value"),
    Output({"type": "sc-number", "index": ALL}, "value"),
    Output("sc-error", "children"),
    Output("sc-budget", "value"),
    Input({"type": "sc-slider", "index": ALL}, "value"),
    Input({"type": "sc-number", "index": ALL}, "value"),
    Input("sc-unit", "value"),
    Input("sc-optimize", "n_clicks"),
    Input("sc-reset", "n_clicks"),
    Input("sc-loaded", "data"),
    State("sc-view", "data"),
    State("sc-mode", "value"),
    State("sc-budget", "value"),
    State("sc-target", "value"),
    State({"type": "sc-lower", "index": ALL}, "value"),
    State({"type": "sc-upper", "index": ALL}, "value"),
    State("sc-spend", "data"),
    prevent_initial_call=True,
)
def update_spend(sliders, numbers, unit, _opt, _reset, loaded, view, mode, budget, target, lowers, uppers, spend):
    hist = np.asarray(view["historical"], dtype=float)
    spend = np.asarray(spend, dtype=float)
    trigger = ctx.triggered_id
    error = None
    try:
        if isinstance(trigger, dict) and trigger["type"] == "sc-slider":
            i = trigger["index"]
            spend[i] = (sliders[i] or 0) / 100 * hist[i]
        elif isinstance(trigger, dict) and trigger["type"] == "sc-number":
            i = trigger["index"]
            value = numbers[i]
            if value is None:
                raise ScenarioError("Enter a number for every channel's spend.")
            if value < 0:
                raise ScenarioError("Spend cannot be negative.")
            spend[i] = value if unit == "abs" else value / 100 * hist[i]
        elif trigger == "sc-reset":
            spend = hist.copy()
        elif trigger == "sc-loaded" and loaded:
            spend = np.asarray(loaded["spend"], dtype=float)
        elif trigger == "sc-optimize":
            spend = _optimize(view, mode, budget, target, lowers, uppers, hist)
        model = service.scenario_model(catalog().bundle(view["model"]), view["period"])
        spend = model.validate_spend(spend)
    except ScenarioError as exc:
        error = dbc.Alert(str(exc), color="warning", className="py-2", id="sc-error-message", dismissable=True)
        spend = np.asarray(dash.callback_context.states["sc-spend.data"], dtype=float)
    return (spend.tolist(), _sliders(spend, hist), _numbers(spend, hist, unit), error, round(float(spend.sum())))


def _optimize(view, mode, budget, target, lowers, uppers, hist):
    if any(v is None for v in [*lowers, *uppers]):
        raise ScenarioError("Enter a lower and an upper bound (%) for every channel.")
    lower, upper = np.asarray(lowers, dtype=float) / 100 * hist, np.asarray(uppers, dtype=float) / 100 * hist
    model = service.scenario_model(catalog().bundle(view["model"]), view["period"])
    if mode == "fixed":
        if budget is None:
            raise ScenarioError("Enter a total budget.")
        return model.optimize_fixed(float(budget), lower, upper)
    if target is None:
        raise ScenarioError("Enter a target.")
    key = "target_roi" if mode == "target_roi" else "target_mroi"
    return model.optimize_flexible(lower, upper, **{key: float(target)})


# -- results: a pure read of the scenario ------------------------------------------------------
def initial_summary(view: View):
    model = service.scenario_model(view.bundle, view.period_key)
    historical = model.evaluate(model.historical_spend)
    return results_summary(view.info, historical, historical)


def results_summary(info, scenario, historical):
    label = info.outcome_label
    delta = scenario.total_mean - historical.total_mean
    return dbc.Row(
        [
            dbc.Col(
                metric_card(
                    "Scenario spend",
                    compact(scenario.total_spend),
                    f"historical {compact(historical.total_spend)}",
                    "sc-card-spend",
                ),
                md=4,
            ),
            dbc.Col(
                metric_card(
                    f"Incremental {label}",
                    compact(scenario.total_mean),
                    f"90% CI {interval(scenario.total_ci_lo, scenario.total_ci_hi, compact)} · "
                    f"{'+' if delta >= 0 else '-'}{compact(abs(delta))} vs historical",
                    "sc-card-outcome",
                ),
                md=4,
            ),
            dbc.Col(
                metric_card(
                    info.roi_label,
                    ratio(scenario.total_roi_mean),
                    f"90% CI {interval(scenario.total_roi_ci_lo, scenario.total_roi_ci_hi)} · "
                    f"historical {ratio(historical.total_roi_mean)}",
                    "sc-card-roi",
                ),
                md=4,
            ),
        ],
        className="g-2 mb-3",
    )


def results_table(model, scenario, historical):
    rows = []
    for i, ch in enumerate(model.channels):
        ci_outcome = interval(scenario.outcome_ci_lo[i], scenario.outcome_ci_hi[i], compact)
        rows.append(
            html.Tr(
                [
                    html.Td(ch),
                    html.Td(compact(historical.spend[i])),
                    html.Td(compact(scenario.spend[i])),
                    html.Td(f"{compact(scenario.outcome_mean[i])} ({ci_outcome})"),
                    html.Td(
                        f"{ratio(scenario.roi_mean[i])} ({interval(scenario.roi_ci_lo[i], scenario.roi_ci_hi[i])})"
                    ),
                ]
            )
        )
    head = html.Thead(
        html.Tr([html.Th(h) for h in ("Channel", "Historical", "Scenario", "Outcome (90% CI)", "ROI (90% CI)")])
    )
    return dbc.Table([head, html.Tbody(rows)], size="sm", striped=True, className="mb-0", id="sc-results-table")


@callback(
    Output("sc-summary", "children"),
    Output("sc-allocation", "figure"),
    Output("sc-table", "children"),
    Output("sc-curve", "figure"),
    Input("sc-spend", "data"),
    Input("sc-curve-channel", "value"),
    State("sc-view", "data"),
)
def show_results(spend, channel, view):
    bundle = catalog().bundle(view["model"])
    model = service.scenario_model(bundle, view["period"])
    scenario, historical = model.evaluate(spend), model.evaluate(model.historical_spend)
    curves = bundle.period(view["period"]).curves
    if channel in model.channels:
        i = model.channels.index(channel)
        curve = response_curve(
            curves,
            channel,
            bundle.info.outcome_label,
            scenario_spend=scenario.spend[i],
            scenario_outcome=scenario.outcome_mean[i],
            height=320,
        )
    else:
        curve = small_multiples(
            curves,
            bundle.info.outcome_label,
            scenario_spend=scenario.spend,
            scenario_outcome=scenario.outcome_mean,
            max_cols=2,
            row_height=220,
        )
    return (
        results_summary(bundle.info, scenario, historical),
        allocation_comparison(model.channels, model.historical_spend, scenario.spend),
        results_table(model, scenario, historical),
        curve,
    )


# -- saved scenarios ---------------------------------------------------------------------------
@callback(
    Output("sc-saved", "options"),
    Output("sc-saved", "value"),
    Output("sc-saved-msg", "children"),
    Input("sc-save", "n_clicks"),
    Input("sc-delete", "n_clicks"),
    State("sc-name", "value"),
    State("sc-saved", "value"),
    State("sc-spend", "data"),
    State("sc-view", "data"),
    State("sc-mode", "value"),
    State("sc-budget", "value"),
    State("sc-target", "value"),
    State({"type": "sc-lower", "index": ALL}, "value"),
    State({"type": "sc-upper", "index": ALL}, "value"),
    prevent_initial_call=True,
)
def save_or_delete(_save, _delete, name, selected, spend, view, mode, budget, target, lowers, uppers):
    if ctx.triggered_id == "sc-delete":
        if selected is None:
            return dash.no_update, dash.no_update, "Pick a saved scenario to delete."
        service.delete_scenario(current_user.id, int(selected))
        return saved_options(view["model"]), None, "Deleted."
    try:
        saved = service.save_scenario(
            current_user.id,
            name,
            view["model"],
            view["period"],
            {
                "channels": list(catalog().bundle(view["model"]).info.paid_channels),
                "spend": spend,
                "mode": mode,
                "budget": budget,
                "target": target,
                "lower_pct": lowers,
                "upper_pct": uppers,
            },
        )
    except ScenarioError as exc:
        return dash.no_update, dash.no_update, html.Span(str(exc), className="text-danger")
    return saved_options(view["model"]), saved.id, f"Saved “{saved.name}”."


@callback(
    Output("sc-loaded", "data"),
    Output("sc-dl-csv", "href"),
    Output("sc-dl-json", "href"),
    Output("sc-dl-csv", "disabled"),
    Output("sc-dl-json", "disabled"),
    Output("sc-name", "value"),
    Input("sc-saved", "value"),
    prevent_initial_call=True,
)
def open_saved(selected):
    scenario = service.get_scenario(current_user.id, int(selected)) if selected is not None else None
    if scenario is None:
        return None, "#", "#", True, True, dash.no_update
    return (
        scenario.payload,
        f"/scenarios/{scenario.id}.csv",
        f"/scenarios/{scenario.id}.json",
        False,
        False,
        scenario.name,
    )
