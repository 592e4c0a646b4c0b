"""Model versions: a folder per model with one file per version, newest first by label."""

from __future__ import annotations

from mmm_dash.builder.discovery import ModelFiles, entry_from_file, relative_file, version_order


def _touch(path, data=b"\x80model"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_labels_sort_numbers_as_numbers():
    labels = ["v10", "v2", "v1"]
    assert sorted(labels, key=version_order) == ["v1", "v2", "v10"]
    assert sorted(["2025-10", "2025-6", "2024-12"], key=version_order) == ["2024-12", "2025-6", "2025-10"]


def test_a_folder_is_one_model_with_its_versions_newest_first(tmp_path):
    _touch(tmp_path / "demo_mmm.pkl")
    _touch(tmp_path / "acme" / "v2.binpb")
    _touch(tmp_path / "acme" / "v10.binpb")
    _touch(tmp_path / "acme" / "notes.txt")  # not a model file
    _touch(tmp_path / "acme" / ".v11.binpb")  # hidden: an upload being written
    _touch(tmp_path / "zeta.pkl")
    entries = ModelFiles(tmp_path).entries()
    assert [(e.name, e.model, e.version) for e in entries] == [
        ("demo_mmm", "demo_mmm", ""),
        ("acme@v10", "acme", "v10"),
        ("acme@v2", "acme", "v2"),
        ("zeta", "zeta", ""),
    ]


def test_a_folder_named_like_a_model_file_is_skipped(tmp_path):
    _touch(tmp_path / "acme.pkl")
    _touch(tmp_path / "acme" / "v1.pkl")
    assert [e.name for e in ModelFiles(tmp_path).entries()] == ["acme"]


def test_the_manifest_path_round_trips(tmp_path):
    _touch(tmp_path / "acme" / "2025-06.binpb")
    _touch(tmp_path / "solo.pkl")
    for entry in ModelFiles(tmp_path).entries():
        file = relative_file(entry, tmp_path)
        again = entry_from_file(tmp_path, entry.name, file, entry.size, entry.mtime_ns, None)
        assert (again.name, again.model, again.version, again.path) == (
            entry.name,
            entry.model,
            entry.version,
            entry.path,
        )
    assert relative_file(ModelFiles(tmp_path).entry("acme@2025-06"), tmp_path) == "acme/2025-06.binpb"
