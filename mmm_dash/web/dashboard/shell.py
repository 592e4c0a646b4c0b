"""The frame around every page: navbar with user and downloads, and the callbacks that keep the
model, period, geo and units in the URL and poll the state of a bundle being built (the builder builds it;
a request never starts a process)."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ClientsideFunction, Input, Output, State, dcc, html
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from mmm_dash.core.status import BundleStatus
from mmm_dash.web.dashboard.links import EXPORTS, VIEW_KEYS, parse_query, parse_search, query_string, search_query
from mmm_dash.web.permissions import Action, may


def _nav_id(path: str) -> str:
    return "nav-" + (path.strip("/") or "overview")


def app_pages() -> list[tuple[str, str]]:
    """(name, path) of every page of the app in their `order` (the 404 page aside)."""
    pages = sorted(dash.page_registry.values(), key=lambda p: (p.get("order") is None, p.get("order") or 0, p["name"]))
    return [(p["name"], p["path"]) for p in pages if not p["module"].endswith("not_found_404")]


def nav_pages() -> list[tuple[str, str]]:
    """(name, path) of the navbar's entries: every page but those registered with in_navbar=False."""
    hidden = {p["path"] for p in dash.page_registry.values() if p.get("in_navbar") is False}
    return [(name, path) for name, path in app_pages() if path not in hidden]


def navbar():
    user = current_user if current_user and current_user.is_authenticated else None
    user_bits = []
    if user is not None:
        user_bits = [
            html.Span(user.email, className="text-light small me-2", id="nav-user-email"),
            dbc.Badge(user.role, color="light", text_color="dark", className="me-3", id="nav-user-role"),
            *(
                [html.A("Admin", href="/admin/accounts", className="btn btn-outline-light btn-sm me-2", id="nav-admin")]
                if may(Action.MANAGE_ACCOUNTS)
                else []
            ),
            html.Form(
                [
                    dcc.Input(type="hidden", name="csrf_token", value=generate_csrf(), id="logout-csrf"),
                    html.Button("Log out", type="submit", className="btn btn-outline-light btn-sm", id="logout-button"),
                ],
                action="/logout",
                method="POST",
                className="d-inline",
            ),
        ]
    downloads = dbc.DropdownMenu(
        [
            dbc.DropdownMenuItem(
                label, href=f"/export/{fname}", external_link=True, id=f"menu-{fname.replace('.', '-')}"
            )
            for label, fname in EXPORTS
        ],
        label="Download",
        nav=True,
        in_navbar=True,
        id="download-menu",
        align_end=True,
    )
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand([html.Span("mmm", className="brand-mark"), "-dash"], href="/", class_name="me-3"),
                dbc.NavbarToggler(id="nav-toggler"),
                dbc.Collapse(
                    [
                        dbc.Nav(
                            [
                                dbc.NavItem(dbc.NavLink(label, href=path, id=_nav_id(path), active="exact"))
                                for label, path in nav_pages()
                            ]
                            + [downloads],
                            navbar=True,
                            className="me-auto",
                        ),
                        html.Div(user_bits, className="d-flex align-items-center flex-shrink-0"),
                    ],
                    id="nav-collapse",
                    navbar=True,
                ),
            ],
            fluid="xxl",
        ),
        color="dark",
        dark=True,
        className="mb-3",
    )


def shell_layout():
    return html.Div(
        [
            dcc.Location(id="url", refresh="callback-nav"),
            navbar(),
            # A page callback that failed says so here (see web/hardening.py, callback_failed).
            dbc.Container(html.Div(id="callback-error", role="alert", className="text-danger"), fluid="xxl"),
            dbc.Container(dash.page_container, fluid="xxl", className="pb-5"),
        ]
    )


def canonical(view: dict) -> tuple:
    """A view with defaults filled in, so '/' and '/?model=<default>&period=all' are the same view."""
    from mmm_dash.web.dashboard.context import catalog

    names = catalog().models()
    model = view.get("model") or (names[0] if names else None)
    entry = catalog().version_entry(model, view.get("version") or None)
    units = None if view.get("units") == "revenue" else view.get("units")
    return (model, entry.version if entry else view.get("version"), view.get("period") or "all", view.get("geo"), units)


def changed_view(trigger, current: dict, model, version, period, preset, start, end, geo, units=None) -> dict:
    """The view after the control `trigger` changed, from the URL's current view."""
    from mmm_dash.core.windows import range_key
    from mmm_dash.web.dashboard.context import ALL_GEOS

    view = dict(current)
    if trigger == "model-select" and model != current.get("model"):
        view = {"model": model, "period": current.get("period")}  # another model: its newest version, all geos
    elif trigger == "version-select":
        view["version"] = version
    elif trigger == "period-select":
        view["period"] = period
    elif trigger == "range-preset" and preset:
        view["period"] = preset
    elif trigger == "range-picker" and start and end:
        view["period"] = range_key(str(start)[:10], str(end)[:10])
    elif trigger == "geo-select":
        view["geo"] = None if geo == ALL_GEOS else geo
    elif trigger == "units-select":
        view["units"] = None if units == "revenue" else units
    return {k: v for k, v in view.items() if v}


def user_changed(trigger, rendered, model, version, period, preset, start, end, geo, units=None) -> bool:
    """Whether the control that fired now holds another value than the page rendered it with. Dash's
    dropdowns and date pickers report their value once when they mount; taking that for a choice
    rewrote the URL and hid the notice of a bad link (`?model=nope`) half a second after it showed."""
    if not isinstance(rendered, dict):
        return True
    values = {
        "model-select": model,
        "version-select": version,
        "period-select": period,
        "range-preset": preset,
        "range-picker": [str(start)[:10] if start else None, str(end)[:10] if end else None],
        "geo-select": geo,
        "units-select": units,
    }
    return trigger not in values or values[trigger] != rendered.get(trigger)


def register_shell(app: dash.Dash) -> None:
    app.layout = shell_layout

    pages = nav_pages()

    @app.callback(
        [Output(_nav_id(path), "href") for _l, path in pages]
        + [Output(f"menu-{fname.replace('.', '-')}", "href") for _l, fname in EXPORTS],
        Input("url", "search"),
    )
    def _carry_view_in_links(search):
        query = search_query(parse_search(search))
        return [path + query for _l, path in pages] + [f"/export/{fname}{query}" for _l, fname in EXPORTS]

    @app.callback(
        Output("url", "search"),
        Input("model-select", "value"),
        Input("version-select", "value"),
        Input("period-select", "value"),
        Input("range-preset", "value"),
        Input("range-picker", "start_date"),
        Input("range-picker", "end_date"),
        Input("geo-select", "value"),
        Input("units-select", "value"),
        State("url", "search"),
        State("controls-rendered", "data"),
        prevent_initial_call=True,
    )
    def _controls_to_url(model, version, period, preset, start, end, geo, units, search, rendered):
        trigger = dash.ctx.triggered_id
        if not user_changed(trigger, rendered, model, version, period, preset, start, end, geo, units):
            raise dash.exceptions.PreventUpdate  # a control reporting the value it was rendered with
        current = parse_search(search)
        view = changed_view(trigger, current, model, version, period, preset, start, end, geo, units)
        if canonical(view) == canonical(current):
            raise dash.exceptions.PreventUpdate  # e.g. controls rendered with the defaults of a bare URL
        others = {k: v for k, v in parse_query(search).items() if k not in VIEW_KEYS}  # a page's own, e.g. compare's
        if view.get("model") != current.get("model"):
            others = {}  # a page's own choices (Compare's baseline, saved plans) belong to the model left behind
        return query_string({**view, **others})

    @app.callback(
        Output("nav-collapse", "is_open"),
        Input("nav-toggler", "n_clicks"),
        State("nav-collapse", "is_open"),
        prevent_initial_call=True,
    )
    def _toggle_nav(_n, is_open):
        return not is_open

    @app.callback(
        Output("build-progress", "value"),
        Output("build-progress", "label"),
        Output("build-message", "children"),
        Output("build-done", "data"),
        Output("build-poll", "disabled"),
        Input("build-poll", "n_intervals"),
        State("build-model", "data"),
        prevent_initial_call=True,
    )
    def _poll_build(_n, name):
        """Read the model's state; when it is settled, hand over to the reload (a cheap read, no process)."""
        from mmm_dash.web.dashboard.context import build_message, catalog

        models = catalog()
        if not isinstance(name, str) or name not in models.names():
            return dash.no_update, dash.no_update, dash.no_update, {"status": BundleStatus.FAILED}, True
        state = models.state(name)
        if state.status in (BundleStatus.MISSING, BundleStatus.QUEUED):
            # Missing: e.g. `precompute --force` dropped the request. Queued: a team deployment sends
            # the task again if the broker was down or the task was lost (at most once per lease).
            state = models.request_build(name)
        if state.status.settled:
            return 100, "100%", dash.no_update, {"status": state.status}, True
        message = build_message(state, models)
        return max(2, int(state.progress * 100)), f"{state.progress:.0%}", message, dash.no_update, False

    app.clientside_callback(
        ClientsideFunction(namespace="mmm", function_name="reloadWhenBuilt"),
        Output("build-done", "id"),
        Input("build-done", "data"),
        prevent_initial_call=True,
    )
