"""An installed wheel serves the app: templates, pages, assets and migrations ship as package data.

The wheel is built from a copy of this checkout and installed without its dependencies into a
throwaway folder; a fresh interpreter, started outside the checkout with only that folder on
PYTHONPATH, takes every dependency from the test venv and mmm_dash from the wheel."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers import ROOT

SERVE_FROM_WHEEL = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path

    import mmm_dash

    target, work = Path(sys.argv[1]), Path(sys.argv[2])
    report = {"mmm_dash": mmm_dash.__file__}

    import dash
    from flask_login import login_user
    from flask_migrate import upgrade

    from mmm_dash.web import create_app
    from mmm_dash.web.auth import accounts

    (work / "models").mkdir()
    app = create_app({
        "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}", "SECRET_KEY": "wheel-secret-0123456789abcdef",
        "MODEL_DIR": str(work / "models"), "CACHE_DIR": str(work / "cache"),
        "ENVIRONMENT": "development", "BACKGROUND_BUNDLES": "0",
    })
    server = app.server
    with server.app_context():
        upgrade()  # the migrations folder the app found inside the installed package
        report["migrations"] = server.extensions["migrate"].directory
        accounts.create_user("wheel@example.com", "wheel-password-1", "analyst")
    client = server.test_client()
    login = client.get("/login")
    report["login"] = [login.status_code, login.get_data(as_text=True)]
    css = client.get("/assets/app.css")
    report["css"] = [css.status_code, css.get_data(as_text=True)]
    report["anonymous_page"] = [client.get("/roi").status_code, client.get("/roi").headers.get("Location")]
    report["pages"] = {
        module: [page["path"], sys.modules[module].__file__] for module, page in dash.page_registry.items()
    }
    with server.test_request_context("/"):
        login_user(accounts.find_user("wheel@example.com"))
        overview = next(p for p in dash.page_registry.values() if p["path"] == "/")
        report["overview"] = json.dumps(overview["layout"](), default=str)
    print(json.dumps(report))
    """
)


def _pip(*args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]


def _shipped_pages() -> set[str]:
    pages = ROOT / "mmm_dash" / "web" / "pages"
    return {p.stem for p in pages.glob("*.py") if not p.name.startswith("_") and "register_page" in p.read_text()}


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory) -> Path:
    """A folder holding only mmm_dash as installed from a wheel of this checkout."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"  # a copy, so building leaves no build/ or egg-info in the checkout
    source.mkdir()
    shutil.copy2(ROOT / "pyproject.toml", source)
    shutil.copy2(ROOT / "README.md", source)
    shutil.copytree(ROOT / "mmm_dash", source / "mmm_dash", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _pip("wheel", "--no-index", "--no-deps", "--no-build-isolation", "-w", str(base / "dist"), str(source))
    (wheel,) = (base / "dist").glob("mmm_dash-*.whl")
    target = base / "site"
    _pip("install", "--no-index", "--no-deps", "--target", str(target), str(wheel))
    return target


@pytest.fixture(scope="module")
def served_from_wheel(installed_wheel, tmp_path_factory) -> dict:
    """What the app built from the installed wheel answered, run from outside the checkout."""
    work = tmp_path_factory.mktemp("elsewhere")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MODEL_DIR", "CACHE_DIR")}
    env["PYTHONPATH"] = str(installed_wheel)
    result = subprocess.run(
        [sys.executable, "-c", SERVE_FROM_WHEEL, str(installed_wheel), str(work)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=work,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_package_comes_from_the_wheel_not_the_checkout(served_from_wheel, installed_wheel):
    assert Path(served_from_wheel["mmm_dash"]).is_relative_to(installed_wheel)
    assert Path(served_from_wheel["migrations"]).is_relative_to(installed_wheel)


def test_login_renders_from_the_installed_templates(served_from_wheel):
    status, body = served_from_wheel["login"]
    assert status == 200
    assert '<form method="post"' in body and 'name="csrf_token"' in body and 'id="login-submit"' in body


def test_assets_are_served_from_the_installed_package(served_from_wheel):
    status, body = served_from_wheel["css"]
    assert status == 200 and body == (ROOT / "mmm_dash" / "web" / "assets" / "app.css").read_text()


def test_every_dash_page_is_registered_from_the_installed_package(served_from_wheel, installed_wheel):
    pages = served_from_wheel["pages"]
    assert {module.rpartition(".")[2] for module in pages} == _shipped_pages()
    assert all(Path(file).is_relative_to(installed_wheel) for _path, file in pages.values())
    assert {path for path, _file in pages.values()} >= {"/", "/roi", "/scenarios"}
    assert served_from_wheel["anonymous_page"] == [302, "/login?next=/roi"]
    assert "no-models" in served_from_wheel["overview"]  # the page's own code ran: an empty MODEL_DIR
