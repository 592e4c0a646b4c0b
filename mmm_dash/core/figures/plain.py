"""Plotly figures as plain dicts, with the few `go.Figure` methods our builders use.

Why: Plotly's graph_objects validate every property on every call, which made up most of a page's
render time (about 13 ms per small figure, against microseconds for the same dicts). Plotly.js gets the
same JSON either way; `tests/unit/test_figures_and_config.py` runs every builder's output through
`go.Figure(...)` so a misspelt property still fails a test instead of a browser.
"""

from __future__ import annotations

import re
from typing import Any

# Layout keys whose `a_b=...` keyword means nested `{"a": {"b": ...}}` (Plotly's "magic underscore").
_CONTAINERS = {"legend", "title", "margin", "font", "hoverlabel", "xaxis", "yaxis"}
_AXIS = re.compile(r"^[xy]axis\d*$")


def _titled(key: str, value: Any) -> Any:
    """plotly.js 3 wants `title: {text: ...}`; graph_objects accepted a bare string."""
    return {"text": value} if key == "title" and isinstance(value, str) else value


def _merge(target: dict, key: str, value: Any) -> None:
    head, _, rest = key.partition("_")
    if rest and (head in _CONTAINERS or _AXIS.match(head)):
        child = target.get(head)
        if not isinstance(child, dict):
            child = target[head] = _titled(head, child) if isinstance(child, str) else {}
        _merge(child, rest, value)
        return
    value = _titled(key, value)
    if isinstance(value, dict) and isinstance(target.get(key), dict):
        for k, v in value.items():
            _merge(target[key], k, v)
    else:
        target[key] = value


def trace(kind: str, **props: Any) -> dict:
    """One trace as a dict (`trace("scatter", x=..., y=...)`); None means "not set", as in Plotly."""
    return {"type": kind, **{k: v for k, v in props.items() if v is not None}}


def scatter(**props: Any) -> dict:
    """A scatter trace dict."""
    return trace("scatter", **props)


def bar(**props: Any) -> dict:
    """A bar trace dict."""
    return trace("bar", **props)


class Figure:
    """A figure as `data` (list of trace dicts) and `layout` (dict); Dash and plotly.io read it through
    `to_plotly_json()`, exactly as they read a `go.Figure`."""

    def __init__(self, data: list[dict] | None = None, layout: dict | None = None):
        self.data: list[dict] = list(data or [])
        self.layout: dict = {}
        self.update_layout(**(layout or {}))
        self._grid: tuple[int, int] | None = None

    # -- building --------------------------------------------------------------------------------
    def add_trace(self, trace: dict, row: int | None = None, col: int | None = None) -> Figure:
        """Append a trace, placed in subplot (row, col) when the figure has a grid."""
        trace = dict(trace)
        if row is not None and col is not None and self._grid is not None:
            k = (row - 1) * self._grid[1] + col
            trace["xaxis"], trace["yaxis"] = ("x", "y") if k == 1 else (f"x{k}", f"y{k}")
        self.data.append(trace)
        return self

    def update_layout(self, **props: Any) -> Figure:
        """Set layout properties (nested dicts merge; `xaxis_title=` style keywords work)."""
        for key, value in props.items():
            _merge(self.layout, key, value)
        return self

    def _axes(self, letter: str) -> list[str]:
        found = [k for k in self.layout if re.match(rf"^{letter}axis\d*$", k)]
        return found or [f"{letter}axis"]

    def update_xaxes(self, **props: Any) -> Figure:
        """Set properties on every x axis."""
        for axis in self._axes("x"):
            self.update_layout(**{f"{axis}_{k}": v for k, v in props.items()})
        return self

    def update_yaxes(self, **props: Any) -> Figure:
        """Set properties on every y axis."""
        for axis in self._axes("y"):
            self.update_layout(**{f"{axis}_{k}": v for k, v in props.items()})
        return self

    def add_annotation(self, **props: Any) -> Figure:
        """Add a text annotation (centred on the plot area unless placed)."""
        note: dict = {"xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5} if "x" not in props else {}
        for key, value in props.items():
            _merge(note, key, value)
        self.layout.setdefault("annotations", []).append(note)
        return self

    def _line(self, shape: dict, line: dict, annotation_text: str | None, position: str) -> Figure:
        self.layout.setdefault("shapes", []).append({**shape, "line": line})
        if annotation_text:
            vertical = shape["xref"] == "x"
            note = (
                {"x": shape["x0"], "xref": "x", "y": 1, "yref": "paper", "yanchor": "bottom"}
                if vertical
                else {"y": shape["y0"], "yref": "y", "x": 1, "xref": "paper", "xanchor": "right", "yanchor": "bottom"}
            )
            if vertical:
                note["xanchor"] = "left" if "right" in position else "right" if "left" in position else "center"
            self.add_annotation(text=annotation_text, showarrow=False, **note)
        return self

    def add_vline(
        self, x: float, line: dict | None = None, annotation_text: str | None = None,
        annotation_position: str = "top right",
    ) -> Figure:
        """A vertical line across the plot at `x` (Plotly's add_vline)."""
        shape = {"type": "line", "x0": x, "x1": x, "xref": "x", "y0": 0, "y1": 1, "yref": "y domain"}
        return self._line(shape, dict(line or {}), annotation_text, annotation_position)

    def add_hline(
        self, y: float, line: dict | None = None, annotation_text: str | None = None,
        annotation_position: str = "top right",
    ) -> Figure:
        """A horizontal line across the plot at `y` (Plotly's add_hline)."""
        shape = {"type": "line", "y0": y, "y1": y, "yref": "y", "x0": 0, "x1": 1, "xref": "x domain"}
        return self._line(shape, dict(line or {}), annotation_text, annotation_position)

    # -- reading ---------------------------------------------------------------------------------
    def to_plotly_json(self) -> dict:
        """What Dash and plotly.io serialise (the same shape as `go.Figure.to_plotly_json()`)."""
        return {"data": self.data, "layout": self.layout}

    to_dict = to_plotly_json

    def to_html(self, **options: Any) -> str:
        """The figure as an HTML fragment (plotly.io validates it here, off the page path)."""
        import plotly.io as pio

        return pio.to_html(self.to_plotly_json(), **options)


def _unit(lo: float, hi: float) -> list[float]:
    """A domain inside [0, 1] (float sums can land a hair outside, which Plotly refuses)."""
    return [min(max(lo, 0.0), 1.0), min(max(hi, 0.0), 1.0)]


def subplots(
    rows: int, cols: int, titles: list[str] | None = None, horizontal_spacing: float = 0.08,
    vertical_spacing: float = 0.14,
) -> Figure:
    """A grid of axes laid out as Plotly's make_subplots does (row 1 at the top), titles above each."""
    fig = Figure()
    fig._grid = (rows, cols)
    width = (1 - horizontal_spacing * (cols - 1)) / cols
    height = (1 - vertical_spacing * (rows - 1)) / rows
    notes = []
    for r in range(rows):
        for c in range(cols):
            k = r * cols + c + 1
            suffix = "" if k == 1 else str(k)
            x0 = c * (width + horizontal_spacing)
            y1 = 1 - r * (height + vertical_spacing)
            fig.layout[f"xaxis{suffix}"] = {"domain": _unit(x0, x0 + width), "anchor": f"y{suffix}"}
            fig.layout[f"yaxis{suffix}"] = {"domain": _unit(y1 - height, y1), "anchor": f"x{suffix}"}
            if titles and k <= len(titles):
                notes.append(
                    {
                        "text": titles[k - 1], "showarrow": False, "xref": "paper", "yref": "paper",
                        "x": x0 + width / 2, "y": y1, "xanchor": "center", "yanchor": "bottom", "font": {"size": 14},
                    }
                )
    if notes:
        fig.layout["annotations"] = notes
    return fig
