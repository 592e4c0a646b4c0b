"""Finished page parts, kept per process: a bundle never changes, so what a page shows for one
(bundle, model name, period, selection) is built once and then served from memory.

Building a page means building Plotly figures, and Plotly validates every trace and layout
property on construction (tens of milliseconds a page). A memoized part is stored in the JSON
form Dash sends to the browser (plain dicts, lists, strings and numbers), so serving it again
skips both the figure validation and the component-to-JSON walk. The store is an LRU bounded by
`PAGE_MEMO_SIZE` entries (see `mmm_dash.config`); an entry averages about 100 kB on the demo
model, so the default 256 holds about 25 MB per worker. Treat what `cached` returns as
read-only: every request shares it.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import plotly.graph_objects as go
from flask import current_app
from plotly.io.json import to_json_plotly
from plotly.subplots import make_subplots

from mmm_dash.core.bundle import BUNDLE_SCHEMA_VERSION, Bundle
from mmm_dash.core.figures.theme import TEMPLATE

EXTENSION_KEY = "mmm_dash.page_memo"


class LRU:
    """A thread-safe least-recently-used map holding at most `size` values (0: keep nothing)."""

    def __init__(self, size: int):
        if size < 0:
            raise ValueError("An LRU size cannot be negative.")
        self.size = size
        self.hits = 0
        self.misses = 0
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._values

    def get_or_build(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """The value stored under `key`, or `build()`'s, stored. Two threads missing the same key
        at once both build it (building is pure, so the second result simply replaces the first)."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                self.hits += 1
                return self._values[key]
            self.misses += 1
        value = build()
        if self.size:
            with self._lock:
                self._values[key] = value
                self._values.move_to_end(key)
                while len(self._values) > self.size:
                    self._values.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


def prime_plotly() -> None:
    """Pay Plotly's first-use costs (lazy imports, validator set-up, regex compiles; about 40 ms)
    while the app starts instead of in the first page request: one throwaway figure touching
    what the figure builders use."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=["a", "b"])
    line = {"width": 0, "color": "#000", "dash": "dot"}
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], fill="tonexty", fillcolor="rgba(0,0,0,0.1)", line=line), 1, 1)
    fig.add_trace(go.Bar(x=["a"], y=[1], error_y={"type": "data", "array": [1]}, marker={"color": "#000"}), 1, 2)
    fig.add_vline(x=0.5, line={"dash": "dash"}, annotation_text="x", annotation_position="top left")
    fig.add_hline(y=0.5)
    fig.add_annotation(text="x", showarrow=False)
    fig.update_xaxes(visible=True)
    fig.update_layout(template=TEMPLATE, height=300, xaxis_title="x", hovermode="x unified", barmode="group")
    to_json_plotly([fig, go.Figure([go.Pie(labels=["a"], values=[1]), go.Waterfall(x=["a"], y=[1])])])


prime_plotly()


def bundle_key(bundle: Bundle) -> tuple:
    """What identifies a bundle's content: the model file's hash, the Meridian version that
    analysed it and the bundle's schema (the catalog's cache key, from the bundle itself)."""
    return (bundle.info.sha256, bundle.info.meridian_version, BUNDLE_SCHEMA_VERSION)


def as_sent(value: Any) -> Any:
    """`value` (components, figures, lists of them) as the plain JSON data Dash sends for it."""
    return json.loads(to_json_plotly(value))


def page_memo() -> LRU:
    """This app's page memo, sized by the PAGE_MEMO_SIZE setting."""
    extensions = current_app.extensions
    memo = extensions.get(EXTENSION_KEY)
    if memo is None:
        memo = extensions.setdefault(EXTENSION_KEY, LRU(extensions["mmm_dash"].settings.PAGE_MEMO_SIZE))
    return memo


def cached(view, part: str, build: Callable[[], Any], *selection: Hashable) -> Any:
    """`build()` for this view's bundle, model and period (and `selection`), in the JSON form Dash
    sends, built once per process. `part` names what is built (page module and piece)."""
    memo = page_memo()
    if not memo.size:
        return build()  # memo switched off: build afresh, exactly as without it
    key = (bundle_key(view.bundle), view.model, view.period_key, part, *selection)
    return memo.get_or_build(key, lambda: as_sent(build()))
