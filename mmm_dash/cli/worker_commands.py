"""Team deployment commands: the Celery build worker and the model list as the shared database has it."""

from __future__ import annotations

import datetime as dt

import click

from mmm_dash.cli.common import fail, settings_or_exit


@click.command("worker")
@click.option(
    "--concurrency",
    default=1,
    show_default=True,
    type=click.IntRange(1, 16),
    help="Builds at once (each takes about 1 GB of memory while Meridian runs).",
)
@click.option("--loglevel", default="INFO", show_default=True)
@click.option("--hostname", default="mmm-bundles@%h", show_default=True, help="Celery node name.")
def worker(concurrency: int, loglevel: str, hostname: str) -> None:
    """Run a Celery worker that builds bundles (needs CELERY_BROKER_URL; reads MODEL_DIR).

    One build per child process, which exits after it (Meridian's memory goes back to the system);
    the worker also keeps the model manifest in step with MODEL_DIR and sends again builds whose
    worker died."""
    settings = settings_or_exit()
    if not settings.distributed:
        fail("CELERY_BROKER_URL is not set: one machine builds bundles inside `serve` (or `builder`), not on a worker.")
    import os

    from mmm_dash.builder.tasks import QUEUE, make_celery

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # build children inherit it: TensorFlow's C++ chatter off
    app = make_celery(settings)
    app.worker_main(
        ["worker", "--queues", QUEUE, "--concurrency", str(concurrency), "--loglevel", loglevel,
         "--hostname", hostname, "--without-gossip", "--without-mingle", "--max-tasks-per-child", "1"]
    )  # fmt: skip


def _when(stamp: float | None) -> str:
    return dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if stamp else "-"


@click.command("models")
def models_command() -> None:
    """List the models with their file, size, sha256, Meridian version and build status."""
    from mmm_dash.builder.wiring import catalog_for

    settings = settings_or_exit()
    catalog = catalog_for(settings)
    history = {}
    if settings.distributed:
        history = {row["key"]: row for row in catalog.book.history()}
    entries = catalog.entries()
    if not entries:
        click.echo(
            f"No models (MODEL_DIR {settings.MODEL_DIR}" + (", manifest empty)" if settings.distributed else ")")
        )
        return
    for entry in entries:
        key = catalog.key(entry)
        state = catalog.state(entry.name)
        row = history.get(key, {})
        click.echo(
            f"{entry.name}\n  file {entry.path.name}  {entry.size / 1e6:.1f} MB  sha256 {catalog.sha256(entry)}\n"
            f"  status {state.status}  attempts {row.get('attempts', '-')}  built {_when(row.get('built_at'))}"
            + (f"\n  {state.message}" if state.message else "")
        )


COMMANDS = [worker, models_command]
