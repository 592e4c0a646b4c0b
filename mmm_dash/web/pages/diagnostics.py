"""Diagnostics: did the sampler converge, how well does the model fit, what model is this."""

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from mmm_dash.core.figures.charts import rhat_bars
from mmm_dash.web.dashboard.components import chart_card, graph, grid, number_col, page_header
from mmm_dash.web.dashboard.context import View, frame, resolve
from mmm_dash.web.memo import cached

dash.register_page(__name__, path="/diagnostics", name="Diagnostics", title="Diagnostics · mmm-dash", order=6)

RHAT_THRESHOLD = 1.2  # Meridian's default "bad R-hat" threshold (Brooks & Gelman)


def rhat_frame(view: View) -> pd.DataFrame:
    df = view.bundle.rhat.copy()
    df["flag"] = ["above threshold" if v > RHAT_THRESHOLD else "ok" for v in df["max_r_hat"]]
    return df[["param", "n_params", "avg_r_hat", "max_r_hat", "percent_bad_r_hat", "flag"]]


def info_rows(view: View):
    info = view.info
    rows = [
        ("Model file", info.file_name),
        ("SHA-256", info.sha256[:16] + "…"),
        ("Meridian version", info.meridian_version),
        ("KPI", f"{info.kpi_name} ({info.kpi_type})"),
        ("Outcome measured in", "revenue" if info.has_revenue else info.kpi_name),
        ("Geography", info.geography_label),
        ("Time range", f"{info.time_start} – {info.time_end} ({info.n_times} periods)"),
        ("Paid media channels", ", ".join(info.media_channels) or "–"),
        ("Reach & frequency channels", ", ".join(info.rf_channels) or "–"),
        ("Organic channels", ", ".join(info.organic_media_channels + info.organic_rf_channels) or "–"),
        ("Non-media treatments", ", ".join(info.non_media_channels) or "–"),
        ("Controls", ", ".join(info.control_names) or "–"),
        ("Posterior samples", f"{info.n_chains} chains × {info.n_draws} draws"),
        (
            "Bundle built in",
            f"{view.bundle.timings['build_seconds']:.1f}s ({view.bundle.timings['meridian_seconds']:.1f}s in Meridian)",
        ),
    ]
    return dbc.Table(
        [html.Tbody([html.Tr([html.Th(k, className="fw-normal text-secondary"), html.Td(v)]) for k, v in rows])],
        size="sm",
        className="mb-0",
        id="model-info",
    )


def fit_rows(view: View):
    fit = view.analysis.fit
    rows = [("R²", "r_squared", ".3f"), ("MAPE", "mape", ".2%"), ("wMAPE", "wmape", ".2%")]
    body = []
    for label, key, fmt in rows:
        geo = fit.get(f"geo_{key}")
        body.append(
            html.Tr(
                [
                    html.Th(label, className="fw-normal text-secondary"),
                    html.Td(format(fit[key], fmt)),
                    html.Td(format(geo, fmt) if geo is not None else "–"),
                ]
            )
        )
    return dbc.Table(
        [html.Thead(html.Tr([html.Th(""), html.Th("National"), html.Th("Geo level")])), html.Tbody(body)],
        size="sm",
        id="fit-metrics",
    )


def content(view: View):
    return frame(view, *cached(view, __name__, lambda: body(view)))


def body(view: View) -> list:
    """Everything below the controls: the same on every visit to this model and period."""
    rhat = rhat_frame(view)
    bad = rhat[rhat.flag != "ok"]
    status = (
        dbc.Alert(
            f"All {len(rhat)} parameter groups have R-hat ≤ {RHAT_THRESHOLD}: the chains agree.",
            color="success",
            className="py-2",
            id="rhat-status",
        )
        if bad.empty
        else dbc.Alert(
            f"{len(bad)} parameter group(s) have R-hat above {RHAT_THRESHOLD} "
            f"({', '.join(bad.param)}): the chains disagree; run longer chains before trusting results.",
            color="danger",
            className="py-2",
            id="rhat-status",
        )
    )
    cols = [
        {"field": "param", "headerName": "Parameter", "filter": "agTextColumnFilter"},
        number_col("n_params", "Count", ",.0f"),
        number_col("avg_r_hat", "Mean R-hat", ".3f"),
        number_col("max_r_hat", "Max R-hat", ".3f"),
        number_col("percent_bad_r_hat", f"% above {RHAT_THRESHOLD}", ".1%"),
        {
            "field": "flag",
            "headerName": "Flag",
            "cellStyle": {
                "styleConditions": [
                    {"condition": "params.value != 'ok'", "style": {"color": "#b91c1c", "fontWeight": "600"}}
                ]
            },
        },
    ]
    return [
        page_header("Diagnostics", "Convergence, fit and model details"),
        status,
        dbc.Row(
            [
                dbc.Col(chart_card("R-hat by parameter", graph("rhat-chart", rhat_bars(rhat, RHAT_THRESHOLD))), lg=7),
                dbc.Col(
                    [
                        chart_card(f"Fit · {view.analysis.period.label}", fit_rows(view)),
                        chart_card("Model", info_rows(view)),
                    ],
                    lg=5,
                ),
            ]
        ),
        chart_card(
            "R-hat table",
            grid("rhat-grid", rhat, cols, height=360),
            note="R-hat compares variance between and within chains; values near 1 mean convergence.",
        ),
    ]


def layout(model=None, period=None, geo=None, version=None, **_):
    view = resolve(model, period, geo, version)
    return content(view) if isinstance(view, View) else view
