"""URLs that carry the selected view (model, version, period or range of weeks, geo, units), so a link
reproduces it exactly."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

from mmm_dash.core.exports.files import EXPORT_FILES

EXPORTS = tuple((f.label, f.filename) for f in EXPORT_FILES)  # (menu label, file name)
VIEW_KEYS = ("model", "version", "period", "geo", "units")


def parse_query(search: str | None) -> dict[str, str]:
    """Every parameter of a URL query (the first value of each)."""
    return {k: v[0] for k, v in parse_qs((search or "").lstrip("?")).items() if v}


def parse_search(search: str | None) -> dict[str, str]:
    """The view's parameters of a URL query."""
    return {k: v for k, v in parse_query(search).items() if k in VIEW_KEYS}


def query_string(params: dict[str, str | None]) -> str:
    """`?a=1&b=2` of the parameters that are set, view parameters first."""
    ordered = [k for k in VIEW_KEYS if k in params] + [k for k in params if k not in VIEW_KEYS]
    kept = {k: params[k] for k in ordered if params[k]}
    return ("?" + urlencode(kept)) if kept else ""


def view_query(
    model: str | None,
    period: str | None,
    *,
    version: str | None = None,
    geo: str | None = None,
    units: str | None = None,
) -> str:
    """The view's query; `units` only when it is not the default (revenue)."""
    units = None if units == "revenue" else units
    return query_string({"model": model, "version": version, "period": period, "geo": geo, "units": units})


def search_query(view: dict[str, str]) -> str:
    """`view_query` of a parsed search (`parse_search`)."""
    return view_query(
        view.get("model"), view.get("period"), version=view.get("version"), geo=view.get("geo"), units=view.get("units")
    )


def export_href(filename: str, model: str | None, period: str | None, **extra: str | None) -> str:
    return f"/export/{filename}{view_query(model, period, **extra)}"
