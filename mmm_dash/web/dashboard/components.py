"""Small layout pieces shared by pages."""

from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from mmm_dash.core.figures.theme import CHART_CONFIG
from mmm_dash.web.dashboard.links import EXPORTS, export_href

# Every dcc.Graph in the app is made by `graph` below, with the charts' one toolbar config (no cloud
# buttons) and the two switches only plotly.js in a page knows (no Chart Studio link, no "Edit" link).
GRAPH_CONFIG = {**CHART_CONFIG, "showEditInChartStudio": False, "showLink": False, "responsive": True}


def page_header(title: str, subtitle: str | None = None, right=None):
    return dbc.Row(
        [
            dbc.Col(
                [
                    html.H1(title, className="page-title"),
                    html.Div(subtitle, className="text-secondary small") if subtitle else None,
                ],
                md=True,
            ),
            dbc.Col(right, md="auto", className="d-flex align-items-center gap-2") if right is not None else None,
        ],
        className="mb-3 align-items-end g-2",
    )


def metric_card(title: str, value: str, detail: str | None = None, card_id: str | None = None):
    body = [
        html.Div(title, className="text-secondary small text-uppercase fw-semibold"),
        html.Div(value, className="metric-value", id=f"{card_id}-value" if card_id else None),
    ]
    if detail:
        body.append(html.Div(detail, className="metric-ci", id=f"{card_id}-detail" if card_id else None))
    return dbc.Card(dbc.CardBody(body), className="metric-card h-100 shadow-sm", id=card_id or "")


def chart_card(title: str, body, note: str | None = None, header_right=None, card_id: str | None = None):
    header = dbc.CardHeader(
        html.Div([html.Span(title), header_right], className="d-flex justify-content-between align-items-center")
    )
    content = [body] if not isinstance(body, list) else body
    if note:
        content.append(html.Div(note, className="small-note mt-2"))
    return dbc.Card([header, dbc.CardBody(content)], className="chart-card shadow-sm mb-3", id=card_id or "")


def graph(graph_id: str, figure):
    return dcc.Graph(id=graph_id, figure=figure, config=GRAPH_CONFIG)


def grid(grid_id: str, frame, column_defs, height: int = 380):
    return dag.AgGrid(
        id=grid_id,
        rowData=frame.to_dict("records"),
        columnDefs=column_defs,
        defaultColDef={
            "sortable": True,
            "filter": True,
            "resizable": True,
            "floatingFilter": True,
            "minWidth": 110,
            "wrapHeaderText": True,  # whole headers, never "Contributio…"
            "autoHeaderHeight": True,
        },
        dashGridOptions={"animateRows": False, "domLayout": "normal", "suppressColumnVirtualisation": True},
        columnSize="responsiveSizeToFit",
        className="ag-theme-alpine",
        style={"height": f"{height}px", "width": "100%"},
        csvExportParams={"fileName": f"{grid_id}.csv"},
    )


def number_col(field: str, header: str, fmt: str = ",.2f", **extra) -> dict:
    return {
        "field": field,
        "headerName": header,
        "type": "numericColumn",
        "filter": "agNumberColumnFilter",
        "valueFormatter": {"function": f"params.value == null ? '–' : d3.format('{fmt}')(params.value)"},
        **extra,
    }


def download_buttons(model: str | None, period: str | None, which=None, id_prefix: str = "download", **view):
    """Buttons for the export files of a view (`view`: its version and geo, where chosen)."""
    items = [e for e in EXPORTS if which is None or e[1] in which]
    return dbc.ButtonGroup(
        [
            dbc.Button(
                label,
                href=export_href(fname, model, period, **view),
                external_link=True,
                size="sm",
                color="secondary",
                outline=True,
                id=f"{id_prefix}-{fname.replace('.', '-')}",
            )
            for label, fname in items
        ],
        size="sm",
    )


def csv_json_buttons(path: str, query: str, id_prefix: str):
    """CSV and JSON buttons for `<path>.csv|json<query>` (a comparison's downloads)."""
    return dbc.ButtonGroup(
        [
            dbc.Button(
                ext.upper(),
                href=f"{path}.{ext}{query}",
                external_link=True,
                size="sm",
                color="secondary",
                outline=True,
                id=f"{id_prefix}-{ext}",
            )
            for ext in ("csv", "json")
        ],
        size="sm",
    )


def alert(message: str, color: str = "warning", alert_id: str = "page-alert"):
    return dbc.Alert(message, color=color, id=alert_id, className="py-2")
