"""Fast, deterministic build steps for tests that run real workers (`BUILD_STEP=tests.fake_build:...`).

`demo_bundle_step` returns a real bundle, so pages and exports render: the pickled bundle named by
MMM_FAKE_BUNDLE, renamed after the model it was asked for. It reports progress in several steps,
sleeping MMM_FAKE_BUILD_SECONDS in all, so a test can kill its worker in the middle, and appends
"start <name> <pid>" and "done <name> <pid>" lines to MMM_FAKE_BUILD_LOG so a test can count builds.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import time
from pathlib import Path

FAKE_BUNDLE = "MMM_FAKE_BUNDLE"
FAKE_SECONDS = "MMM_FAKE_BUILD_SECONDS"
FAKE_LOG = "MMM_FAKE_BUILD_LOG"
STEPS = 8


def _note(event: str, name: str) -> None:
    """One line per event, appended in a single write (O_APPEND), so processes never interleave."""
    path = os.environ.get(FAKE_LOG)
    if not path:
        return
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"{event} {name} {os.getpid()}\n".encode())
    finally:
        os.close(fd)


def read_log(path) -> list[tuple[str, str, int]]:
    """(event, model name, pid) of every line the fake step wrote."""
    try:
        lines = Path(path).read_text().splitlines()
    except FileNotFoundError:
        return []
    return [(event, name, int(pid)) for event, name, pid in (line.split() for line in lines)]


def renamed(bundle, name: str, file_name: str, sha256: str, version: str = ""):
    """`bundle` as the build of another model file would describe itself."""
    return dataclasses.replace(
        bundle,
        info=dataclasses.replace(bundle.info, name=name, file_name=file_name, sha256=sha256, version=version),
    )


def demo_bundle_step(entry, sha256, progress):
    """The bundle in MMM_FAKE_BUNDLE under `entry`'s name, after STEPS progress reports."""
    _note("start", entry.name)
    with open(os.environ[FAKE_BUNDLE], "rb") as fh:
        source = pickle.load(fh)  # noqa: S301  (written by the test itself)
    pause = float(os.environ.get(FAKE_SECONDS) or 0) / STEPS
    for step in range(STEPS):
        progress(f"fake analysis, step {step + 1} of {STEPS}", (step + 1) / (STEPS + 1))
        time.sleep(pause)
    bundle = renamed(source, entry.model, entry.path.name, sha256, entry.version)
    _note("done", entry.name)
    return bundle
