"""The three layers stay apart: the core imports no web framework and no model library, only
`builder.meridian` imports Meridian, TensorFlow or JAX, and the web shell asks the catalog.

Statically (every import statement of every module, top-level or inside a function, relative or
through importlib) and at run time (what importing each core module really loads)."""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers import ROOT

PACKAGE = ROOT / "mmm_dash"
CORE = "mmm_dash.core"
WEB = "mmm_dash.web"
MERIDIAN_BUILDER = "mmm_dash.builder.meridian"
OTHER_LAYERS = ("mmm_dash.web", "mmm_dash.builder", "mmm_dash.cli")
WEB_FRAMEWORKS = ("flask", "dash", "sqlalchemy", "alembic", "werkzeug", "wtforms")
WEB_FRAMEWORK_PREFIXES = ("flask_", "dash_")  # Flask extensions, Dash component libraries
MODEL_LIBRARIES = ("meridian", "tensorflow", "tensorflow_probability", "tf_keras", "jax", "jaxlib")


@dataclasses.dataclass(frozen=True)
class ImportSite:
    module: str
    line: int
    target: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.target}"


def module_name(path: Path, root: Path = ROOT) -> str:
    """Dotted name of the module at `path` (a package's __init__ is the package)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path = ROOT) -> list[ImportSite]:
    """Every module `path` imports, anywhere in it: statements at any depth, relative imports made
    absolute, `from a import b` as both `a` and `a.b`, and importlib/__import__ calls with a literal."""
    module = module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    sites = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            sites += [ImportSite(module, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            sites.append(ImportSite(module, node.lineno, base))
            sites += [ImportSite(module, node.lineno, f"{base}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Call) and _dynamic_import(node):
            sites.append(ImportSite(module, node.lineno, node.args[0].value))
    return sites


def _dynamic_import(call: ast.Call) -> bool:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    literal = call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str)
    return name in ("import_module", "__import__") and bool(literal)


def within(target: str, package: str) -> bool:
    """Whether dotted `target` is `package` or inside it."""
    return target == package or target.startswith(package + ".")


def is_web_framework(target: str) -> bool:
    """Flask, Dash, their extensions and component libraries, SQLAlchemy, Alembic, WTForms."""
    top = target.split(".")[0]
    return top in WEB_FRAMEWORKS or top.startswith(WEB_FRAMEWORK_PREFIXES)


def is_model_library(target: str) -> bool:
    """Meridian, TensorFlow (and its probability and Keras packages) or JAX."""
    return target.split(".")[0] in MODEL_LIBRARIES


def package_modules(package: str = "mmm_dash") -> list[Path]:
    """Every .py file of `package`, migrations' version scripts included."""
    return sorted((ROOT / package.replace(".", "/")).rglob("*.py"))


def violations(package: str, forbidden, exempt: str | None = None) -> list[str]:
    """Import sites in `package` (outside `exempt`) whose target `forbidden` accepts."""
    return [
        str(site)
        for path in package_modules(package)
        if not (exempt and within(module_name(path), exempt))
        for site in imports_of(path)
        if forbidden(site.target)
    ]


# -- the checks check ------------------------------------------------------------------------
def test_the_import_walker_sees_every_kind_of_import(tmp_path):
    pkg = tmp_path / "mmm_dash" / "core" / "sub"
    pkg.mkdir(parents=True)
    source = pkg / "mod.py"
    source.write_text(
        textwrap.dedent(
            """
            import numpy as np, flask_login
            from plotly import graph_objects
            from .. import bundle
            from ..figures import theme

            def later():
                import importlib
                from meridian.analysis import analyzer
                importlib.import_module("jax.numpy")
                return __import__("tensorflow")

            class Page:
                def render(self):
                    from dash import html
            """
        )
    )
    targets = {site.target for site in imports_of(source, tmp_path)}
    assert targets >= {
        "numpy",
        "flask_login",
        "plotly.graph_objects",
        "mmm_dash.core.bundle",
        "mmm_dash.core.figures.theme",
        "meridian.analysis.analyzer",
        "jax.numpy",
        "tensorflow",
        "dash.html",
    }
    assert {t for t in targets if is_web_framework(t)} == {"flask_login", "dash", "dash.html"}
    assert {t for t in targets if is_model_library(t)} >= {"meridian.analysis", "jax.numpy", "tensorflow"}
    assert not is_web_framework("dashboard") and not is_model_library("jaxtyping") and within("a.b.c", "a.b")


def test_every_layer_is_walked():
    walked = {module_name(p) for p in package_modules()}
    assert {CORE, "mmm_dash.core.scenario", "mmm_dash.core.figures.charts", WEB, MERIDIAN_BUILDER} <= walked


# -- static: import statements ----------------------------------------------------------------
def test_core_imports_no_web_framework_and_no_model_library():
    found = violations(CORE, lambda t: is_web_framework(t) or is_model_library(t))
    assert found == [], "mmm_dash.core must stay pure:\n" + "\n".join(found)


def test_core_imports_nothing_from_the_other_layers():
    found = violations(CORE, lambda t: any(within(t, layer) for layer in OTHER_LAYERS))
    assert found == [], "mmm_dash.core is the bottom layer:\n" + "\n".join(found)


def test_only_the_meridian_builder_imports_meridian_tensorflow_or_jax():
    found = violations("mmm_dash", is_model_library, exempt=MERIDIAN_BUILDER)
    assert found == [], f"only {MERIDIAN_BUILDER} may import a model library:\n" + "\n".join(found)


def test_the_web_shell_asks_the_catalog_and_never_the_meridian_builder():
    found = violations(WEB, lambda t: within(t, MERIDIAN_BUILDER) or is_model_library(t))
    assert found == [], "the web shell goes through mmm_dash.builder.catalog:\n" + "\n".join(found)


def test_unit_tests_import_no_model_library_and_no_meridian_builder():
    heavy = ("mmm_dash.builder.meridian.pipeline", "mmm_dash.builder.meridian.bundle_builder")
    found = [
        str(site)
        for path in sorted((ROOT / "tests" / "unit").rglob("*.py"))
        for site in imports_of(path)
        if is_model_library(site.target) or any(within(site.target, h) for h in heavy)
    ]
    assert found == [], "tests/unit runs on synthetic bundles:\n" + "\n".join(found)


# -- at run time: what an import really loads ---------------------------------------------------
RUNTIME_PROBE = textwrap.dedent(
    """
    import importlib, json, sys

    def tops():
        return {name.split(".")[0] for name in sys.modules}

    report = {"file": None, "core": {}, "catalog": []}
    for name in sys.argv[1:]:
        before = tops()
        importlib.import_module(name)
        report["core"][name] = sorted(tops() - before)
    import mmm_dash
    report["file"] = mmm_dash.__file__
    before = tops()
    importlib.import_module("mmm_dash.builder.catalog")
    report["catalog"] = sorted(tops() - before)
    print(json.dumps(report))
    """
)


@pytest.fixture(scope="module")
def loaded_by_import():
    """Top-level packages that importing each core module, then the catalog, newly loads (one
    fresh interpreter; the first module that pulls a package in is the one it is charged to)."""
    core = sorted({module_name(p) for p in package_modules(CORE)})
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", RUNTIME_PROBE, *core], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(report["file"]).resolve().is_relative_to(ROOT)  # this checkout, not another install
    assert set(report["core"]) == set(core)
    return report


def test_importing_any_core_module_loads_no_web_framework_and_no_model_library(loaded_by_import):
    found = {
        module: [top for top in tops if is_web_framework(top) or is_model_library(top)]
        for module, tops in loaded_by_import["core"].items()
    }
    assert {m: tops for m, tops in found.items() if tops} == {}


def test_importing_the_catalog_loads_no_model_library(loaded_by_import):
    assert [top for top in loaded_by_import["catalog"] if is_model_library(top)] == []
