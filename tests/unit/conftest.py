"""Unit tests run on synthetic bundles (tests/unit/synthetic.py): no Meridian, no built bundle.
The demo fixtures are refused here, and Meridian, TensorFlow and JAX cannot be imported while a
unit test runs, so a test that would trigger a bundle build fails instead of waiting for Meridian."""

from __future__ import annotations

import sys

import pytest

HEAVY_PACKAGES = ("meridian", "tensorflow", "tensorflow_probability", "tf_keras", "jax", "jaxlib")
# Builder modules that run Meridian (`loading` is allowed: the catalog reads its file suffixes).
BUILDER_MODULES = tuple(f"mmm_dash.builder.meridian.{m}" for m in ("pipeline", "bundle_builder", "fitting", "demo"))
MOVE_IT = "unit tests use synthetic bundles (tests/unit/synthetic.py::make_bundle); move this test to tests/integration"


@pytest.fixture(scope="session")
def demo_cache_dir():
    """Refused: the demo bundle is built by Meridian."""
    pytest.fail(f"demo_cache_dir needs a bundle Meridian builds: {MOVE_IT}")


@pytest.fixture(scope="session")
def demo_bundle():
    """Refused: the demo bundle is built by Meridian."""
    pytest.fail(f"demo_bundle needs a bundle Meridian builds: {MOVE_IT}")


@pytest.fixture(autouse=True)
def no_meridian(monkeypatch):
    """Make every import of Meridian, TensorFlow or JAX (and of the builder modules that run them)
    fail during the test, even when an earlier test in this process has loaded them."""
    heavy = [
        name
        for name in list(sys.modules)
        if name.split(".")[0] in HEAVY_PACKAGES
        or (name.startswith("mmm_dash.builder.meridian.") and name != "mmm_dash.builder.meridian.loading")
    ]
    for name in {*HEAVY_PACKAGES, *BUILDER_MODULES, *heavy}:
        monkeypatch.setitem(sys.modules, name, None)  # `import name` now raises ImportError
    yield
