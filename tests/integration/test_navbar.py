"""The navbar lists the registered Dash pages (dash.page_registry), in their order, each carrying the view."""

from __future__ import annotations

import dash

from mmm_dash.web.dashboard.shell import nav_pages
from tests.helpers import make_app


def test_navbar_follows_the_page_registry(tmp_path):
    make_app(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path / "models", tmp_path / "cache")
    registered = sorted(
        (p for p in dash.page_registry.values() if p["path"] != "/404" and p.get("in_navbar", True)),
        key=lambda p: p["order"],
    )
    assert nav_pages() == [(p["name"], p["path"]) for p in registered]
    assert [name for name, _path in nav_pages()] == [
        "Overview",
        "Contribution",
        "ROI",
        "Geos",
        "Response curves",
        "Scenarios",
        "Insights",
        "Compare",
        "Diagnostics",
    ]  # what users saw before the navbar was built from the registry, plus the Compare pages (12, 13) and Geos (14)
