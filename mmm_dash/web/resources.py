"""Files shipped inside the package (templates, pages, assets, migrations), found with
importlib.resources so an installed wheel serves every page, not only a source checkout."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def package_dir(name: str) -> Path:
    """The on-disk folder `name` of `mmm_dash.web` (a regular install unpacks package data)."""
    path = Path(str(files("mmm_dash.web").joinpath(name)))
    if not path.is_dir():
        raise FileNotFoundError(f"mmm_dash.web/{name} is missing from the installed package.")
    return path


TEMPLATES = "templates"
PAGES = "pages"
ASSETS = "assets"
MIGRATIONS = "migrations"
