"""Finished page parts, kept per process: a bundle never changes, so what a page shows for one
(bundle, model name, period, selection) is built once and then served from memory.

Figures are plain dicts (`core/figures/plain.py`), so a first render is cheap; what remains is
Dash's component-to-JSON walk and the numbers themselves. A memoized part is stored in the JSON
form Dash sends to the browser (plain dicts, lists, strings and numbers), so serving it again
skips both the figure validation and the component-to-JSON walk. The store is an LRU bounded by
`PAGE_MEMO_SIZE` entries (see `mmm_dash.config`); an entry averages about 100 kB on the demo
model, so the default 256 holds about 25 MB per worker. Treat what `cached` returns as
read-only: every request shares it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import pandas as pd
from flask import current_app
from plotly.io.json import to_json_plotly

from mmm_dash.core.bundle import BUNDLE_SCHEMA_VERSION, Bundle
from mmm_dash.core.figures.plain import bar
from mmm_dash.core.figures.theme import add_band, base_figure
from mmm_dash.core.lru import LRU

EXTENSION_KEY = "mmm_dash.page_memo"


def prime_plotly() -> None:
    """Pay the JSON encoder's first-use costs (its lazy numpy, pandas and date paths) while the app
    starts instead of in the first page request: one throwaway figure shaped like ours."""
    fig = base_figure(300, xaxis_title="x", hovermode="x unified")
    times = pd.Series(pd.to_datetime(["2024-01-01", "2024-01-08"]))
    add_band(fig, times, np.zeros(2), np.ones(2), "#000000", name="band")
    fig.add_trace(bar(x=pd.Index(["a", "b"]), y=pd.Series([1.0, 2.0]), marker={"color": ["#000", "#111"]}))
    to_json_plotly([fig])


prime_plotly()


def bundle_key(bundle: Bundle) -> tuple:
    """What identifies a bundle's content: the model file's hash, the Meridian version that
    analysed it and the bundle's schema (the catalog's cache key, from the bundle itself)."""
    return (bundle.info.sha256, bundle.info.meridian_version, BUNDLE_SCHEMA_VERSION)


MIN_ARRAY = 8  # shorter number lists stay lists: not worth an array


def _numbers_as_arrays(value: Any) -> Any:
    """Long lists of numbers as numpy arrays: Plotly's JSON step walks plain lists element by element
    in Python on every response, but hands arrays to orjson whole (7 ms -> 2 ms for Response curves)."""
    if isinstance(value, dict):
        return {k: _numbers_as_arrays(v) for k, v in value.items()}
    if isinstance(value, list):
        if len(value) >= MIN_ARRAY and all(type(v) in (int, float) for v in value):
            return np.asarray(value, dtype=float if any(type(v) is float for v in value) else int)
        return [_numbers_as_arrays(v) for v in value]
    return value


def as_sent(value: Any) -> Any:
    """`value` (components, figures, lists of them) as the JSON data Dash sends for it, numbers kept
    as arrays (see `_numbers_as_arrays`); serialising it again gives the same JSON."""
    return _numbers_as_arrays(json.loads(to_json_plotly(value)))


def plain(type_: str, namespace: str, children: list, **props) -> dict:
    """A component as the JSON Dash sends (`plain("Col", "dash_bootstrap_components", [...], lg=6)`),
    around parts already in that form (see `as_sent`); anything not yet plain is converted here.

    Why: Plotly's orjson path serialises a response made only of dicts, lists, strings, numbers and
    arrays in one C call, but one component object anywhere sends the whole response, memoized parts
    included, through its Python cleaning walk (about 4 ms for Overview against 0.4 ms). Pages
    therefore hand Dash their memoized parts inside plain wrappers."""
    flat = []
    for child in map(_plain, children):
        flat.extend(child if isinstance(child, list) else [child])  # a memoized list of parts joins its siblings
    return {"type": type_, "namespace": namespace, "props": {"children": flat, **props}}


def _plain(part: Any) -> Any:
    if part is None or isinstance(part, dict | str):
        return part
    if isinstance(part, list) and all(p is None or isinstance(p, dict | str) for p in part):
        return part  # a memoized list of parts
    return as_sent(part)


def plain_div(children: list, **props) -> dict:
    """An html.Div around parts in the JSON form Dash sends (see `plain`)."""
    return plain("Div", "dash_html_components", children, **props)


def page_memo() -> LRU:
    """This app's page memo, sized by the PAGE_MEMO_SIZE setting."""
    extensions = current_app.extensions
    memo = extensions.get(EXTENSION_KEY)
    if memo is None:
        memo = extensions.setdefault(EXTENSION_KEY, LRU(extensions["mmm_dash"].settings.PAGE_MEMO_SIZE))
    return memo


def cached(view, part: str, build: Callable[[], Any], *selection: Hashable) -> Any:
    """`build()` for this view's bundle, model, period, geo and units (and `selection`), in the JSON form
    Dash sends, built once per process. `part` names what is built (page module and piece)."""
    memo = page_memo()
    if not memo.size:
        return build()  # memo switched off: build afresh, exactly as without it
    units = getattr(view, "units", None)
    key = (bundle_key(view.bundle), view.model, view.period_key, view.geo, units, part, *selection)
    return memo.get_or_build(key, lambda: as_sent(build()))
