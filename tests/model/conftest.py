"""Real Meridian models of every supported shape, fitted once per machine (tests/model/shapes.py),
their bundles built once into the shared test cache, and the loaded models for checks against
Meridian's own numbers."""

from __future__ import annotations

import shutil

import pytest

from mmm_dash.builder.catalog import ModelCatalog
from mmm_dash.core.status import BundleStatus
from tests.helpers import TEST_CACHE
from tests.model.shapes import SHAPES, fitted_model_path


def build_shape(shape: str, tmp_path_factory):
    model_path = fitted_model_path(shape, TEST_CACHE)
    model_dir = tmp_path_factory.mktemp(f"models-{shape}")
    shutil.copy2(model_path, model_dir / f"{shape}.pkl")
    state = ModelCatalog(model_dir, TEST_CACHE / "cache").build(shape)
    assert state.status is BundleStatus.READY, state.message
    return shape, model_dir, state.bundle


@pytest.fixture(scope="module", params=sorted(SHAPES))
def shape_bundle(request, tmp_path_factory):
    """(shape name, MODEL_DIR holding it, its bundle), once per shape and test module."""
    return build_shape(request.param, tmp_path_factory)


def meridian_model(model_dir, shape: str):
    from mmm_dash.builder.meridian.loading import load_model

    return load_model(model_dir / f"{shape}.pkl", model_dir)
