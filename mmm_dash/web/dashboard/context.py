"""Resolve a page's model and period from the URL into a view, or into the page to show instead
(no models yet, a bad model, a bundle still being built)."""

from __future__ import annotations

import dataclasses

import dash_bootstrap_components as dbc
from dash import dcc, html
from flask import current_app

from mmm_dash.builder.catalog import BundleState, ModelCatalog
from mmm_dash.core.bundle import Bundle, ModelInfo, PeriodAnalysis
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
                        html.Div(state.message, id="build-message", className="small mt-2 text-secondary"),
                        dcc.Store(id="build-model", data=model),
                        dcc.Store(id="build-done"),
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
    if state.status == "failed":
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
