"""How a claimed build is run. The builder only needs `run(job) -> RunOutcome` (and `cancel()`),
so a queue of remote workers (Celery) can replace the local process later.

`SubprocessRunner` (the default) runs each build in a fresh interpreter: Meridian, TensorFlow and
their memory leave with the process, and a crash is reported with the tail of its stderr.
`InProcessRunner` runs the step in the calling process (tests, single-shot tools).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

STDERR_TAIL_LINES = 15
STDERR_TAIL_CHARS = 2000


@dataclasses.dataclass(frozen=True)
class BuildJob:
    """One attempt at building one bundle: what to build and the lease it runs under."""

    model_dir: Path
    cache_dir: Path
    name: str
    key: str
    owner: str


@dataclasses.dataclass(frozen=True)
class RunOutcome:
    ok: bool  # the attempt ran to its end and recorded its result itself
    error: str = ""  # why not, for the build record (e.g. the tail of stderr)


class BuildRunner(Protocol):
    def run(self, job: BuildJob) -> RunOutcome:
        """Run the attempt to its end (blocking); the attempt records progress and result in the book."""

    def cancel(self) -> None:
        """Stop the attempt in progress, if any (server shut-down)."""


class InProcessRunner:
    """Runs the catalog's build step in this process."""

    def __init__(self, catalog):
        self.catalog = catalog

    def run(self, job: BuildJob) -> RunOutcome:
        self.catalog.run_claimed(job.name, job.key, job.owner)
        return RunOutcome(ok=True)

    def cancel(self) -> None:
        pass


def job_command(job: BuildJob) -> list[str]:
    """`python -m mmm_dash.builder.job ...`: one build in a fresh interpreter."""
    return [
        sys.executable, "-m", "mmm_dash.builder.job",
        "--model-dir", str(job.model_dir), "--cache-dir", str(job.cache_dir),
        "--key", job.key, "--owner", job.owner, job.name,
    ]  # fmt: skip


class SubprocessRunner:
    """Runs each attempt as a child process; a non-zero exit becomes an error with its stderr tail."""

    def __init__(self, command: Callable[[BuildJob], Sequence[str]] = job_command):
        self.command = command
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def run(self, job: BuildJob) -> RunOutcome:
        with tempfile.TemporaryFile(mode="w+b") as stderr:
            with self._lock:
                self._proc = subprocess.Popen(
                    list(self.command(job)),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                    env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")},
                )
            code = self._proc.wait()
            with self._lock:
                self._proc = None
            if code == 0:
                return RunOutcome(ok=True)
            stderr.seek(0)
            tail = stderr_tail(stderr.read().decode("utf-8", "replace"))
        how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
        return RunOutcome(ok=False, error=f"the build process {how}" + (f": {tail}" if tail else ""))

    def cancel(self) -> None:
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                self._proc.terminate()


def stderr_tail(text: str) -> str:
    """The last lines of a process's stderr: where Python puts the exception that ended it."""
    lines = [line.rstrip() for line in text.strip().splitlines() if line.strip()]
    return "\n".join(lines[-STDERR_TAIL_LINES:])[-STDERR_TAIL_CHARS:]
