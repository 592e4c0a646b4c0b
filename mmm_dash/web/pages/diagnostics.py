"""Diagnostics: did the sampler converge (R-hat, effective sample size), what Meridian's health review
found, how well the model fits, and what model file this is."""

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from mmm_dash.core.diagnostics import residuals, roi_prior_posterior
from mmm_dash.core.figures.charts import rhat_bars
from mmm_dash.core.figures.diagnostics import prior_posterior_densities, residual_bars
from mmm_dash.core.formatting import CI, pct, with_interval
from mmm_dash.core.trust import CHANNEL_PARAMS, MIN_ESS, RHAT_THRESHOLD, SampleSize, channel_ess
from mmm_dash.web.dashboard.components import chart_card, graph, grid, number_col, page_header
from mmm_dash.web.dashboard.context import View, frame, resolve
from mmm_dash.web.dashboard.findings import health_card
from mmm_dash.web.memo import cached

dash.register_page(__name__, path="/diagnostics", name="Diagnostics", title="Diagnostics · mmm-dash", order=6)


def rhat_frame(view: View) -> pd.DataFrame:
    df = view.bundle.rhat.copy()
    if "min_ess" not in df:
        df["min_ess"] = float("nan")
    df["flag"] = [
        "R-hat above threshold"
        if r > RHAT_THRESHOLD
        else ("ok" if e >= MIN_ESS else "small sample" if CHANNEL_PARAMS.search(str(p)) else "small sample (baseline)")
        for p, r, e in zip(df["param"], df["max_r_hat"], df["min_ess"].fillna(float("inf")), strict=True)
    ]
    return df[["param", "n_params", "avg_r_hat", "max_r_hat", "percent_bad_r_hat", "min_ess", "flag"]]


def info_rows(view: View):
    info = view.info
    rows = [
        ("Model file", info.file_name),
        *((("Version", info.version),) if info.version else ()),
        ("Fitted", info.fit_date[:19].replace("T", " ") + " UTC" if info.fit_date else "not recorded in the file"),
        ("SHA-256", info.sha256[:16] + "…"),
        ("Meridian version", info.meridian_version),
        ("KPI and its type", info.kpi_description),
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
            "Draws in the bundle",
            f"{info.draws_kept or info.n_posterior_draws} of {info.n_posterior_draws}"
            + ("" if (info.draws_kept or info.n_posterior_draws) == info.n_posterior_draws else " (evenly thinned)"),
        ),
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


def ess_status(rhat: pd.DataFrame):
    """The effective sample size the trust banner and Compare quote (`core.trust.channel_ess`), and the
    baseline groups whose small samples do not enter it."""
    ess = channel_ess(rhat)
    small = [str(p) for p, e in zip(rhat["param"], rhat["min_ess"], strict=True) if e < MIN_ESS]
    baseline = [p for p in small if not CHANNEL_PARAMS.search(p)]
    text = (
        f"Smallest effective sample size of {SampleSize.SCOPE}: {ess.value:.0f} ({ess.param}), the figure the "
        f"trust banner and Compare quote; below {MIN_ESS} it lowers trust."
        if ess is not None
        else "This bundle has no effective sample sizes of channel parameters."
    )
    if baseline:
        text += (
            f" Baseline groups below {MIN_ESS} ({', '.join(baseline)}) make the baseline's intervals less stable, "
            "not the channels' ROI."
        )
    return html.Div(text, className="small mb-3", id="ess-status")


def rhat_phone_table(rhat: pd.DataFrame):
    """The R-hat table on a phone: the columns that decide (worst R-hat, smallest sample, the flag) in a
    plain table that wraps, where the seven-column grid would have to be scrolled sideways."""
    flagged = {"className": "text-danger fw-semibold"}
    rows = [
        html.Tr(
            [
                html.Td(r.param),
                html.Td(f"{r.max_r_hat:.3f}", className="text-end"),
                html.Td("–" if pd.isna(r.min_ess) else f"{r.min_ess:,.0f}", className="text-end"),
                html.Td(r.flag, **(flagged if r.flag != "ok" else {})),
            ]
        )
        for r in rhat.itertuples()
    ]
    head = html.Thead(html.Tr([html.Th("Parameter"), html.Th("Max R\u2011hat"), html.Th("Min ESS"), html.Th("Flag")]))
    return dbc.Table([head, html.Tbody(rows)], size="sm", className="d-md-none mb-0 small", id="rhat-phone-table")


def prior_posterior_card(view: View):
    """Each paid channel's ROI prior against its posterior: where the data moved the model's belief."""
    info = view.info
    pp = roi_prior_posterior(view.bundle)
    title = f"{info.roi_label}: prior vs posterior"
    if pp is None:
        return chart_card(
            title,
            html.P(
                "Meridian could not compute this model's ROI prior, so there is nothing to compare the posterior to."
            ),
            card_id="prior-posterior",
        )
    note = (
        f"Meridian's prior of each channel's {info.roi_label} (grey) and its posterior (blue), over the whole range "
        "and all geos, the scope the prior is set on. A posterior as wide as its prior and in the same place means "
        "the data said little about that channel: its estimate is mostly the prior's assumption."
    )
    if pp.sampled_by_builder:
        note += f" The model file holds no prior draws: {len(pp.prior)} were drawn from its priors for this chart."
    figure = prior_posterior_densities(pp, info.roi_label, 1.0 if info.has_revenue else None)
    table = pp.frame()
    summary = dbc.Table(
        [
            html.Thead(
                html.Tr(
                    [
                        html.Th("Channel"),
                        html.Th(f"Prior ({CI})"),
                        html.Th(f"Posterior ({CI})"),
                        html.Th("Posterior width"),
                    ]
                )
            ),
            html.Tbody(
                [
                    html.Tr(
                        [
                            html.Td(channel),
                            html.Td(with_interval(r.prior_mean, r.prior_ci_lo, r.prior_ci_hi)),
                            html.Td(with_interval(r.posterior_mean, r.posterior_ci_lo, r.posterior_ci_hi)),
                            html.Td(pct(100 * r.width_ratio, 0)),
                        ]
                    )
                    for channel, r in table.iterrows()
                ]
            ),
        ],
        size="sm",
        className="mt-2 mb-0 small",
        id="prior-posterior-table",
        style={"tableLayout": "fixed", "overflowWrap": "anywhere"},  # wraps on a phone: no sideways scrolling
    )
    note += " Posterior width: its interval as a share of the prior's."
    return chart_card(title, [graph("prior-posterior-chart", figure), summary], note=note, card_id="prior-posterior")


def residuals_card(view: View):
    """Actual minus expected outcome each week of the view's window, for its geo or all geos."""
    info, analysis = view.info, view.analysis
    weekly = residuals(view.bundle, analysis.period, analysis.geo)
    where = analysis.geo or ("all geos" if not info.is_national else "national")
    return chart_card(
        f"Residuals · {analysis.period.label} · {where}",
        graph("residuals-chart", residual_bars(weekly, info.outcome_label, info.has_revenue)),
        note="Actual minus Meridian's expected outcome (posterior mean) each week. Residuals scattered around zero "
        "are what a good fit leaves; a run of one sign, a trend or a seasonal wave is something the model misses "
        "(a control, a holiday, a change in the business).",
        card_id="residuals",
    )


def content(view: View):
    return frame(view, *cached(view, __name__, lambda: body(view)))


def body(view: View) -> list:
    """Everything below the controls: the same on every visit to this model and period."""
    rhat = rhat_frame(view)
    bad = rhat[rhat.max_r_hat > RHAT_THRESHOLD]
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
        number_col("min_ess", "Min ESS (bulk)", ",.0f"),
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
        page_header("Diagnostics", "Convergence, Meridian's health review, fit and model details"),
        status,
        ess_status(rhat),
        health_card(view.bundle.health, with_details=True, card_id="health-details"),
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
            [
                html.Div(grid("rhat-grid", rhat, cols, height=360), className="d-none d-md-block"),
                rhat_phone_table(rhat),
            ],
            note="R-hat compares variance between and within chains; values near 1 mean convergence. ESS: "
            f"ArviZ's bulk effective sample size, the smallest in each group; below {MIN_ESS} intervals are unstable.",
        ),
        residuals_card(view),
        prior_posterior_card(view),
    ]


def layout(model=None, period=None, geo=None, version=None, **_):
    view = resolve(model, period, geo, version)
    return content(view) if isinstance(view, View) else view
