"""Scenario planner page: layout and thin callbacks over `mmm_dash.core.planner`.

Every callback argument comes from the browser, so each is parsed by the planner's types; a value
it cannot use is answered with a one-sentence message on the page, never an error response.
"""

import dash
import dash_bootstrap_components as dbc
import numpy as np
from dash import ALL, Input, Output, State, callback, ctx, dcc, html
from flask_login import current_user

from mmm_dash.core import formatting, planner
from mmm_dash.core.budget_search import (
    MAX_LADDER_STEPS,
    BudgetLadder,
    GoalSeekResult,
    LadderStop,
    budget_ladder,
    goal_seek,
)
from mmm_dash.core.comparison import Summary
from mmm_dash.core.figures.curves import allocation_comparison, response_curve, small_multiples
from mmm_dash.core.figures.planning import ladder_chart
from mmm_dash.core.formatting import (
    CI,
    compact,
    cost_per_kpi,
    interval,
    kpi_cost_scale,
    money,
    outcome,
    ratio,
)
from mmm_dash.core.metrics import PlanJudgement, judge_plans, judgement_sentence
from mmm_dash.core.planner import (
    DEFAULT_LOWER_PCT,
    DEFAULT_UPPER_PCT,
    SLIDER_MAX,
    GoalSeekSettings,
    LadderSettings,
    NumberEntered,
    OptimizeRequested,
    PlannerSettings,
    ResetToHistorical,
    SavedPayload,
    ScenarioOpened,
    SliderMoved,
    SpendUnit,
    amount_text,
    mode_labels,
)
from mmm_dash.core.scenario import OptimizerMode, ScenarioError
from mmm_dash.core.trust import converged, probability_text
from mmm_dash.web import audit, costly
from mmm_dash.web.dashboard.components import chart_card, graph, metric_card, page_header
from mmm_dash.web.dashboard.context import View, frame, resolve
from mmm_dash.web.memo import cached, plain, plain_div
from mmm_dash.web.permissions import Action, PermissionDenied, may, require
from mmm_dash.web.scenarios import events, service

dash.register_page(__name__, path="/scenarios", name="Scenarios", title="Scenarios · mmm-dash", order=4)

ALL_CHANNELS = "__all__"  # curve picker value: every channel's curve as small multiples


def _id(kind: str, i: int) -> dict:
    return {"type": kind, "index": i}


PHONE_LABEL = "small text-secondary d-md-none"  # a box's label where the header row is hidden (phones)


def channel_row(i: int, channel: str, percent: float = 100.0):
    return dbc.Row(
        [
            dbc.Col(html.Div(channel, className="fw-semibold small"), xs=12, md=2),
            dbc.Col(
                dcc.Slider(
                    id=_id("sc-slider", i),
                    min=0,
                    max=SLIDER_MAX,
                    step=1,
                    value=int(round(percent)),
                    marks={0: "0%", 100: "100%", 200: "200%"},
                    tooltip={"placement": "bottom"},
                ),
                xs=12,
                md=5,
            ),
            dbc.Col(
                [
                    html.Div("Spend", className=PHONE_LABEL),  # on wider screens the header row names the boxes
                    dbc.Input(
                        id=_id("sc-number", i),
                        type="number",
                        value=round(percent, 1),
                        min=0,
                        size="sm",
                        debounce=True,
                    ),
                ],
                xs=4,
                md=2,
            ),
            dbc.Col(
                [
                    html.Div("Optimizer bounds, %", className=PHONE_LABEL),
                    dbc.InputGroup(
                        [
                            dbc.InputGroupText("low", className="d-md-none"),
                            dbc.Input(id=_id("sc-lower", i), type="number", value=DEFAULT_LOWER_PCT, size="sm"),
                            dbc.InputGroupText("high", className="d-md-none"),
                            dbc.Input(id=_id("sc-upper", i), type="number", value=DEFAULT_UPPER_PCT, size="sm"),
                        ],
                        size="sm",
                    ),
                ],
                xs=8,
                md=3,
            ),
        ],
        className="align-items-center g-2 mb-2",
    )


def planner_box(view: View, planned: list[float] | None = None) -> list:
    """The planner's spend rows and optimizer: the same for every visitor of this view and plan."""
    curves = view.analysis.curves
    hist_total = float(curves.historical_spend.sum())
    percents = planner.display_numbers(
        np.asarray(planned if planned is not None else curves.historical_spend),
        curves.historical_spend,
        SpendUnit.PERCENT,
    )
    return [
        dbc.Row(
            [
                dbc.Col(html.Div("Spend per channel", className="fw-semibold"), md=True),
                dbc.Col(
                    dbc.RadioItems(
                        id="sc-unit",
                        options=[
                            {"label": "% of historical", "value": SpendUnit.PERCENT.value},
                            {"label": "absolute", "value": SpendUnit.ABSOLUTE.value},
                        ],
                        value=SpendUnit.PERCENT.value,
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
                "Slider and box: the scenario's spend. Low and high: the optimizer's bounds for the channel, "
                "in % of its historical spend."
            ),
        ),
        dbc.Row(
            [
                dbc.Col(html.Div("Channel", className="small text-secondary"), xs=12, md=2),
                dbc.Col(html.Div("Spend, % of historical", className="small text-secondary"), xs=12, md=5),
                dbc.Col(html.Div("Spend", className="small text-secondary"), xs=4, md=2),
                dbc.Col(html.Div("Bounds: low % · high %", className="small text-secondary"), xs=8, md=3),
            ],
            className="g-2 d-none d-md-flex",
        ),
        *[channel_row(i, ch, percents[i]) for i, ch in enumerate(curves.channels)],
        html.Hr(),
        dbc.Row(
            [
                dbc.Col(
                    [
                        dbc.Label("Optimizer", html_for="sc-mode", className="small"),
                        dcc.Dropdown(
                            id="sc-mode",
                            options=[
                                {"label": label, "value": mode.value}
                                for mode, label in mode_labels(view.info.has_revenue, view.info.kpi_name).items()
                            ],
                            value=OptimizerMode.FIXED.value,
                            clearable=False,
                        ),
                    ],
                    md=6,
                ),
                dbc.Col(
                    [
                        dbc.Label(
                            formatting.with_currency("Total budget"),
                            html_for="sc-budget",
                            className="small",
                        ),
                        dbc.Input(
                            id="sc-budget",
                            type="text",
                            inputMode="decimal",
                            value=amount_text(hist_total),
                            size="sm",
                            debounce=True,
                        ),
                    ],
                    md=6,
                    id="sc-budget-col",
                ),
                dbc.Col(
                    [
                        dbc.Label(
                            target_label(view.info.has_revenue, view.info.kpi_name, OptimizerMode.TARGET_ROI),
                            html_for="sc-target",
                            className="small",
                            id="sc-target-label",
                        ),
                        dbc.Input(id="sc-target", type="number", value=default_target(view), min=0, size="sm"),
                    ],
                    md=6,
                    id="sc-target-col",
                    className="d-none",
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
    ]


def saved_block(view: View) -> list:
    """The signed-in user's saved and shared scenarios, and the buttons their role allows (per request)."""
    return [
        html.Hr(),
        html.Div("Saved scenarios", className="fw-semibold mb-2"),
        dbc.InputGroup(
            [
                dbc.Input(id="sc-name", placeholder="Scenario name", maxLength=service.MAX_NAME, size="sm"),
                dbc.Button("Save", id="sc-save", color="success", size="sm"),
            ],
            size="sm",
            className="mb-2" if may(Action.SAVE_SCENARIO) else "d-none",  # the callback checks again
        ),
        dbc.Row(
            [
                dbc.Col(dcc.Dropdown(id="sc-saved", options=saved_options(view.model), placeholder="Open…"), md=True),
                dbc.Col(
                    [
                        dbc.Button(
                            "Delete",
                            id="sc-delete",
                            color="danger",
                            outline=True,
                            size="sm",
                            className="me-1" if may(Action.DELETE_SCENARIO) else "d-none",
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
        sharing_controls(view),
    ]


def sharing_controls(view: View):
    """Share, make private and copy the opened scenario; what it is and whose (filled by a callback)."""
    return html.Div(
        [
            html.Div(id="sc-saved-info", className="small text-secondary mt-2"),
            html.Div(
                [
                    dbc.Button("Share", id="sc-share", size="sm", color="primary", outline=True, disabled=True),
                    dbc.Button(
                        "Make private", id="sc-unshare", size="sm", color="secondary", outline=True, disabled=True
                    ),
                    dbc.Button("Copy to edit", id="sc-copy", size="sm", color="secondary", outline=True, disabled=True),
                    dcc.Link(
                        "Compare scenarios →",
                        href="/compare-scenarios" + view.query(),
                        id="sc-compare-link",
                        className="small ms-auto",
                    ),
                ],
                className="d-flex gap-1 align-items-center mt-2",
            ),
            dcc.Store(id="sc-saved-rev", data=0),
        ]
    )


def saved_options(model: str) -> list[dict]:
    """The signed-in user's saved scenarios of `model` and everyone's shared ones, for the dropdown."""
    if not current_user or not current_user.is_authenticated:
        return []
    return [scenario_option(s, current_user.id) for s in service.visible_scenarios(current_user.id, model)]


def scenario_option(s, user_id: int) -> dict:
    """A dropdown entry: name, period and date; shared ones are marked, others' with the owner's email."""
    whose = "" if s.user_id == user_id else f" · {s.owner.email}"
    shared = " · shared" if s.shared else ""
    return {"label": f"{s.name} ({s.period}, {s.updated_at:%Y-%m-%d %H:%M}){shared}{whose}", "value": s.id}


def target_label(has_revenue: bool, kpi: str, mode: OptimizerMode) -> str:
    if has_revenue:
        return "Target ROI (total)" if mode is OptimizerMode.TARGET_ROI else "Target marginal ROI"
    which = "" if mode is OptimizerMode.TARGET_ROI else "marginal "
    return formatting.with_currency(f"Highest {which}cost per {kpi}")


def default_target(view: View) -> float:
    """1 for ROI targets; for a KPI model, today's cost per KPI (to 3 significant digits)."""
    if view.info.has_revenue:
        return 1.0
    cost = float(view.analysis.total().cpik_mean)
    return float(f"{cost:.3g}") if np.isfinite(cost) and cost > 0 else 1.0


@callback(
    Output("sc-budget-col", "className"),
    Output("sc-target-col", "className"),
    Output("sc-target-label", "children"),
    Input("sc-mode", "value"),
    State("sc-units", "data"),
    prevent_initial_call=True,
)
def show_mode_fields(mode, units):
    """A fixed budget needs the budget box, a flexible one the target box: show the one that applies."""
    try:
        mode = OptimizerMode.parse(mode)
    except ScenarioError:
        raise dash.exceptions.PreventUpdate from None
    units = units if isinstance(units, dict) else {}
    label = target_label(bool(units.get("has_revenue", True)), str(units.get("kpi", "KPI")), mode)
    fixed = mode is OptimizerMode.FIXED
    return ("" if fixed else "d-none"), ("d-none" if fixed else ""), label


def parse_plan(text: str | None, model) -> tuple[list[float] | None, str | None]:
    """The spend a link's `plan` asks for (multiples of each channel's spend, comma-separated, as the
    Insights and Overview links write them), or None and one sentence saying why it cannot be used."""
    if not text:
        return None, None
    try:
        multiples = [float(v) for v in text.split(",")]
        return model.validate_spend(np.asarray(multiples) * model.historical_spend).tolist(), None
    except (ValueError, ScenarioError) as exc:
        why = str(exc) if isinstance(exc, ScenarioError) else "it is not a list of numbers"
        return None, f"The link's plan cannot be used ({why}); showing the historical spend."


def window_note(view: View):
    """Which window's response curves the planner plans on, when it is not exactly the view's."""
    a = view.analysis
    curves_period = a.curves_period or a.period
    if curves_period.key == a.period.key and view.geo is None:
        return None
    asked = a.period.label + (f" · {view.geo}" if view.geo else "")
    return dbc.Alert(
        f"This view is {asked}; the planner plans on the response curves of {curves_period.label}, all geos "
        "(curves are kept for the whole range, each year, the last 52 weeks, quarters and year to date, "
        "for all geos together).",
        color="info",
        className="py-2 small",
        id="sc-window-note",
    )


BS = "dash_bootstrap_components"


def content(view: View, plan: str | None = None):
    """The planner: everything but the user's saved scenarios is the same for every visit to this
    view and plan, so it is built once (`static_parts`) and wrapped plainly around the per-user part."""
    model = service.scenario_model(view.bundle, view.period_key)
    planned, plan_error = parse_plan(plan, model)
    key = (tuple(planned) if planned is not None else (), plan_error)  # a bad link's notice is its own entry
    head, box, left_cards, right_column = cached(
        view, f"{__name__}.static", lambda: static_parts(view, planned, plan_error), key
    )
    controls_card = plain("Card", BS, [plain("CardBody", BS, [*box, *saved_block(view)])], className="shadow-sm mb-3")
    # Two columns on wide screens (controls over the ladder and goal seek | results); on a phone the
    # results come straight after the controls, not below the ladder and goal seek (app.css).
    return frame(
        view,
        *head,
        plain_div(
            [
                plain_div([controls_card], className="planner-controls"),
                plain_div(right_column, className="planner-results"),
                plain_div(left_cards, className="planner-tools"),
            ],
            className="planner-grid",
        ),
    )


def static_parts(view: View, planned: list[float] | None, plan_error: str | None) -> tuple:
    """(header and stores, the planner box, the ladder and goal-seek cards, the results column)."""
    hist = [float(x) for x in view.analysis.curves.historical_spend]
    start = planned if planned is not None else hist
    head = [
        page_header(
            "Scenario planner",
            f"Predicted incremental {view.info.outcome_label} for a budget · "
            f"{(view.analysis.curves_period or view.analysis.period).label} · intervals from the posterior draws"
            + (f" · the planner plans in revenue, not in {view.info.kpi_name}" if view.in_kpi else ""),
        ),
        window_note(view),
        dbc.Alert(plan_error, color="warning", className="py-2", id="sc-plan-error") if plan_error else None,
        dbc.Alert(
            "Opened with the move from Insights: the sliders show the planned spend; Reset returns to the historical.",
            color="info",
            className="py-2 small",
            id="sc-plan-opened",
        )
        if planned is not None
        else None,
        dcc.Store(id="sc-view", data=view.keys()),  # spend comes from the bundle
        dcc.Store(id="sc-units", data={"has_revenue": view.info.has_revenue, "kpi": view.info.kpi_name}),
        dcc.Store(id="sc-spend", data=start),
        dcc.Store(id="sc-loaded"),
        html.Div(id="sc-error"),
    ]
    right = [
        html.Div(id="sc-summary", children=initial_summary(view, planned)),
        chart_card(
            "Allocation",
            graph("sc-allocation", allocation_comparison(view.info.paid_channels, hist, start)),
        ),
        chart_card("Per channel", html.Div(id="sc-table")),
        chart_card(
            "Response curves at the scenario",
            graph("sc-curve", {}),
            header_right=dcc.Dropdown(
                id="sc-curve-channel",
                options=[{"label": "All channels", "value": ALL_CHANNELS}] + list(view.info.paid_channels),
                value=ALL_CHANNELS,
                clearable=False,
                style={"minWidth": "12rem"},
            ),
        ),
    ]
    return (
        [h for h in head if h is not None],
        planner_box(view, planned),
        [ladder_card(view), goal_seek_card(view)],
        right,
    )


def layout(model=None, period=None, geo=None, version=None, plan=None, units=None, **_):
    view = resolve(model, period, geo, version, units or "")
    return content(view, plan) if isinstance(view, View) else view


# The optimizer settings as one grouped callback argument (the planner's PlannerSettings fields).
SETTINGS_STATE = {
    "mode": State("sc-mode", "value"),
    "budget": State("sc-budget", "value"),
    "target": State("sc-target", "value"),
    "lower": State({"type": "sc-lower", "index": ALL}, "value"),
    "upper": State({"type": "sc-upper", "index": ALL}, "value"),
}


# -- state: one callback owns the scenario spend, whatever changed it ---------------------------
def _message(exc: ScenarioError | costly.TooMany):
    return dbc.Alert(str(exc), color="warning", className="py-2", id="sc-error-message", dismissable=True)


def _settings(settings: dict, has_revenue: bool = True) -> PlannerSettings:
    """The optimizer box as the planner's settings (ScenarioError for values it cannot use); a model
    without revenue takes its target as a cost per KPI."""
    return PlannerSettings(
        settings["mode"], settings["budget"], settings["target"], settings["lower"], settings["upper"], not has_revenue
    )


def _one_of(values, index, n: int):
    """The `index`-th of a per-channel list sent by the browser, if the list has one value per channel."""
    if not isinstance(values, list) or len(values) != n or not isinstance(index, int) or not 0 <= index < n:
        raise ScenarioError("This page is out of date; reload it.")
    return values[index]


def _event(trigger, n: int, sliders, numbers, unit, loaded, settings, has_revenue=True) -> planner.PlannerEvent | None:
    """What changed the scenario, as a planner event."""
    if isinstance(trigger, dict) and trigger.get("type") == "sc-slider":
        return SliderMoved(trigger.get("index"), _one_of(sliders, trigger.get("index"), n))
    if isinstance(trigger, dict) and trigger.get("type") == "sc-number":
        return NumberEntered(trigger.get("index"), _one_of(numbers, trigger.get("index"), n), SpendUnit.parse(unit))
    if trigger == "sc-reset":
        return ResetToHistorical()
    if trigger == "sc-loaded" and loaded:
        if not isinstance(loaded, dict):
            raise ScenarioError("That saved scenario cannot be opened; pick it again.")
        return ScenarioOpened(loaded.get("spend"))
    if trigger == "sc-optimize":
        return OptimizeRequested(_settings(settings, has_revenue))
    return None


def _per_channel(values: list | None, position: int) -> list:
    """`values` for a wildcard output, or one no_update per output when there are none or the request
    names another number of outputs (Dash refuses a bare no_update for a wildcard output: a 500)."""
    specs = ctx.outputs_list[position]
    count = len(specs) if isinstance(specs, list) else 0
    return values if values is not None and len(values) == count else [dash.no_update] * count


@callback(
    Output("sc-spend", "data"),
    Output({"type": "sc-slider", "index": ALL}, "value"),
    Output({"type": "sc-number", "index": ALL}, "value"),
    Output("sc-error", "children"),
    Output("sc-budget", "value"),
    inputs={
        "sliders": Input({"type": "sc-slider", "index": ALL}, "value"),
        "numbers": Input({"type": "sc-number", "index": ALL}, "value"),
        "unit": Input("sc-unit", "value"),
        "optimize": Input("sc-optimize", "n_clicks"),
        "reset": Input("sc-reset", "n_clicks"),
        "loaded": Input("sc-loaded", "data"),
    },
    state={
        "view": State("sc-view", "data"),
        "settings": SETTINGS_STATE,
        "spend": State("sc-spend", "data"),
    },
    prevent_initial_call=True,
)
def update_spend(sliders, numbers, unit, optimize, reset, loaded, view, settings, spend):
    """Apply the change that fired (slider, box, unit, optimize, reset, opened scenario) to the spend."""
    try:
        bundle, model = service.model_period(*_view_keys(view))
    except ScenarioError as exc:  # e.g. the model is being analysed again or failed: say so, change nothing
        return dash.no_update, _per_channel(None, 1), _per_channel(None, 2), _message(exc), dash.no_update
    hist, n = model.historical_spend, len(model.channels)
    error, refused = None, False
    try:
        current = model.validate_spend(spend)
    except ScenarioError as exc:
        current, error = hist.copy(), _message(exc)
    try:
        event = _event(ctx.triggered_id, n, sliders, numbers, unit, loaded, settings, bundle.info.has_revenue)
        new = planner.next_spend(model, current, event)
        shown_unit = SpendUnit.parse(unit)
    except ScenarioError as exc:
        shown_unit = SpendUnit.ABSOLUTE if unit == SpendUnit.ABSOLUTE else SpendUnit.PERCENT
        new, error, refused = current, _message(exc), True
    return (
        new.tolist(),
        _per_channel(planner.slider_positions(new, hist), 1),
        _per_channel(planner.display_numbers(new, hist, shown_unit), 2),
        error,
        dash.no_update if refused else amount_text(float(new.sum())),  # a refused change keeps a typed budget
    )


def _view_keys(view) -> tuple:
    """(model, period, entry) of the page's view store, whatever the browser sent."""
    return (view.get("model"), view.get("period"), view.get("entry")) if isinstance(view, dict) else (None, None, None)


# -- results: a pure read of the scenario ------------------------------------------------------
def initial_summary(view: View, planned: list[float] | None = None):
    """The summary cards before any change: the historical allocation (or a link's plan) against it."""
    model = service.scenario_model(view.bundle, view.period_key)
    historical = model.evaluate(model.historical_spend)
    scenario = model.evaluate(planned) if planned is not None else historical
    return results_summary(view.info, scenario, historical, model, converged(view.bundle))


def scenario_gain(model, scenario, historical, has_revenue: bool = True) -> tuple[Summary, PlanJudgement]:
    """The scenario's total incremental outcome minus the historical allocation's on paired draws, and
    the scenario judged against it on what the analyst optimizes (`core.metrics.judge_plans`)."""
    after = model.per_draw_outcome(scenario.spend).sum(axis=1)
    before = model.per_draw_outcome(historical.spend).sum(axis=1)
    judged = judge_plans(has_revenue, scenario.total_spend, after, historical.total_spend, before)
    return Summary.of(after - before), judged


def results_summary(info, scenario, historical, model=None, meaningful=True):
    def amount(x):
        return outcome(x, info.has_revenue)

    same = np.allclose(scenario.spend, historical.spend)
    if model is None or same:
        vs = "the historical allocation" if same else "vs historical"
    else:
        gain, judged = scenario_gain(model, scenario, historical, info.has_revenue)
        vs = (
            f"{'+' if gain.mean >= 0 else '−'}{amount(abs(gain.mean))} vs historical ({CI} "
            f"{interval(gain.ci_lo, gain.ci_hi, amount)}); {judgement_sentence(judged, info.kpi_name, meaningful)}"
        )
    if info.has_revenue:
        efficiency = metric_card(
            "ROI",
            ratio(scenario.total_roi_mean),
            f"{CI} {interval(scenario.total_roi_ci_lo, scenario.total_roi_ci_hi)} · "
            f"historical {ratio(historical.total_roi_mean)}",
            "sc-card-roi",
        )
    else:  # Meridian's cost per KPI (the mean of per-draw costs), as on every other page
        cost, before = scenario.total_cost_per_kpi, historical.total_cost_per_kpi
        scale = kpi_cost_scale(before.mean)  # one scale for the view: the historical blended cost's
        per = "per 1,000 " if scale > 1 else "per "
        efficiency = metric_card(
            f"Cost {per}incremental {info.kpi_name}",
            money(cost.mean * scale),
            f"{CI} {interval(cost.ci_lo * scale, cost.ci_hi * scale, money)} · historical {money(before.mean * scale)}",
            "sc-card-roi",
        )
    return dbc.Row(
        [
            dbc.Col(
                metric_card(
                    f"Scenario spend ({formatting.CURRENCY.code})",
                    money(scenario.total_spend),
                    f"historical {money(historical.total_spend)}",
                    "sc-card-spend",
                ),
                md=4,
            ),
            dbc.Col(
                metric_card(
                    f"Incremental {info.outcome_label}",
                    amount(scenario.total_mean),
                    f"{CI} {interval(scenario.total_ci_lo, scenario.total_ci_hi, amount)} · {vs}",
                    "sc-card-outcome",
                ),
                md=4,
            ),
            dbc.Col(efficiency, md=4),
        ],
        className="g-2 mb-3",
    )


def results_table(model, scenario, historical, info=None):
    """Per channel: historical and scenario spend, the change, the outcome and the channel's ROI (or
    cost per KPI) with intervals, and its marginal ROI at the scenario's spend."""
    has_revenue = info.has_revenue if info is not None else True
    marginal = model.marginal_return(scenario.spend)
    rows = []
    for i, ch in enumerate(model.channels):
        ci_outcome = interval(scenario.outcome_ci_lo[i], scenario.outcome_ci_hi[i], lambda x: outcome(x, has_revenue))
        change = scenario.spend[i] - historical.spend[i]
        rel = change / historical.spend[i] if historical.spend[i] else float("nan")
        if has_revenue:
            efficiency = f"{ratio(scenario.roi_mean[i])} ({interval(scenario.roi_ci_lo[i], scenario.roi_ci_hi[i])})"
            m = marginal[:, i]
            finite = m[np.isfinite(m)]
            margin = f"{ratio(finite.mean())} ({interval(*np.quantile(finite, [0.05, 0.95]))})" if finite.size else "–"
        else:
            scale = kpi_cost_scale(historical.total_cost_per_kpi.mean)
            efficiency = cost_per_kpi(scenario.cost_per_kpi[i], info.kpi_name if info is not None else "KPI", scale)
            margin = None
        cells = [
            html.Td(ch),
            html.Td(money(historical.spend[i])),
            html.Td(money(scenario.spend[i])),
            html.Td(f"{'+' if change >= 0 else '−'}{money(abs(change))} ({rel:+.0%})" if abs(change) > 0.5 else "–"),
            html.Td(f"{outcome(scenario.outcome_mean[i], has_revenue)} ({ci_outcome})"),
            html.Td(efficiency),
        ]
        if margin is not None:
            cells.append(html.Td(margin))
        rows.append(html.Tr(cells))
    heads = ["Channel", "Historical", "Scenario", "Change", f"Outcome ({CI})"]
    heads += (
        [f"ROI ({CI})", f"mROI at scenario ({CI})"] if has_revenue else [f"Cost per {info.kpi_name if info else 'KPI'}"]
    )
    table = dbc.Table(
        [html.Thead(html.Tr([html.Th(h) for h in heads])), html.Tbody(rows)],
        size="sm",
        striped=True,
        className="mb-0",
        id="sc-results-table",
    )
    return html.Div(table, className="table-responsive")


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
    """Summary, allocation, table and curves of the scenario spend: a pure read."""
    try:
        bundle, model = service.model_period(*_view_keys(view))
        scenario = model.evaluate(model.validate_spend(spend))
    except ScenarioError as exc:
        return _message(exc), dash.no_update, dash.no_update, dash.no_update
    historical = model.evaluate(model.historical_spend)
    curves = bundle.period(view["period"]).curves
    if isinstance(channel, str) and channel in model.channels:
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
        results_summary(bundle.info, scenario, historical, model, converged(bundle)),
        allocation_comparison(model.channels, model.historical_spend, scenario.spend),
        results_table(model, scenario, historical, bundle.info),
        curve,
    )


# -- saved scenarios ---------------------------------------------------------------------------
def _scenario_id(selected) -> int:
    """The dropdown's value as a scenario id (ScenarioError for anything else)."""
    if isinstance(selected, bool) or not isinstance(selected, int):
        raise ScenarioError("Pick a saved scenario from the list.")
    return selected


def _failure(exc: ScenarioError):
    return html.Span(str(exc), className="text-danger")


@callback(
    Output("sc-saved", "options"),
    Output("sc-saved", "value"),
    Output("sc-saved-msg", "children"),
    inputs={"save": Input("sc-save", "n_clicks"), "delete": Input("sc-delete", "n_clicks")},
    state={
        "name": State("sc-name", "value"),
        "selected": State("sc-saved", "value"),
        "spend": State("sc-spend", "data"),
        "view": State("sc-view", "data"),
        "settings": SETTINGS_STATE,
    },
    prevent_initial_call=True,
)
def save_or_delete(save, delete, name, selected, spend, view, settings):
    """Save the scenario under `name`, or delete the selected one; the message says which happened."""
    model_name, period, _entry = _view_keys(view)
    try:  # the guard checked the least role of both already; this names the one asked for
        require(Action.DELETE_SCENARIO if ctx.triggered_id == "sc-delete" else Action.SAVE_SCENARIO)
    except PermissionDenied as exc:
        audit.record(audit.PERMISSION, "callback save_or_delete", audit.DENIED, str(exc))
        return dash.no_update, dash.no_update, _failure(exc)
    if ctx.triggered_id == "sc-delete":
        if selected is None:
            return dash.no_update, dash.no_update, "Pick a saved scenario to delete."
        try:
            deleted = service.delete_scenario(current_user.id, _scenario_id(selected))
        except ScenarioError as exc:
            return dash.no_update, dash.no_update, _failure(exc)
        if not deleted:
            return dash.no_update, dash.no_update, _failure(ScenarioError("No such saved scenario."))
        audit.record(audit.SCENARIO_DELETE, f"scenario {selected} ({model_name})")
        return saved_options(model_name), None, "Deleted."
    try:
        bundle, model = service.model_period(model_name, period)
        payload = SavedPayload(model.channels, spend, _settings(settings, bundle.info.has_revenue))
        saved = service.save_scenario(current_user.id, name, model_name, period, payload.to_dict())
    except ScenarioError as exc:
        return dash.no_update, dash.no_update, _failure(exc)
    audit.record(audit.SCENARIO_SAVE, f"scenario {saved.id} “{saved.name}” ({model_name}, {period})")
    return saved_options(model_name), saved.id, f"Saved “{saved.name}”."


@callback(
    Output("sc-loaded", "data"),
    Output("sc-dl-csv", "href"),
    Output("sc-dl-json", "href"),
    Output("sc-dl-csv", "disabled"),
    Output("sc-dl-json", "disabled"),
    Output("sc-name", "value"),
    Output("sc-saved-msg", "children", allow_duplicate=True),
    Input("sc-saved", "value"),
    prevent_initial_call=True,
)
def open_saved(selected):
    """Load the picked scenario's spend and point the download buttons at it."""
    closed = (None, "#", "#", True, True, dash.no_update)
    if selected is None:
        return (*closed, dash.no_update)
    try:
        scenario = service.visible_scenario(current_user.id, _scenario_id(selected))
    except ScenarioError as exc:
        return (*closed, _failure(exc))
    if scenario is None:
        return (*closed, _failure(ScenarioError("No such saved scenario.")))
    return (
        scenario.payload,
        f"/scenarios/{scenario.id}.csv",
        f"/scenarios/{scenario.id}.json",
        False,
        False,
        scenario.name,
        dash.no_update,
    )


# -- sharing: share, make private, copy to edit --------------------------------------------------
def _describe(scenario) -> tuple:
    """(info, share disabled, unshare disabled, copy disabled) for the opened scenario."""
    if scenario is None:
        return None, True, True, True
    own = scenario.user_id == current_user.id
    # Hints only: the share callback checks the role on the server whatever the buttons say.
    may_share, may_copy = may(Action.SHARE_SCENARIO), may(Action.SAVE_SCENARIO)
    if own:
        status = (
            "Shared with everyone signed in (read-only for them)." if scenario.shared else "Private: only you see it."
        )
    else:
        status = f"Shared by {scenario.owner.email}: read-only for you" + (
            "; “Copy to edit” makes your own copy." if may_copy else "."
        )
    note = service.version_note(scenario)
    info = [html.Span(status, id="sc-saved-status")]
    if note:
        info.append(html.Div(note, className="text-warning-emphasis mt-1", id="sc-saved-version"))
    return (
        info,
        not (own and may_share) or scenario.shared,
        not (own and may_share) or not scenario.shared,
        not may_copy,
    )


@callback(
    Output("sc-saved-info", "children"),
    Output("sc-share", "disabled"),
    Output("sc-unshare", "disabled"),
    Output("sc-copy", "disabled"),
    Input("sc-saved", "value"),
    Input("sc-saved-rev", "data"),
)
def describe_saved(selected, _rev):
    """Whose the opened scenario is, whether it is shared, whether its model file changed since."""
    if selected is None:
        return _describe(None)
    try:
        scenario = service.visible_scenario(current_user.id, _scenario_id(selected))
    except ScenarioError:
        scenario = None
    return _describe(scenario)


@callback(
    Output("sc-saved", "options", allow_duplicate=True),
    Output("sc-saved", "value", allow_duplicate=True),
    Output("sc-saved-msg", "children", allow_duplicate=True),
    Output("sc-saved-rev", "data"),
    inputs={
        "share": Input("sc-share", "n_clicks"),
        "unshare": Input("sc-unshare", "n_clicks"),
        "copy": Input("sc-copy", "n_clicks"),
    },
    state={
        "selected": State("sc-saved", "value"),
        "view": State("sc-view", "data"),
        "rev": State("sc-saved-rev", "data"),
    },
    prevent_initial_call=True,
)
def share_or_copy(share, unshare, copy, selected, view, rev):
    """Share or unshare the user's own scenario (analysts and up), or copy a readable one to edit."""
    model_name, _period, _entry = _view_keys(view)
    rev = (rev if isinstance(rev, int) else 0) + 1
    action = ctx.triggered_id
    if action not in ("sc-share", "sc-unshare", "sc-copy"):
        raise dash.exceptions.PreventUpdate
    event = {"sc-share": events.SHARE, "sc-unshare": events.UNSHARE, "sc-copy": events.COPY}[action]
    scenario_id = selected if isinstance(selected, int) and not isinstance(selected, bool) else None
    try:
        require(Action.SAVE_SCENARIO if action == "sc-copy" else Action.SHARE_SCENARIO)
        scenario_id = _scenario_id(selected)
        if action == "sc-copy":
            copied = service.copy_scenario(current_user.id, scenario_id)
            events.record(event, scenario_id, detail=f"copy {copied.id}")
            return saved_options(model_name), copied.id, f"Copied to “{copied.name}”: yours to edit.", rev
        service.set_shared(current_user.id, scenario_id, action == "sc-share")
    except PermissionDenied as exc:
        events.record(event, scenario_id, outcome=events.DENIED, detail=str(exc))
        return dash.no_update, dash.no_update, _failure(ScenarioError(str(exc))), dash.no_update
    except ScenarioError as exc:
        return dash.no_update, dash.no_update, _failure(exc), dash.no_update
    events.record(event, scenario_id)
    message = "Shared with everyone signed in." if action == "sc-share" else "Private again."
    return saved_options(model_name), dash.no_update, message, rev


# -- incremental budget ladder and goal seek -----------------------------------------------------
def _run_and_apply(prefix: str, run_label: str, apply_label: str) -> list:
    """A planner tool's buttons (run it; put its result into the planner), its result and its spend."""
    return [
        html.Div(
            [
                dbc.Button(run_label, id=f"sc-{prefix}-run", color="primary", size="sm"),
                dbc.Button(
                    apply_label, id=f"sc-{prefix}-apply", color="secondary", outline=True, size="sm", disabled=True
                ),
            ],
            className="d-flex gap-1",
        ),
        dcc.Store(id=f"sc-{prefix}-spend"),
        dcc.Loading(html.Div(id=f"sc-{prefix}-result", className="mt-2"), type="dot"),
    ]


def ladder_card(view: View):
    """Where each next slice of budget would go from the scenario, until returns fall below the threshold."""
    info = view.info
    # Revenue models stop where a slice returns less than it costs; only a KPI needs a target cost.
    kpi_box = dbc.Col(
        [
            dbc.Label(f"Target cost per {info.kpi_name}", html_for="sc-ladder-cost", className="small"),
            dbc.Input(id="sc-ladder-cost", type="number", min=0, size="sm", placeholder="none"),
        ],
        md=4,
        style={"display": "none"} if info.has_revenue else None,
    )
    stop_rule = (
        "until a slice returns less than it costs (marginal ROI below 1)"
        if info.has_revenue
        else f"until a slice's {info.kpi_name} costs more than the target (without one: until the bounds or the steps)"
    )
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div("Incremental budget ladder", className="fw-semibold"),
                html.Div(
                    f"From the scenario's spend, each step puts the next slice on the channel whose slice returns "
                    f"most (mean over the posterior draws), within the optimizer's upper bounds, {stop_rule}.",
                    className="small text-secondary mb-2",
                ),
                dbc.Row(
                    [
                        dbc.Col(
                            [
                                dbc.Label("Slice (% of budget)", html_for="sc-ladder-slice", className="small"),
                                dbc.Input(
                                    id="sc-ladder-slice",
                                    type="number",
                                    value=planner.DEFAULT_SLICE_PCT,
                                    min=0.1,
                                    max=planner.MAX_SLICE_PCT,
                                    step=0.5,
                                    size="sm",
                                ),
                            ],
                            md=4,
                        ),
                        dbc.Col(
                            [
                                dbc.Label("Most steps", html_for="sc-ladder-steps", className="small"),
                                dbc.Input(
                                    id="sc-ladder-steps",
                                    type="number",
                                    value=40,
                                    min=1,
                                    max=MAX_LADDER_STEPS,
                                    step=1,
                                    size="sm",
                                ),
                            ],
                            md=4,
                        ),
                        kpi_box,
                    ],
                    className="g-2 mb-2",
                ),
                *_run_and_apply("ladder", "Build ladder", "Use the ladder's spend"),
            ]
        ),
        className="shadow-sm mb-3",
        id="sc-ladder-card",
    )


def goal_seek_card(view: View):
    """The smallest budget whose expected outcome (or whose outcome with a probability) reaches a target."""
    label = view.info.outcome_label
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div("Goal seek", className="fw-semibold"),
                html.Div(
                    f"The smallest total budget, allocated by the optimizer within its bounds, whose incremental "
                    f"{label} reaches the target: in expectation, or with the probability you give.",
                    className="small text-secondary mb-2",
                ),
                dbc.Row(
                    [
                        dbc.Col(
                            [
                                dbc.Label(f"Target incremental {label}", html_for="sc-goal-target", className="small"),
                                dbc.Input(id="sc-goal-target", type="number", min=0, size="sm"),
                            ],
                            md=6,
                        ),
                        dbc.Col(
                            [
                                dbc.Label("With probability (%)", html_for="sc-goal-prob", className="small"),
                                dbc.Input(
                                    id="sc-goal-prob",
                                    type="number",
                                    min=1,
                                    max=99.9,
                                    step=1,
                                    size="sm",
                                    placeholder="expected",
                                ),
                            ],
                            md=6,
                        ),
                    ],
                    className="g-2 mb-2",
                ),
                *_run_and_apply("goal", "Find budget", "Use this allocation"),
            ]
        ),
        className="shadow-sm mb-3",
        id="sc-goal-card",
    )


def _caps(ladder: BudgetLadder, historical) -> str:
    """Which channels sit at their upper bounds, and where those bounds are (" (+30% of historical)")."""
    capped = ladder.capped()
    if not capped:
        return ""
    idx = [ladder.channels.index(c) for c in capped]
    pcts = {round(ladder.upper[i] / historical[i] * 100) - 100 for i in idx if historical is not None and historical[i]}
    where = f" ({pcts.pop():+d}% of historical)" if len(pcts) == 1 else ""
    if len(capped) == len(ladder.channels):
        return f"every channel sits at its upper bound{where}"
    names = ", ".join(capped[:-1]) + " and " + capped[-1] if len(capped) > 1 else capped[0]
    return f"{names} already {'sit at their upper bounds' if len(capped) > 1 else 'sits at its upper bound'}{where}"


def _ladder_stop(ladder: BudgetLadder, info, historical=None) -> str:
    """Why the ladder stopped; when channels sit at their caps it says so, and which box lifts them."""
    caps = _caps(ladder, historical)
    raise_it = " Raise the high % bounds in the planner above to let the ladder add to them."
    if ladder.stop is LadderStop.BELOW_THRESHOLD:
        channel, marginal = ladder.next_best
        said = (
            f"Stopped: the best next slice ({channel}) returns {ratio(marginal.mean)} per unit "
            f"({CI} {interval(marginal.ci_lo, marginal.ci_hi)}), below {ladder.threshold:.3g}."
        )
        return said + (f" {caps[0].upper()}{caps[1:]}.{raise_it}" if caps else "")
    if ladder.stop is LadderStop.AT_BOUNDS:
        if not ladder.steps:
            return f"No step taken: {caps}.{raise_it}"
        return f"Stopped: {caps}."
    return f"Stopped after {len(ladder.steps)} steps (the most asked for)."


def ladder_view(ladder: BudgetLadder, info, historical=None):
    rows = [
        html.Tr(
            [
                html.Td(s.step),
                html.Td(s.channel),
                html.Td(money(s.slice)),
                html.Td(f"{ratio(s.marginal.mean)} ({interval(s.marginal.ci_lo, s.marginal.ci_hi)})"),
                html.Td(money(s.budget)),
                html.Td(f"{compact(s.outcome.mean)} ({interval(s.outcome.ci_lo, s.outcome.ci_hi, compact)})"),
            ]
        )
        for s in ladder.steps
    ]
    head = html.Thead(
        html.Tr(
            [html.Th(h) for h in ("Step", "Channel", "Slice", f"Marginal return ({CI})", "Budget", f"Outcome ({CI})")]
        )
    )
    start = (
        f"Start: budget {money(ladder.start_budget)}, incremental {info.outcome_label} "
        f"{outcome(ladder.start_outcome.mean, info.has_revenue)}; slice {money(ladder.slice_size)}."
    )
    return [
        html.Div(start, className="small"),
        html.Div(_ladder_stop(ladder, info, historical), className="small mb-2", id="sc-ladder-stop"),
        dbc.Table([head, html.Tbody(rows)], size="sm", striped=True, className="mb-2", id="sc-ladder-table")
        if rows
        else None,
        graph("sc-ladder-chart", ladder_chart(ladder, info.outcome_label, f"Marginal {info.roi_label}")),
    ]


@callback(
    Output("sc-ladder-result", "children"),
    Output("sc-ladder-spend", "data"),
    Output("sc-ladder-apply", "disabled"),
    Input("sc-ladder-run", "n_clicks"),
    State("sc-view", "data"),
    State("sc-spend", "data"),
    State("sc-ladder-slice", "value"),
    State("sc-ladder-steps", "value"),
    State("sc-ladder-cost", "value"),
    State({"type": "sc-lower", "index": ALL}, "value"),
    State({"type": "sc-upper", "index": ALL}, "value"),
    prevent_initial_call=True,
)
def run_ladder(_n, view, spend, slice_pct, steps, cost, lower, upper):
    """The ladder from the scenario's spend within the optimizer box's upper bounds."""
    try:
        bundle, model = service.model_period(*_view_keys(view))
        settings = LadderSettings(slice_pct, steps, cost)
        bounds = PlannerSettings(lower_pct=lower, upper_pct=upper).bounds(model.historical_spend)
        ladder = budget_ladder(
            model,
            model.validate_spend(spend),
            slice_fraction=settings.slice_fraction,
            threshold=settings.threshold(bundle.info.has_revenue),
            upper=bounds[1],
            max_steps=settings.max_steps,
        )
    except ScenarioError as exc:
        return _message(exc), None, True
    view = ladder_view(ladder, bundle.info, model.historical_spend)
    return view, ladder.final_spend.tolist(), not ladder.steps


def goal_view(result: GoalSeekResult, model, info, meaningful=True):
    label = info.outcome_label
    target = compact(result.target)
    how = "expected" if result.probability is None else f"with probability ≥ {result.probability:.0%}"
    outcome = f"{compact(result.outcome.mean)} ({CI} {interval(result.outcome.ci_lo, result.outcome.ci_hi, compact)})"
    chance = probability_text(f"reaching {target}", result.prob_reach, meaningful)
    if not result.reachable:
        headline = (
            f"Not reachable within the bounds: the most they allow, {money(result.max_budget)}, gives an "
            f"incremental {label} of {outcome}; {chance}."
        )
        color = "warning"
    else:
        headline = (
            f"Smallest budget for {target} ({how}): {money(result.budget)}. Incremental {label} {outcome}; {chance}."
        )
        if result.budget <= result.min_budget * (1 + 1e-9):
            headline += " Already reached at the lowest budget the lower bounds allow."
        color = "success"
    rows = [
        html.Tr([html.Td(ch), html.Td(money(model.historical_spend[i])), html.Td(money(result.spend[i]))])
        for i, ch in enumerate(model.channels)
    ]
    head = html.Thead(html.Tr([html.Th(h) for h in ("Channel", "Historical", "Allocation")]))
    return [
        dbc.Alert(headline, color=color, className="py-2 small", id="sc-goal-headline"),
        dbc.Table([head, html.Tbody(rows)], size="sm", striped=True, className="mb-0", id="sc-goal-table"),
    ]


@callback(
    Output("sc-goal-result", "children"),
    Output("sc-goal-spend", "data"),
    Output("sc-goal-apply", "disabled"),
    Input("sc-goal-run", "n_clicks"),
    State("sc-view", "data"),
    State("sc-goal-target", "value"),
    State("sc-goal-prob", "value"),
    State({"type": "sc-lower", "index": ALL}, "value"),
    State({"type": "sc-upper", "index": ALL}, "value"),
    prevent_initial_call=True,
)
def run_goal_seek(_n, view, target, probability, lower, upper):
    """The smallest budget reaching the target, within the optimizer box's bounds."""
    try:
        bundle, model = service.model_period(*_view_keys(view))
        settings = GoalSeekSettings(target, probability)
        lo, hi = PlannerSettings(lower_pct=lower, upper_pct=upper).bounds(model.historical_spend)
        with costly.limited("goal-seek", "goal seeks"):
            result = goal_seek(model, settings.target, probability=settings.probability, lower=lo, upper=hi)
    except (ScenarioError, costly.TooMany) as exc:
        return _message(exc), None, True
    return goal_view(result, model, bundle.info, converged(bundle)), result.spend.tolist(), not result.reachable


@callback(
    Output("sc-loaded", "data", allow_duplicate=True),
    Input("sc-ladder-apply", "n_clicks"),
    Input("sc-goal-apply", "n_clicks"),
    State("sc-ladder-spend", "data"),
    State("sc-goal-spend", "data"),
    prevent_initial_call=True,
)
def apply_result(_ladder, _goal, ladder_spend, goal_spend):
    """Put the ladder's final spend or goal seek's allocation into the planner (checked there)."""
    spend = ladder_spend if ctx.triggered_id == "sc-ladder-apply" else goal_spend
    if spend is None:
        raise dash.exceptions.PreventUpdate
    return {"spend": spend}
