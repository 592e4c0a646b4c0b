"""Compare scenarios: two to four saved scenarios (own and shared) of one model and period side by side,
each evaluated on the same posterior draws, with the probability that one beats another.

The selection lives in the URL (`?model=..&period=..&compare=historical,12,15`), so a link reproduces
the comparison; picking scenarios updates the URL in place (a page-local location that does not
reload the page)."""

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html
from flask_login import current_user

from mmm_dash.core.comparison import MAX_SCENARIOS, MIN_SCENARIOS
from mmm_dash.core.figures.planning import comparison_chart
from mmm_dash.core.formatting import CI, compact, interval, money, prob, ratio, with_interval
from mmm_dash.core.metrics import Objective
from mmm_dash.core.scenario import ScenarioError
from mmm_dash.core.trust import NOT_MEANINGFUL, converged
from mmm_dash.web.dashboard.components import chart_card, csv_json_buttons, graph, page_header
from mmm_dash.web.dashboard.context import View, frame, resolve
from mmm_dash.web.scenarios import compare, service

# Reached from the Scenarios page (and Compare): not a navbar entry, which keeps the navbar on one line.
dash.register_page(
    __name__,
    path="/compare-scenarios",
    name="Compare plans",
    title="Compare scenarios · mmm-dash",
    order=4.5,
    in_navbar=False,
)


def options(view: View) -> list[dict]:
    """The historical allocation, then the user's own and everyone's shared scenarios of this model and period."""
    user_id = current_user.id
    found = service.visible_scenarios(user_id, view.model, view.period_key)
    entries = [{"label": compare.HISTORICAL_LABEL, "value": compare.HISTORICAL}]
    for s in found:
        marks = " · shared" if s.shared and s.user_id == user_id else ""
        changed = " · model changed since" if service.model_changed(s) else ""
        entries.append({"label": f"{compare.label(s, user_id)}{marks}{changed}", "value": str(s.id)})
    return entries


def layout(model=None, period=None, geo=None, version=None, **query):
    view = resolve(model, period, geo, version)
    if not isinstance(view, View):
        return view
    return content(view, compare.parse_selection(query.get("compare")))


def content(view: View, selection: list[str]):
    choices = options(view)
    known = {o["value"] for o in choices}
    selection = [s for s in selection if s in known]
    return frame(
        view,
        page_header(
            "Compare scenarios",
            f"{MIN_SCENARIOS} to {MAX_SCENARIOS} scenarios of {view.model} · {view.analysis.period.label} · each "
            "evaluated on the same posterior draws",
        ),
        dcc.Location(id="cmp-url", refresh=False),
        dcc.Store(id="cmp-view", data=view.keys()),
        dbc.Card(
            dbc.CardBody(
                [
                    dbc.Label("Scenarios", html_for="cmp-pick", className="small"),
                    dcc.Dropdown(
                        id="cmp-pick",
                        options=choices,
                        value=selection,
                        multi=True,
                        placeholder=f"Pick {MIN_SCENARIOS} to {MAX_SCENARIOS} scenarios…",
                    ),
                    html.Div(
                        "Your own and everyone's shared scenarios saved for this model and period; save one on the "
                        "Scenarios page (and share it there) to see it here.",
                        className="small text-secondary mt-1",
                    ),
                ]
            ),
            className="shadow-sm mb-3",
        ),
        html.Div(result(view.model, view.period_key, selection), id="cmp-result"),
    )


def result(model: str, period: str, selection: list[str]):
    """The comparison of `selection`, or one sentence saying what is missing."""
    if len(selection) < MIN_SCENARIOS:
        return dbc.Alert(
            f"Pick {MIN_SCENARIOS} to {MAX_SCENARIOS} scenarios to compare.",
            color="info",
            className="py-2",
            id="cmp-hint",
        )
    try:
        compared = compare.compare(current_user.id, model, period, selection)
    except ScenarioError as exc:
        return dbc.Alert(str(exc), color="warning", className="py-2", id="cmp-error")
    c, info = compared.comparison, compared.bundle.info
    query = compare.selection_query(model, period, compared.tokens)
    downloads = csv_json_buttons("/scenarios/compare", query, "cmp-download")
    notes = [
        dbc.Alert(n, color="warning", className="py-2 small", id=f"cmp-version-{i}")
        for i, n in enumerate(compared.notes)
    ]
    return html.Div(
        [
            *notes,
            chart_card("Totals", totals_table(c, info), header_right=downloads),
            chart_card(
                "Who beats whom",
                probability_matrix(c, info, converged(compared.bundle)),
                note=f"Each cell: the posterior probability that the row is better than the column, counted over "
                f"{c.n_draws} paired draws (a tie counts half), and the difference row − column with its {CI}. "
                "Plans of equal budget are judged on incremental outcome; when budgets differ, on "
                + ("net return (revenue − spend)." if info.has_revenue else f"cost per incremental {info.kpi_name}."),
            ),
            chart_card(f"Incremental {info.outcome_label} per channel ({CI})", channel_table(c)),
            chart_card("Side by side", graph("cmp-chart", comparison_chart(c, info.outcome_label))),
        ]
    )


def totals_table(c, info):
    head = html.Thead(
        html.Tr(
            [
                html.Th(h)
                for h in ("Scenario", "Spend", f"Incremental {info.outcome_label} ({CI})", f"{info.roi_label} ({CI})")
            ]
        )
    )
    rows = [
        html.Tr(
            [
                html.Td(s.name),
                html.Td(money(s.total_spend)),
                html.Td(f"{compact(s.total.mean)} ({interval(s.total.ci_lo, s.total.ci_hi, compact)})"),
                html.Td(f"{ratio(s.roi.mean)} ({interval(s.roi.ci_lo, s.roi.ci_hi)})"),
            ]
        )
        for s in c.scenarios
    ]
    return dbc.Table([head, html.Tbody(rows)], size="sm", striped=True, className="mb-0", id="cmp-totals")


def probability_matrix(c, info, meaningful: bool = True):
    names = [s.name for s in c.scenarios]
    head = html.Thead(html.Tr([html.Th("P(row beats column)")] + [html.Th(n) for n in names]))
    rows = []
    for i, row_name in enumerate(names):
        cells = [html.Th(row_name)]
        for j in range(len(names)):
            if i == j:
                cells.append(html.Td("–", className="text-secondary"))
                continue
            d, objective = c.difference(i, j), c.objective(i, j)
            fmt = money if objective is not Objective.OUTCOME or info.has_revenue else compact
            cells.append(
                html.Td(
                    [
                        html.Div(f"P {prob(float(c.prob_beats[i, j]))}", className="fw-semibold")
                        if meaningful
                        else html.Div(f"P: {NOT_MEANINGFUL}", className="small text-secondary"),
                        html.Div(f"{objective_name(objective, info)} {signed(d.mean, fmt)}", className="small"),
                        html.Div(f"({interval(d.ci_lo, d.ci_hi, fmt)})", className="small text-secondary"),
                    ],
                    id=f"cmp-p-{i}-{j}",
                )
            )
        rows.append(html.Tr(cells))
    return dbc.Table([head, html.Tbody(rows)], size="sm", bordered=True, className="mb-0", id="cmp-matrix")


def objective_name(objective, info) -> str:
    return {
        Objective.OUTCOME: "outcome",
        Objective.NET_RETURN: "net return",
        Objective.COST_PER_KPI: f"cost per {info.kpi_name}",
    }[objective]


def signed(x: float, fmt) -> str:
    return ("+" if x >= 0 else "−") + fmt(abs(x))


def channel_table(c):
    head = html.Thead(html.Tr([html.Th("Channel")] + [html.Th(s.name) for s in c.scenarios]))
    rows = []
    for i, channel in enumerate(c.channels):
        cells = [html.Td(channel)]
        for s in c.scenarios:
            cells.append(
                html.Td(
                    [
                        html.Div(with_interval(s.channel_mean[i], s.channel_ci_lo[i], s.channel_ci_hi[i], compact)),
                        html.Div(f"spend {money(s.spend[i])}", className="small text-secondary"),
                    ]
                )
            )
        rows.append(html.Tr(cells))
    rows.append(
        html.Tr(
            [html.Th("Total")]
            + [
                html.Th(
                    [
                        html.Div(f"{compact(s.total.mean)} ({interval(s.total.ci_lo, s.total.ci_hi, compact)})"),
                        html.Div(f"spend {money(s.total_spend)}", className="small text-secondary"),
                    ]
                )
                for s in c.scenarios
            ]
        )
    )
    return dbc.Table([head, html.Tbody(rows)], size="sm", striped=True, className="mb-0", id="cmp-channels")


@callback(
    Output("cmp-result", "children"),
    Output("cmp-url", "search"),
    Input("cmp-pick", "value"),
    State("cmp-view", "data"),
    prevent_initial_call=True,
)
def pick(selected, view):
    """Compare the picked scenarios and write the selection into the URL (without reloading)."""
    if not isinstance(view, dict) or not isinstance(view.get("model"), str) or not isinstance(view.get("period"), str):
        return dbc.Alert("This page is out of date; reload it.", color="warning", className="py-2"), dash.no_update
    selection = compare.parse_selection(selected if isinstance(selected, list) else [])
    if isinstance(selected, list) and len(selected) > MAX_SCENARIOS:
        return (
            dbc.Alert(
                f"Compare at most {MAX_SCENARIOS} scenarios at once.", color="warning", className="py-2", id="cmp-error"
            ),
            dash.no_update,
        )
    model, period = view["model"], view["period"]
    return result(model, period, selection), compare.selection_query(model, period, selection)
