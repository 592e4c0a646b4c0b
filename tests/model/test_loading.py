"""Every way a model file can be bad gets its own clear sentence, in the loader, the catalog and the UI."""

from __future__ import annotations

import pickle
import shutil

import joblib
import pytest

from mmm_dash.builder.catalog import ModelCatalog
from mmm_dash.builder.meridian.loading import ModelFileError, load_model
from mmm_dash.core.status import BundleStatus
from tests.helpers import DEMO_MODEL


@pytest.fixture()
def model_dir(tmp_path):
    d = tmp_path / "models"
    d.mkdir()
    return d


def test_missing_file(model_dir):
    with pytest.raises(ModelFileError, match="not found"):
        load_model(model_dir / "nope.pkl", model_dir)


def test_empty_file(model_dir):
    (model_dir / "empty.pkl").write_bytes(b"")
    with pytest.raises(ModelFileError, match="empty"):
        load_model(model_dir / "empty.pkl", model_dir)


def test_not_a_pickle(model_dir):
    (model_dir / "notes.pkl").write_text("date,spend\n2024-01-01,3\n")
    with pytest.raises(ModelFileError, match="not a pickle"):
        load_model(model_dir / "notes.pkl", model_dir)


def test_truncated_file(model_dir):
    data = DEMO_MODEL.read_bytes()
    (model_dir / "cut.pkl").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="truncated"):
        load_model(model_dir / "cut.pkl", model_dir)


def test_pickle_of_something_else(model_dir):
    joblib.dump({"not": "a model"}, model_dir / "dict.pkl")
    with pytest.raises(ModelFileError, match="holds a builtins.dict, not a Meridian model"):
        load_model(model_dir / "dict.pkl", model_dir)


def test_incompatible_meridian_version(model_dir):
    # A pickle that refers to a Meridian module this version does not have.
    (model_dir / "old.pkl").write_bytes(b"\x80\x02cmeridian.model.removed_in_2\nMeridian\nq\x00)\x81q\x01.")
    with pytest.raises(ModelFileError, match="incompatible Meridian version"):
        load_model(model_dir / "old.pkl", model_dir)


def test_model_without_posterior(model_dir):
    from meridian.model import model as meridian_model

    fitted = load_model(DEMO_MODEL, DEMO_MODEL.parent)
    unfitted = meridian_model.Meridian(input_data=fitted.input_data)
    with (model_dir / "unfitted.pkl").open("wb") as fh:
        pickle.dump(unfitted, fh)
    with pytest.raises(ModelFileError, match="without posterior samples"):
        load_model(model_dir / "unfitted.pkl", model_dir)


def test_files_outside_model_dir_are_never_unpickled(model_dir, tmp_path):
    outside = tmp_path / "elsewhere.pkl"
    shutil.copy2(DEMO_MODEL, outside)
    with pytest.raises(ModelFileError, match="only model files inside MODEL_DIR"):
        load_model(outside, model_dir)
    link = model_dir / "link.pkl"
    link.symlink_to(outside)
    with pytest.raises(ModelFileError, match="only model files inside MODEL_DIR"):
        load_model(link, model_dir)


def test_bad_proto_file(model_dir):
    (model_dir / "broken.binpb").write_bytes(b"\x08\x96\x01garbage")
    with pytest.raises(ModelFileError, match="not a readable Meridian proto file"):
        load_model(model_dir / "broken.binpb", model_dir)


def test_catalog_records_the_failure_and_keeps_good_models(model_dir, demo_cache_dir):
    shutil.copy2(DEMO_MODEL, model_dir / DEMO_MODEL.name)
    (model_dir / "broken.pkl").write_bytes(b"")
    catalog = ModelCatalog(model_dir, demo_cache_dir)
    assert catalog.build("broken").status is BundleStatus.FAILED
    state = catalog.state("broken")
    assert state.status is BundleStatus.FAILED and "empty" in state.message
    assert catalog.state("demo_mmm").status is BundleStatus.READY
    assert catalog.readiness() == {"total": 2, "ready": 1, "failed": 1, "building": 0}


def test_cli_inspect_bad_file_is_one_line(model_dir, demo_cache_dir, monkeypatch):
    from click.testing import CliRunner

    from mmm_dash.cli import cli

    (model_dir / "broken.pkl").write_text("hello")
    monkeypatch.setenv("MODEL_DIR", str(model_dir))
    monkeypatch.setenv("CACHE_DIR", str(demo_cache_dir))
    result = CliRunner().invoke(cli, ["inspect-model", str(model_dir / "broken.pkl")])
    assert result.exit_code == 1
    assert "not a pickle" in result.output and "Traceback" not in result.output


def test_binpb_round_trip_loads_the_same_model(model_dir):
    """Models saved with Meridian's serde (.binpb) load and give the same numbers as the pickle."""
    import numpy as np
    from meridian.analysis import analyzer
    from meridian.schema.serde import meridian_serde

    from mmm_dash.builder.meridian.bundle_builder import model_info

    pickled = load_model(DEMO_MODEL, DEMO_MODEL.parent)
    meridian_serde.save_meridian(pickled, str(model_dir / "demo_proto.binpb"))
    proto = load_model(model_dir / "demo_proto.binpb", model_dir)
    info = model_info(proto, "demo_proto", "demo_proto.binpb", "sha", "2.1.0")
    assert info.paid_channels == ("TV", "Paid Search", "Social", "Display", "Online Video") and info.n_geos == 5
    roi_pkl = analyzer.Analyzer(pickled).roi()
    roi_proto = analyzer.Analyzer(proto).roi()
    np.testing.assert_allclose(np.asarray(roi_proto), np.asarray(roi_pkl), rtol=1e-6)
