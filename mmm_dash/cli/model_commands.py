"""Model commands: build the demo model, inspect a model, precompute bundles."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from mmm_dash.cli.common import fail, server_context
from mmm_dash.core.status import BundleStatus


def _bar(message: str, fraction: float) -> None:
    filled = int(fraction * 30)
    click.echo(f"[{'#' * filled}{'.' * (30 - filled)}] {fraction:4.0%} {message}", err=True)


@click.command("demo-model")
@click.option("--seed", default=20240601, show_default=True, type=int, help="Seed of the simulated data.")
@click.option("--draws", default=None, type=int, help="Posterior draws kept per chain [default: 250, the demo's plan].")
@click.option("--chains", default=None, type=int, help="Chains [default: 2].")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to save the model [default: MODEL_DIR/demo_mmm.pkl].",
)
@click.option(
    "--geos",
    "n_geos",
    default=None,
    type=click.IntRange(min=2),
    help="Simulate N generated regions instead of the demo's five (for benchmark models).",
)
@click.option("--rf", is_flag=True, help="Add a reach & frequency channel (Connected TV).")
def demo_model(
    seed: int, draws: int | None, chains: int | None, out: Path | None, n_geos: int | None, rf: bool
) -> None:
    """Simulate an advertiser, fit Meridian to it and save the model (about two minutes). With the
    defaults it reproduces the bundled data/models/demo_mmm.pkl; `--geos 40 --rf --draws 100` makes the
    40-geo R&F model that `bench --model` measures large bundle builds on."""
    from mmm_dash.builder.meridian.demo import DEMO_PLAN, build_demo_model, truth_path_for
    from mmm_dash.builder.meridian.fitting import SamplingPlan

    with server_context() as server:
        out = out or server.extensions["mmm_dash"].settings.MODEL_DIR / "demo_mmm.pkl"
    plan = None
    if draws is not None or chains is not None:
        draws = draws or DEMO_PLAN.keep
        plan = SamplingPlan(
            chains=chains or DEMO_PLAN.chains,
            keep=draws,
            adapt=max(draws, 100),
            burnin=max(draws // 2, 50),
            seed=seed % 2**31,
        )
    build_demo_model(out, seed=seed, plan=plan, progress=lambda m: click.echo(m, err=True), n_geos=n_geos, rf=rf)
    click.echo(f"saved {out} ({out.stat().st_size / 1e6:.1f} MB) and {truth_path_for(out).name}")


def operator_catalog(server):
    """The catalog an operator's command builds with: in a team deployment, a worker's (it reads
    MODEL_DIR and respects the shared leases), else the server's own."""
    settings = server.extensions["mmm_dash"].settings
    if settings.distributed:
        from mmm_dash.builder.wiring import catalog_for

        return catalog_for(settings, worker=True)
    return server.extensions["mmm_dash"].models


def _resolve(server, path: Path | None):
    catalog = operator_catalog(server)
    if path is None:
        entry = catalog.entry(None)
        if entry is None:
            fail(f"no model files in {catalog.model_dir}; build the demo with `python -m mmm_dash demo-model`.")
        return catalog, entry
    resolved = path.resolve()
    entry = next((e for e in catalog.entries() if e.path.resolve() == resolved), None)
    if entry is None:
        if not resolved.exists():
            fail(f"model file not found: {path}.")
        fail(
            f"{path.name} is not inside MODEL_DIR ({catalog.model_dir}); only files there are loaded, "
            "because unpickling can run code."
        )
    return catalog, entry


@click.command("precompute")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Rebuild even if a bundle is cached.")
def precompute(path: Path | None, force: bool) -> None:
    """Build and cache the analysis bundle of PATH (default: every model in MODEL_DIR)."""
    with server_context() as server:
        catalog = operator_catalog(server)
        entries = [_resolve(server, path)[1]] if path else catalog.entries()
        if not entries:
            click.echo(f"No model files in {catalog.model_dir}.")
            return
        failed = 0
        for entry in entries:
            start = time.perf_counter()
            state = catalog.build(entry.name, progress=_bar, force=force)
            if state.status is BundleStatus.READY:
                t = state.bundle.timings
                click.echo(
                    f"ready   {entry.name}  ({time.perf_counter() - start:.1f}s here; "
                    f"built in {t['build_seconds']:.1f}s, {t['meridian_seconds']:.1f}s in Meridian)"
                )
            else:
                failed += 1
                click.echo(f"failed  {entry.name}: {state.message}", err=True)
        if failed:
            sys.exit(1)


@click.command("inspect-model")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE instead of stdout.")
@click.option("--period", default="all", show_default=True)
def inspect_model(path: Path | None, as_json: bool, out: Path | None, period: str) -> None:
    """Print model info, channels and the per-channel table of PATH."""
    from mmm_dash.core.bundle import UnknownPeriodError
    from mmm_dash.core.exports import inspection

    with server_context() as server:
        catalog, entry = _resolve(server, path)
        state = catalog.build(entry.name, progress=_bar)
        if state.status is not BundleStatus.READY:
            fail(state.message)
        try:
            analysis = state.bundle.period(period)
        except UnknownPeriodError as exc:
            fail(str(exc))
        if as_json:
            text = json.dumps(inspection.inspect_document(state.bundle, analysis), indent=2) + "\n"
        else:
            text = inspection.inspect_text(state.bundle, analysis)
    if out:
        out.write_text(text)
        click.echo(f"wrote {out}")
    else:
        click.echo(text, nl=False)


@click.command("builder")
def builder_command() -> None:
    """Build the bundles that pages request, one at a time, until stopped (Ctrl+C).

    For servers run with BACKGROUND_BUNDLES=0; at most one builder runs per CACHE_DIR (a second
    one waits for the first to stop)."""
    import logging
    import threading

    from mmm_dash.builder.service import LOCK_RETRY_SECONDS, Builder, MachineLock, lock_path

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("mmm_dash").setLevel(logging.INFO)
    with server_context() as server:
        catalog = server.extensions["mmm_dash"].models
    lock = MachineLock(lock_path(catalog.cache_dir))
    stop = threading.Event()
    try:
        while not lock.acquire():
            click.echo(f"Another builder holds {lock.path}; waiting for it to stop.", err=True)
            stop.wait(LOCK_RETRY_SECONDS * 6)
        click.echo(f"Building requested bundles of {catalog.model_dir} (Ctrl+C to stop).", err=True)
        Builder(catalog).run(stop)
    except KeyboardInterrupt:
        click.echo("Builder stopped.", err=True)
    finally:
        lock.release()


def _flagged_model(server, name: str):
    catalog = server.extensions["mmm_dash"].models
    if catalog.entry(name) is None:
        fail(f"no model named {name!r}; `python -m mmm_dash models` lists them.")
    return catalog


@click.command("archive-model")
@click.argument("name")
@click.option("--undo", is_flag=True, help="Show the model on pages again.")
def archive_model(name: str, undo: bool) -> None:
    """Hide model NAME from every page without deleting its file (as /admin/models does)."""
    from mmm_dash.web import audit

    with server_context() as server:
        _flagged_model(server, name).flags.set_archived(name, not undo)
        audit.record(audit.MODEL_UNARCHIVE if undo else audit.MODEL_ARCHIVE, name)
    click.echo(f"{name} is {'shown again' if undo else 'archived'}.")


@click.command("default-model")
@click.argument("name")
def default_model(name: str) -> None:
    """Make model NAME the one pages open first."""
    from mmm_dash.web import audit

    with server_context() as server:
        _flagged_model(server, name).flags.set_default(name)
        audit.record(audit.MODEL_DEFAULT, name)
    click.echo(f"{name} is the default model.")


@click.command("rebuild-model")
@click.argument("name")
def rebuild_model(name: str) -> None:
    """Drop NAME's bundle and recorded failure and ask the builder (or a worker) to build it again.

    `precompute --force` does the same in the foreground, in this process."""
    from mmm_dash.web import audit

    with server_context() as server:
        state = _flagged_model(server, name).rebuild(name)
        audit.record(audit.MODEL_REBUILD, name, detail=str(state.status))
    click.echo(f"{name}: {state.status}. {state.message}".strip())


COMMANDS = [demo_model, precompute, inspect_model, builder_command, archive_model, default_model, rebuild_model]
