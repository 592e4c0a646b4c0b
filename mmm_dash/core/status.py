"""The states of a model's analysis bundle: one definition shared by the builder, the web shell and the CLI."""

from __future__ import annotations

from enum import StrEnum


class BundleStatus(StrEnum):
    """Where a model's bundle is; the values are what `/readyz` and logs show."""

    READY = "ready"  # the bundle is stored and can be shown
    MISSING = "missing"  # no bundle and nobody has asked for one yet
    QUEUED = "queued"  # a build was requested; no builder is working on it right now
    BUILDING = "building"  # a builder holds a live lease on the build and reports progress
    FAILED = "failed"  # the file cannot be analysed, or every attempt failed; the message says why

    @property
    def pending(self) -> bool:
        """True while the bundle may still appear without anyone changing the model file."""
        return self in (BundleStatus.MISSING, BundleStatus.QUEUED, BundleStatus.BUILDING)

    @property
    def settled(self) -> bool:
        """True when polling can stop: the bundle is there or will not come."""
        return self in (BundleStatus.READY, BundleStatus.FAILED)
