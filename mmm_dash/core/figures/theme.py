"""One Plotly template matching the Bootstrap theme (font, colours, grid)."""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

from mmm_dash.core.figures.plain import Figure, scatter

FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
PALETTE = ("#2a6fdb", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")
BASELINE_COLOR = "#adb5bd"
TEXT = "#212529"
GRID = "#e9ecef"

TEMPLATE = go.layout.Template(
    layout=go.Layout(
        font={"family": FONT, "size": 13, "color": TEXT},
        colorway=list(PALETTE),
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        margin={"l": 56, "r": 16, "t": 48, "b": 44},
        xaxis={"gridcolor": GRID, "zerolinecolor": GRID, "linecolor": GRID, "automargin": True},
        yaxis={"gridcolor": GRID, "zerolinecolor": "#ced4da", "linecolor": GRID, "automargin": True},
        # Above the plot: below it, a legend collides with the x-axis title and, on a phone, the ticks.
        legend={
            "orientation": "h",
            "y": 1.02,
            "yanchor": "bottom",
            "x": 0,
            "xanchor": "left",
            "bgcolor": "rgba(0,0,0,0)",
        },
        hoverlabel={"font": {"family": FONT}},
        title={"font": {"size": 15}, "x": 0, "xanchor": "left"},
    )
)
pio.templates["mmm"] = TEMPLATE
TEMPLATE_JSON = TEMPLATE.to_plotly_json()  # what plain-dict figures carry (validated once, here)


# Every chart's toolbar, in the app (web/dashboard/components.graph) and in the exported HTML report.
# Plotly's "Share chart" (sendChartToCloud, on by default in plotly.js 3) and its older cloud and Chart
# Studio buttons would send the model's numbers to Plotly's servers: all off. PNG download and zoom stay.
CLOUD_BUTTONS = ("sendChartToCloud", "sendDataToCloud", "editInChartStudio")
CHART_CONFIG = {
    "displaylogo": False,
    "showSendToCloud": False,
    "modeBarButtonsToRemove": [*CLOUD_BUTTONS, "select2d", "lasso2d"],
    "toImageButtonOptions": {"scale": 2},
}


def channel_colors(channels) -> dict[str, str]:
    """The same colour for a channel on every chart."""
    return {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(channels)}


def rgba(hex_color: str, alpha: float) -> str:
    """'#2a6fdb', 0.2 -> 'rgba(42,111,219,0.2)'."""
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def base_figure(height: int = 360, **layout) -> Figure:
    """An empty figure in our template (plain dicts: no graph_objects validation on the page path)."""
    return Figure(layout={"template": TEMPLATE_JSON, "height": height, **layout})


def empty_figure(message: str, height: int = 300) -> Figure:
    """A figure that says why there is nothing to draw."""
    fig = base_figure(height)
    fig.add_annotation(text=message, showarrow=False, font={"size": 14, "color": "#6c757d"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def interval_bars(mean, lo, hi, color: str = "#495057", thickness: float = 1.2, **extra) -> dict:
    """Plotly error bars (error_x or error_y) drawing each value's credible interval [lo, hi]."""
    return {
        "type": "data",
        "symmetric": False,
        "array": hi - mean,
        "arrayminus": mean - lo,
        "color": color,
        "thickness": thickness,
        **extra,
    }


def add_band(fig: Figure, x, lo, hi, color: str, alpha: float = 0.18, name: str | None = None, **cell) -> None:
    """A shaded credible interval between `lo` and `hi` (two traces; `cell` = row/col in subplots)."""
    fig.add_trace(scatter(x=x, y=hi, line={"width": 0}, showlegend=False, hoverinfo="skip"), **cell)
    fig.add_trace(
        scatter(
            x=x,
            y=lo,
            fill="tonexty",
            fillcolor=rgba(color, alpha),
            line={"width": 0},
            name=name,
            showlegend=name is not None,
            hoverinfo="skip",
        ),
        **cell,
    )
