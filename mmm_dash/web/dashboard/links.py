"""URLs that carry the selected model and period, so a link reproduces the view."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

from mmm_dash.core.exports.files import EXPORT_FILES

EXPORTS = tuple((f.label, f.filename) for f in EXPORT_FILES)  # (menu label, file name)


def parse_search(search: str | None) -> dict[str, str]:
    parsed = parse_qs((search or "").lstrip("?"))
    return {k: v[0] for k, v in parsed.items() if v and k in ("model", "period")}


def view_query(model: str | None, period: str | None) -> str:
    params = {k: v for k, v in (("model", model), ("period", period)) if v}
    return ("?" + urlencode(params)) if params else ""


def export_href(filename: str, model: str | None, period: str | None) -> str:
    return f"/export/{filename}{view_query(model, period)}"
