"""What a stored bundle is keyed by: the model file's content, the Meridian version and the bundle
schema, so a changed file, a Meridian upgrade or a new bundle shape each cause a rebuild."""

from __future__ import annotations

import functools
from importlib.metadata import version

from mmm_dash.core.bundle import BUNDLE_SCHEMA_VERSION


@functools.cache
def meridian_version() -> str:
    """The installed google-meridian version, read from package metadata (no import of Meridian).

    Cached: reading metadata costs about 1 ms, and every page asks for a bundle key."""
    return version("google-meridian")


def bundle_key(sha256: str) -> str:
    """`<file sha256>:<Meridian version>:<bundle schema version>`."""
    return f"{sha256}:{meridian_version()}:{BUNDLE_SCHEMA_VERSION}"


def key_sha256(key: str) -> str:
    """The model file's sha256 a bundle key names (its first part)."""
    return key.partition(":")[0]
