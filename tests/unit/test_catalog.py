"""Catalog bookkeeping that needs no Meridian: discovery, keys and the build marker."""

from __future__ import annotations

import os
import subprocess
import sys

from mmm_dash.builder.catalog import ModelCatalog


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_discovery_orders_the_demo_first_and_ignores_other_files(tmp_path):
    for name in ("zeta.pkl", "demo_mmm.pkl", "alpha.binpb", "demo_mmm.truth.json", ".hidden.pkl", "x.pkl.tmp"):
        (tmp_path / name).write_bytes(b"x")
    catalog = ModelCatalog(tmp_path, tmp_path / "cache")
    assert catalog.names() == ["demo_mmm", "alpha", "zeta"]
    assert catalog.entry(None).name == "demo_mmm"


def test_key_changes_with_file_content(tmp_path):
    path = tmp_path / "m.pkl"
    path.write_bytes(b"one")
    catalog = ModelCatalog(tmp_path, tmp_path / "cache")
    first = catalog.key(catalog.entry("m"))
    path.write_bytes(b"two!")
    assert catalog.key(catalog.entry("m")) != first


def test_a_dead_builders_marker_is_taken_over(tmp_path):
    (tmp_path / "m.pkl").write_bytes(b"model")
    catalog = ModelCatalog(tmp_path, tmp_path / "cache")
    key = catalog.key(catalog.entry("m"))
    catalog.cache.set(("building", key), _dead_pid())
    catalog.cache.set(("progress", key), ("half way", 0.5))
    assert catalog.state("m").status == "queued"  # nobody is really building it
    assert catalog._claim_build(key)
    assert catalog.cache.get(("building", key)) == os.getpid()


def test_a_live_builder_is_not_disturbed(tmp_path):
    (tmp_path / "m.pkl").write_bytes(b"model")
    catalog = ModelCatalog(tmp_path, tmp_path / "cache")
    key = catalog.key(catalog.entry("m"))
    catalog.cache.set(("building", key), os.getppid())
    catalog.cache.set(("progress", key), ("half way", 0.5))
    state = catalog.state("m")
    assert state.status == "building" and state.progress == 0.5
    assert not catalog._claim_build(key)
