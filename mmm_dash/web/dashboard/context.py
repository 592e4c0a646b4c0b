"""Resolve a page's model and period from the URL into a view, or into the page to show instead
(no models yet, a bad model, a bundle still being built). A missing bundle is only requested here;
the builder builds it and the building page polls its state."""

from __future__ import annotations

import dataclasses

import dash_bootstrap_components as dbc
from dash import dcc, html
from flask import current_app

from mmm_dash.builder.catalog import BundleState, ModelCatalog
from mmm_dash.core.bundle import Bundle, ModelInfo, PeriodAnalysis
from mmm_dash.core.status import BundleStatus
from mmm_dash.web.dashboard.components import alert


@dataclasses.dataclass(frozen=True)
class View:
    model: str
    period_key: str
    bundle: Bundle
    analysis: PeriodAnalysis
    names: list[str]
    notice: str | None = None

    @property
    def info(self) -> ModelInfo:
        return self.bundle.info


def catalog() -> ModelCatalog:
    return current_app.extensions["mmm_dash"].models


def controls_bar(names: list[str], model: str | None, bundle: Bundle | None, period_key: str | None):
    periods = [{"label": p.period.label, "value": k} for k, p in bundle.periods.items()] if bundle else []
    return dbc.Row(
        [
            dbc.Col(html.Label("Model", htmlFor="model-select", className="small text-secondary mb-0"), width="auto"),
            dbc.Col(
                dcc.Dropdown(
                    id="model-select",
                    options=[{"label": n, "value": n} for n in names],
                    value=model,
                    clearable=False,
                    style={"minWidth": "14rem"},
                ),
                width="auto",
            ),
            dbc.Col(html.Label("Period", htmlFor="period-select", className="small text-secondary mb-0"), width="auto"),
            dbc.Col(
                dcc.Dropdown(
                    id="period-select",
                    options=periods,
                    value=period_key,
                    clearable=False,
                    disabled=not periods,
                    style={"minWidth": "18rem"},
                ),
                width="auto",
            ),
        ],
        className="align-items-center g-2 mb-3 controls-bar",
    )


def no_models_page():
    model_dir = catalog().model_dir
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2("No model yet", className="h5"),
                html.P(
                    [
                        "Put a fitted Google Meridian model file (",
                        html.Code(".pkl"),
                        ", ",
                        html.Code(".binpb"),
                        " or ",
                        html.Code(".txtpb"),
                        ") into ",
                        html.Code(str(model_dir)),
                        ".",
                    ]
                ),
                html.P(
                    [
                        "Or build the demo model (about a minute): ",
                        html.Code("python -m mmm_dash demo-model"),
                        ", then ",
                        html.Code("python -m mmm_dash precompute"),
                        ".",
                    ]
                ),
            ]
        ),
        id="no-models",
        className="shadow-sm",
    )


BUILD_POLL_MS = 2000  # how often a building page asks for the model's state


def build_message(state: BundleState, models: ModelCatalog) -> str:
    """What the building page says under its progress bar."""
    if state.status is BundleStatus.BUILDING:
        return state.message
    if models.queue is not None and not models.builder_running():
        return (
            "No build worker has reported in the last few seconds: the analysis starts when an operator starts "
            "one (`python -m mmm_dash worker`); this page fills in after that."
        )
    if models.queue is None and not models.builder_running():
        return (
            "No builder runs on this server (BACKGROUND_BUNDLES=0): the analysis starts when an operator runs "
            "`python -m mmm_dash precompute` (or `python -m mmm_dash builder`); this page fills in after that."
        )
    return state.message or "Waiting for the analysis to start."


def building_page(names, model: str, state: BundleState):
    return html.Div(
        [
            controls_bar(names, model, None, None),
            dbc.Card(
                dbc.CardBody(
                    [
                        html.H2(f"Analysing {model}…", className="h5"),
                        html.P(
                            "Meridian computes this model's metrics once; the page fills in by itself when "
                            "it is done (usually one to three minutes).",
                            className="text-secondary",
                        ),
                        dbc.Progress(
                            id="build-progress",
                            value=max(2, int(state.progress * 100)),
                            striped=True,
                            animated=True,
                            label=f"{state.progress:.0%}",
                            style={"height": "1.4rem"},
                        ),
                        html.Div(
                            build_message(state, catalog()),
                            id="build-message",
                            className="small mt-2 text-secondary",
                        ),
                        dcc.Store(id="build-model", data=model),
                        dcc.Store(id="build-done"),
                        dcc.Interval(id="build-poll", interval=BUILD_POLL_MS),
                    ]
                ),
                className="shadow-sm",
                id="building",
            ),
        ]
    )


def resolve(model: str | None, period: str | None) -> View | html.Div:
    """The view for (model, period), or the component to show in its place."""
    models = catalog()
    names = models.names()
    if not names:
        return no_models_page()
    notice = None
    if model not in names:
        if model:
            notice = f"There is no model named {model!r}; showing {names[0]}."
        model = names[0]
    state = models.state(model)
    if state.status in (BundleStatus.MISSING, BundleStatus.QUEUED):
        state = models.request_build(model)  # records the wish; the builder does the work
    if state.status is BundleStatus.FAILED:
        return html.Div([controls_bar(names, model, None, None), alert(state.message, "danger", "model-error")])
    if state.bundle is None:
        return building_page(names, model, state)
    bundle = state.bundle
    if period not in bundle.periods:
        if period:
            notice = f"This model has no period {period!r}; showing the whole range."
        period = "all"
    return View(model, period, bundle, bundle.periods[period], names, notice)


def frame(view: View, *children):
    """A page body: controls, an optional notice, then the page's content."""
    parts = [controls_bar(view.names, view.model, view.bundle, view.period_key)]
    if view.notice:
        parts.append(alert(view.notice, "info", "view-notice"))
    return html.Div(parts + list(children))


def stored_view(selected: dict) -> View:
    """The view a page stored for its own callbacks (`{"model", "period"}` in a dcc.Store), rebuilt
    from the catalog: figure callbacks need the bundle, not the page's controls."""
    bundle = catalog().bundle(selected["model"])
    return View(selected["model"], selected["period"], bundle, bundle.period(selected["period"]), [])
