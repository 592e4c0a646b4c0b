"""The page for an address that is no page of ours (Dash shows it for any unknown path)."""

import dash
import dash_bootstrap_components as dbc
from dash import html

from mmm_dash.web.dashboard.links import view_query

dash.register_page(__name__, path="/404", name="Page not found", title="Page not found · mmm-dash")


def layout(model=None, period=None, geo=None, version=None, **_):
    from mmm_dash.web.dashboard.shell import nav_pages

    query = view_query(model, period, version=version, geo=geo)
    return dbc.Card(
        dbc.CardBody(
            [
                html.H1("There is no page at this address", className="h4"),
                html.P(
                    "The link may be mistyped or from an older version of mmm-dash. These are the pages; each "
                    "opens on the model and period of the link, when it named them:",
                    className="mb-2",
                ),
                html.Ul([html.Li(html.A(name, href=path + query)) for name, path in nav_pages()], id="not-found-pages"),
            ]
        ),
        className="shadow-sm",
        id="not-found",
    )
