"""Model file -> analysis bundle: the build step the catalog runs (imports Meridian)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mmm_dash.builder.keys import meridian_version
from mmm_dash.builder.meridian.bundle_builder import build_bundle
from mmm_dash.builder.meridian.loading import load_model
from mmm_dash.core.bundle import Bundle

__all__ = ["analyse_file", "import_meridian"]


def import_meridian() -> None:
    """Import what a build uses of Meridian (and so TensorFlow Probability and JAX): a build process
    pays this once, before its first load + build."""
    import meridian.analysis.analyzer  # noqa: F401
    import meridian.model.model  # noqa: F401


def analyse_file(
    path: Path, model_dir: Path, name: str, sha256: str, progress: Callable[[str, float], None], version: str = ""
) -> Bundle:
    """Load `path` (inside `model_dir`) with Meridian and compute its bundle, reporting progress."""
    mmm = load_model(path, model_dir)
    return build_bundle(
        mmm,
        name=name,
        file_name=path.name,
        sha256=sha256,
        meridian_version=meridian_version(),
        version=version,
        progress=progress,
    )
