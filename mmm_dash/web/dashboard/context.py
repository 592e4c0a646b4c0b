"""Resolve a page's model, version, period (or range of weeks) and geo from the URL into a view, or
into the page to show instead (no models yet, a bad model, a bundle still being built). A missing
bundle is only requested here; the builder builds it and the building page polls its state."""

from __future__ import annotations

import dataclasses

import dash_bootstrap_components as dbc
from dash import dcc, html
from flask import current_app

from mmm_dash.builder.catalog import BundleState, ModelCatalog, ModelEntry, ModelUnavailable
from mmm_dash.core.bundle import Bundle, ModelInfo, PeriodAnalysis, UnknownGeoError, UnknownPeriodError
from mmm_dash.core.status import BundleStatus
from mmm_dash.core.windows import MAIN_KINDS, parse_period
from mmm_dash.web.dashboard.components import alert
from mmm_dash.web.dashboard.findings import trust_banner
from mmm_dash.web.dashboard.links import view_query
from mmm_dash.web.errors import PageError
from mmm_dash.web.memo import cached, plain_div

ALL_GEOS = "__all__"  # the geo selector's value for "all geos"
UNITS = ("revenue", "kpi")  # the units selector's values; revenue is the default


@dataclasses.dataclass(frozen=True)
class View:
    model: str  # the model (a file's stem, or a model folder)
    entry: str  # the catalog entry read: the model, or <model>@<version>
    period_key: str
    bundle: Bundle
    analysis: PeriodAnalysis
    names: list[str]  # the models the selector offers
    versions: list[str] = dataclasses.field(default_factory=list)  # the model's version labels, newest first
    version: str = ""  # the version read ("" for a model file of its own)
    geo: str | None = None
    notice: str | None = None
    units: str | None = None  # "revenue" or "kpi" on pages that offer both units; None on the others

    @property
    def info(self) -> ModelInfo:
        return self.bundle.info

    @property
    def in_kpi(self) -> bool:
        """The page speaks in the KPI although the model's outcome is revenue (units=kpi, a model with both)."""
        return self.units == "kpi" and self.info.has_both_units

    @property
    def in_revenue(self) -> bool:
        """The page states revenue, ROI and mROI (else the KPI and cost per KPI, as for a KPI-only model)."""
        return self.info.has_revenue and not self.in_kpi

    @property
    def outcome_label(self) -> str:
        """What the page's incremental outcome is in: revenue, or the KPI's name."""
        return self.info.kpi_name if self.in_kpi else self.info.outcome_label

    @property
    def outcome_metric(self) -> str:
        """The table's metric of incremental outcome in the page's units: incremental_outcome or incremental_kpi."""
        return "incremental_kpi" if self.in_kpi else "incremental_outcome"

    @property
    def pinned_version(self) -> str | None:
        """The version the URL names; None when the view reads the newest (the default)."""
        return self.version if self.version and self.versions and self.version != self.versions[0] else None

    def query(self, **override) -> str:
        """This view's URL query (`override` replaces model, period, version, geo or units)."""
        values = {
            "model": self.model,
            "period": self.period_key,
            "version": self.pinned_version,
            "geo": self.geo,
            "units": self.units,
        }
        values.update(override)
        return view_query(
            values["model"], values["period"], version=values["version"], geo=values["geo"], units=values["units"]
        )

    def keys(self) -> dict:
        """What a page stores for its own callbacks (see `stored_view`)."""
        return {
            "model": self.model,
            "entry": self.entry,
            "period": self.period_key,
            "geo": self.geo,
            "units": self.units,
        }


def catalog() -> ModelCatalog:
    return current_app.extensions["mmm_dash"].models


def labelled_select(select_id: str, label: str, options, value, *, hidden=False, min_width="12rem", **extra):
    """A labelled dropdown in a controls row (hidden, but still in the layout, where it does not apply)."""
    return dbc.Col(
        html.Div(
            [
                html.Label(label, htmlFor=select_id, className="small text-secondary mb-0 me-2"),
                dcc.Dropdown(
                    id=select_id,
                    options=options,
                    value=value,
                    clearable=False,
                    style={"minWidth": min_width},
                    **extra,
                ),
            ],
            className="d-flex align-items-center",
        ),
        width="auto",
        className="control" + (" d-none" if hidden else ""),
    )


def controls_bar(
    names: list[str],
    model: str | None,
    bundle: Bundle | None,
    period_key: str | None,
    *,
    versions: list[str] | None = None,
    version: str = "",
    geo: str | None = None,
    units: str | None = None,
):
    """Model, version, period, range of weeks, geo and units selectors. Every control is always in the
    layout (hidden where it does not apply), so the callback keeping them in the URL always has its inputs.
    Units (revenue or the KPI) show on pages that offer them (`units` not None) for models with both."""
    versions = versions or []
    presets = bundle.presets if bundle else {}
    current = parse_period(bundle, period_key) if bundle and period_key else None
    main = [{"label": p.label, "value": k} for k, p in presets.items() if p.kind in MAIN_KINDS]
    if current is not None and current.kind not in MAIN_KINDS:
        main.append({"label": current.label, "value": current.key})
    ranges = [{"label": p.label, "value": k} for k, p in presets.items() if p.kind not in MAIN_KINDS]
    times = bundle.draws.times if bundle else ()
    geos = bundle.info.geos if bundle else ()
    return html.Div(
        [
            dbc.Row(
                [
                    labelled_select("model-select", "Model", [{"label": n, "value": n} for n in names], model),
                    labelled_select(
                        "version-select",
                        "Version",
                        [{"label": v + (" (newest)" if i == 0 else ""), "value": v} for i, v in enumerate(versions)],
                        version or None,
                        hidden=len(versions) < 2,
                        min_width="10rem",
                    ),
                    labelled_select(
                        "period-select", "Period", main, current.key if current else None, disabled=not main
                    ),
                    dbc.Col(
                        html.Div(
                            [
                                html.Label("Weeks", htmlFor="range-preset", className="small text-secondary mb-0 me-2"),
                                dcc.Dropdown(
                                    id="range-preset",
                                    options=ranges,
                                    value=current.key
                                    if current is not None and current.key in presets and current.kind not in MAIN_KINDS
                                    else None,
                                    placeholder="Quarter, month, year to date…",
                                    clearable=False,
                                    style={"minWidth": "13rem"},
                                    disabled=not ranges,
                                ),
                                dcc.DatePickerRange(
                                    id="range-picker",
                                    start_date=current.start if current else None,
                                    end_date=current.end if current else None,
                                    min_date_allowed=times[0] if times else None,
                                    max_date_allowed=times[-1] if times else None,
                                    display_format="YYYY-MM-DD",
                                    first_day_of_week=1,
                                    minimum_nights=0,
                                    className="ms-2 range-picker",
                                    disabled=not times,
                                    start_date_placeholder_text="From",
                                    end_date_placeholder_text="To",
                                ),
                            ],
                            className="d-flex align-items-center flex-wrap gap-1",
                        ),
                        width="auto",
                        className="control",
                    ),
                    labelled_select(
                        "geo-select",
                        "Geo",
                        [{"label": "All geos", "value": ALL_GEOS}] + [{"label": g, "value": g} for g in geos],
                        geo or ALL_GEOS,
                        hidden=not geos,
                    ),
                    units_toggle(bundle, units),
                ],
                className="align-items-center g-2 controls-bar",
            ),
            version_line(bundle, versions, version) if bundle else None,
            dcc.Store(
                id="controls-rendered",
                data={
                    "model-select": model,
                    "version-select": version or None,
                    "period-select": current.key if current else None,
                    "range-preset": current.key if current is not None and current.kind not in MAIN_KINDS else None,
                    "range-picker": [current.start, current.end] if current else None,
                    "geo-select": geo or ALL_GEOS,
                    "units-select": units or UNITS[0],
                },
            ),
        ],
        className="mb-3",
    )


def units_toggle(bundle: Bundle | None, units: str | None):
    """'Revenue | <KPI>' for a model with both units on a page that offers them; hidden (still in the layout)
    elsewhere."""
    shown = bundle is not None and units is not None and bundle.info.has_both_units
    kpi = bundle.info.kpi_name if bundle is not None else "KPI"
    return dbc.Col(
        html.Div(
            [
                html.Label("Units", htmlFor="units-select", className="small text-secondary mb-0 me-2"),
                dbc.RadioItems(
                    id="units-select",
                    options=[{"label": "Revenue", "value": "revenue"}, {"label": kpi, "value": "kpi"}],
                    value=units if units in UNITS else UNITS[0],
                    inline=True,
                    className="small",
                ),
            ],
            className="d-flex align-items-center",
        ),
        width="auto",
        className="control" + ("" if shown else " d-none"),
    )


def version_line(bundle: Bundle, versions: list[str], version: str):
    """Which file the page reads: its version (when the model has several), fit date and data range."""
    info = bundle.info
    parts = []
    if version:
        n = len(versions)
        if versions and version == versions[0]:
            parts.append(f"Version {version} (the newest of {n})" if n > 1 else f"Version {version}")
        else:
            rank = f"{versions.index(version) + 1} of {n}, " if version in versions else ""
            parts.append(f"Version {version} ({rank}newest: {versions[0]})" if versions else f"Version {version}")
    if info.fit_date:
        parts.append(f"fitted {info.fit_date[:10]}")
    parts.append(f"data {info.time_start} – {info.time_end}")
    parts.append(info.file_name)
    return html.Div(" · ".join(parts), className="small text-secondary mt-1", id="version-line")


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
                        ", or a folder per model with one file per version.",
                    ]
                ),
                html.P(
                    [
                        "Or build the demo model (about two minutes): ",
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


def building_page(names, model: str, entry: ModelEntry, state: BundleState, versions: list[str]):
    return html.Div(
        [
            controls_bar(names, model, None, None, versions=versions, version=entry.version),
            dbc.Card(
                dbc.CardBody(
                    [
                        html.H2(f"Analysing {entry.name}…", className="h5"),
                        html.P(
                            "Meridian computes this model's metrics once; the page fills in by itself when "
                            "it is done (usually under a minute).",
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
                        dcc.Store(id="build-model", data=entry.name),
                        dcc.Store(id="build-done"),
                        dcc.Interval(id="build-poll", interval=BUILD_POLL_MS),
                    ]
                ),
                className="shadow-sm",
                id="building",
            ),
        ]
    )


def resolve(
    model: str | None, period: str | None, geo: str | None = None, version: str | None = None, units: str | None = None
):
    """The view for the URL's model, version, period, geo and units, or the component to show in its place.
    An unknown value falls back to the default with a notice saying what was asked and what to do.
    `units` is None on pages that do not offer both units, else the URL's value ("" when it has none)."""
    models = catalog()
    names = models.models()
    if not names:
        return no_models_page()
    notices = []
    if model not in names:
        if model:
            notices.append(f"There is no model named {model!r}; showing {names[0]}. Pick one in the Model list.")
        model, version = names[0], None
    entries = models.versions(model)
    labels = [e.version for e in entries if e.version]
    entry = models.version_entry(model, version or None)
    if entry is None:
        notices.append(f"{model} has no version {version!r}; showing the newest, {labels[0] if labels else model}.")
        entry = models.version_entry(model, None)
    state = models.state(entry.name)
    if state.status in (BundleStatus.MISSING, BundleStatus.QUEUED):
        state = models.request_build(entry.name)  # records the wish; the builder does the work
    if state.status is BundleStatus.FAILED:
        return html.Div(
            [
                controls_bar(names, model, None, None, versions=labels, version=entry.version),
                alert(state.message, "danger", "model-error"),
            ]
        )
    if state.bundle is None:
        return building_page(names, model, entry, state, labels)
    bundle = state.bundle
    try:
        chosen = parse_period(bundle, period)
    except UnknownPeriodError as exc:
        notices.append(f"{exc} Showing the whole range.")
        chosen = bundle.presets["all"]
    if geo is not None and geo not in bundle.info.geos:
        notices.append(f"{UnknownGeoError(geo, bundle.info.geos)} Showing all geos.")
        geo = None
    analysis = bundle.period(chosen.key, geo)
    if units is not None:
        units = units or UNITS[0]
        if units not in UNITS:
            choices = f"Revenue or {bundle.info.kpi_name}" if bundle.info.has_both_units else "revenue"
            notices.append(f"There are no units {units!r}; showing revenue. Pick {choices} in Units.")
            units = UNITS[0]
        elif units == "kpi" and bundle.info.has_revenue and not bundle.info.has_both_units:
            notices.append(f"This model's KPI is revenue ({bundle.info.kpi_name}), so it has no other units.")
            units = UNITS[0]
    return View(
        model=model,
        entry=entry.name,
        period_key=chosen.key,
        bundle=bundle,
        analysis=analysis,
        names=names,
        versions=labels,
        version=entry.version,
        geo=geo,
        notice=" ".join(notices) or None,
        units=units,
    )


def frame(view: View, *children):
    """A page body: controls, an optional notice, the trust banner, then the page's content, handed to
    Dash as plain JSON data (`plain_div`) so its response serialises in one call."""
    controls = cached(
        view,
        "controls",
        lambda: controls_bar(
            view.names,
            view.model,
            view.bundle,
            view.period_key,
            versions=view.versions,
            version=view.version,
            geo=view.geo,
            units=view.units,
        ),
        view.version,
        tuple(view.names),
        tuple(view.versions),
    )
    parts = [controls]
    if view.notice:
        parts.append(alert(view.notice, "warning", "view-notice"))
    parts.append(cached(view, "trust-banner", lambda: trust_banner(view)))
    return plain_div(parts + list(children))


def stored_view(selected: dict) -> View:
    """The view a page stored for its own callbacks (`View.keys()` in a dcc.Store), rebuilt from the
    catalog: figure callbacks need the bundle, not the page's controls. A store written before
    versions existed names only the model, which is then also its entry. A store the browser sent
    malformed, or naming a model no longer ready, is a PageError with one sentence."""
    if not isinstance(selected, dict) or not all(isinstance(selected.get(k), str) for k in ("model", "period")):
        raise PageError("This page is out of date; reload it.")
    entry, geo = selected.get("entry") or selected["model"], selected.get("geo")
    if not isinstance(entry, str) or not isinstance(geo, str | None):
        raise PageError("This page is out of date; reload it.")
    try:
        bundle = catalog().bundle(entry)
        analysis = bundle.period(selected["period"], geo)
    except ModelUnavailable:
        raise PageError("This model is being analysed again or was removed; reload the page shortly.") from None
    except (UnknownPeriodError, UnknownGeoError) as exc:
        raise PageError(str(exc)) from None
    return View(
        model=selected["model"],
        entry=entry,
        period_key=selected["period"],
        bundle=bundle,
        analysis=analysis,
        names=[],
        version=bundle.info.version,
        geo=geo,
        units=selected.get("units"),
    )
