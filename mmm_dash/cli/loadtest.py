"""`loadtest`: the load benchmark. Simulated analysts (Locust, headless, in its own process) against
two web replicas on loopback; p50/p95/p99 and requests per second per request kind; a non-zero exit
when the goals (no failed request, p99 of Dash callbacks within the target) are missed."""

from __future__ import annotations

import contextlib
import json
import math
import os
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

MAX_USERS, MAX_SECONDS = 500, 1800  # bounds: this is a benchmark on one machine, not a soak test
LOCUST_GRACE_SECONDS = 120  # start-up and stop of the Locust process beyond the run time


@click.command("loadtest")
@click.option(
    "-u", "--users", default=50, show_default=True, type=click.IntRange(1, MAX_USERS), help="Simulated analysts."
)
@click.option(
    "-r",
    "--spawn-rate",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0.1, 100),
    help="Users started per second.",
)
@click.option(
    "-t", "--seconds", default=60, show_default=True, type=click.IntRange(1, MAX_SECONDS), help="Length of the run."
)
@click.option(
    "--min-wait",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0, 60),
    help="Shortest think time between a user's actions (s).",
)
@click.option(
    "--max-wait", default=3.0, show_default=True, type=click.FloatRange(0, 60), help="Longest think time (s)."
)
@click.option(
    "--host",
    "hosts",
    multiple=True,
    metavar="URL",
    help="Target running replicas (loopback only; repeatable) instead of starting them; needs --email/--password. "
    "They should trust one proxy hop (TRUSTED_PROXY_COUNT=1) and keep connections alive past the think time.",
)
@click.option(
    "--email",
    "emails",
    multiple=True,
    help="With --host: an existing account to sign in with (repeatable; users share them round robin).",
)
@click.option(
    "--password",
    envvar="MMM_LOADTEST_PASSWORD",
    help="With --host: the accounts' password [env MMM_LOADTEST_PASSWORD].",
)
@click.option("--replicas", default=2, show_default=True, type=click.IntRange(1, 4), help="Replicas to start.")
@click.option(
    "--workers", default=2, show_default=True, type=click.IntRange(1, 8), help="gunicorn workers per replica."
)
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 32), help="Threads per worker.")
@click.option(
    "--redis-url", default=None, help="Sign-in counters of the started replicas [default: RATELIMIT_STORAGE_URI]."
)
@click.option(
    "--p99-ms",
    default=250.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Goal: p99 of Dash callbacks at most this.",
)
@click.option(
    "--max-failures",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="Goal: at most this many failed requests.",
)
@click.option("--json-out", type=click.Path(dir_okay=False, path_type=Path), help="Write the figures as JSON.")
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep Locust's CSV files, the plan and the replica logs in this directory.",
)
@click.option("--seed", default=0, show_default=True, help="Seed of the users' choices.")
@click.option(
    "--tour",
    is_flag=True,
    help="Each user first takes every page, page action and download once (so a short run shows every request kind).",
)
def loadtest(
    users,
    spawn_rate,
    seconds,
    min_wait,
    max_wait,
    hosts,
    emails,
    password,
    replicas,
    workers,
    threads,
    redis_url,
    p99_ms,
    max_failures,
    json_out,
    keep,
    seed,
    tour,
) -> None:
    """Load benchmark: simulated analysts against web replicas on loopback.

    By default two gunicorn replicas (`app:server`) are started on free 127.0.0.1 ports with this
    environment's DATABASE_URL, MODEL_DIR, CACHE_DIR and SECRET_KEY, BACKGROUND_BUNDLES=0 and
    TRUSTED_PROXY_COUNT=1; one temporary analyst account per user is created and removed afterwards.
    Each user signs in, then browses every page of the ready models and periods, uses each page's
    controls, moves scenario sliders, runs the optimizer and downloads exports, thinking 1-3 s in
    between. User i talks to replica i mod N, with its own X-Forwarded-For address (10.x.y.z) for the
    per-address sign-in limits, as users behind a load balancer have. A preflight sends every payload
    once first, so a refused one stops the run with its reason.
    """
    from mmm_dash.loadtest.replicas import LoadTestError

    if max_wait < min_wait:
        raise click.BadParameter("--max-wait must not be below --min-wait.")
    work = Path(tempfile.mkdtemp(prefix="mmm-loadtest-")) if keep is None else keep
    work.mkdir(parents=True, exist_ok=True)
    config = {
        "users": users,
        "spawn_rate": spawn_rate,
        "seconds": seconds,
        "wait_s": [min_wait, max_wait],
        "seed": seed,
        "tour": tour,
    }
    try:
        if hosts:
            result, config = _against_hosts(hosts, emails, password, work, config, p99_ms, max_failures)
        else:
            result, config = _against_started_replicas(
                replicas, workers, threads, redis_url, work, config, p99_ms, max_failures
            )
    except LoadTestError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        if keep is None:
            import shutil

            shutil.rmtree(work, ignore_errors=True)
    _print(result, config)
    if json_out:
        json_out.write_text(json.dumps({"config": config, **result.as_dict()}, indent=2))
    if result.problems:
        click.echo("Goals missed: " + "; ".join(result.problems) + ".", err=True)
        sys.exit(1)
    click.echo(f"Goals met: no failed request, p99 of Dash callbacks ≤ {p99_ms:.0f} ms.")


def _against_hosts(hosts, emails, password, work, config, p99_ms, max_failures):
    from mmm_dash.loadtest.replicas import LoadTestError, loopback_url

    targets = [loopback_url(h) for h in hosts]
    if not emails or not password:
        raise LoadTestError("--host needs --email (one or more existing accounts) and --password.")
    accounts = [[e, password] for e in emails]
    config.update(targets=targets, started_replicas=False)
    return _run(targets, accounts, work, config, p99_ms, max_failures), config


def _against_started_replicas(count, workers, threads, redis_url, work, config, p99_ms, max_failures):
    from mmm_dash.config import ConfigError, load_settings
    from mmm_dash.loadtest.replicas import (
        LoadTestError,
        replica_environment,
        start_replicas,
        stop_replicas,
        temporary_accounts,
    )
    from mmm_dash.web.app_factory import create_server

    try:
        settings = load_settings()
        server = create_server()
    except ConfigError as exc:
        raise LoadTestError(str(exc)) from None
    ratelimit = redis_url or settings.RATELIMIT_STORAGE_URI
    if ratelimit.startswith("memory://") and count * workers > 1:
        click.echo(
            "Note: RATELIMIT_STORAGE_URI is memory://, so each worker counts sign-ins on its own; "
            "pass --redis-url to share them as a deployment does.",
            err=True,
        )
    run_id, password = secrets.token_hex(4), secrets.token_urlsafe(18)
    config.update(
        replicas=count,
        workers_per_replica=workers,
        threads_per_worker=threads,
        started_replicas=True,
        database=settings.DATABASE_URL.split("://", 1)[0],
        ratelimit_storage=ratelimit.split("://", 1)[0],
        cpu_count=os.cpu_count(),
    )
    env = replica_environment(settings, ratelimit)
    with temporary_accounts(server, run_id, config["users"], password) as emails:
        click.echo(f"Starting {count} replicas ({workers} workers x {threads} threads each)...")
        keepalive = max(5, math.ceil(config["wait_s"][1]) + 2)  # outlasts the think time (see start_replicas)
        config["keepalive_s"] = keepalive
        started = start_replicas(count, env, work, workers, threads, keepalive)
        try:
            targets = [r.url for r in started]
            config["targets"] = targets
            result = _run(targets, [[e, password] for e in emails], work, config, p99_ms, max_failures, started)
        except LoadTestError:
            for replica in started:
                from mmm_dash.loadtest.replicas import log_tail

                click.echo(f"--- {replica.url} log tail ---\n{log_tail(replica)}", err=True)
            raise
        finally:
            stop_replicas(started)
    return result, config


def _tree_cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system) of these processes and their children, as of now."""
    import psutil

    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            process = psutil.Process(pid)
            for p in [process, *process.children(recursive=True)]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    times = p.cpu_times()
                    total += times.user + times.system
    return total


def _run(targets, accounts, work, config, p99_ms, max_failures, started=()):
    """Preflight, then Locust in its own process (own process group), then its CSV read back."""
    from mmm_dash.loadtest.preflight import discover
    from mmm_dash.loadtest.replicas import LoadTestError, app_directory
    from mmm_dash.loadtest.report import in_app_callbacks, read_result

    octet = secrets.randbelow(250) + 1  # a fresh address range per run: no sign-in counters carried over
    click.echo(f"Preflight against {', '.join(targets)}...")
    found = discover(targets, accounts[0][0], accounts[0][1], f"10.{octet}.255.254", config["seed"])
    click.echo(
        f"  {len({m for m, _ in found.views})} ready model(s), {len(found.views)} model periods, "
        f"{len(found.pages)} pages; {found.requests} requests checked"
        + (f"; left out: {found.not_ready}" if found.not_ready else "")
    )
    config.update(
        models=sorted({m for m, _ in found.views}), views=len(found.views), pages=found.pages, not_ready=found.not_ready
    )
    prefix, final, group_out, plan_file = work / "locust", work / "final", work / "callbacks.json", work / "plan.json"
    plan = {
        "hosts": targets,
        "accounts": accounts,
        "views": found.views,
        "pages": found.pages,
        "wait": config["wait_s"],
        "tour": config["tour"],
        "seed": config["seed"],
        "address_octet": octet,
        "group_out": str(group_out),
        "final_csv": str(final),
        "samples_out": str(work / "requests.csv"),
        "p99_ms": p99_ms,
        "max_failures": max_failures,
    }
    plan_file.write_text(json.dumps(plan))
    plan_file.chmod(0o600)  # it holds the accounts' password
    locustfile = Path(__file__).resolve().parent.parent / "loadtest" / "locustfile.py"
    command = [
        sys.executable,
        "-m",
        "mmm_dash.loadtest.launch",
        "-f",
        str(locustfile),
        "--headless",
        "-u",
        str(config["users"]),
        "-r",
        str(config["spawn_rate"]),
        "-t",
        f"{config['seconds']}s",
        "--only-summary",
        "--csv",
        str(prefix),
        "--stop-timeout",
        "10",
        "--loglevel",
        "WARNING",
    ]
    click.echo(f"Running {config['users']} users for {config['seconds']} s (spawn rate {config['spawn_rate']}/s)...")
    config["load_average_before"] = [round(x, 2) for x in os.getloadavg()]  # other work on the machine
    replica_pids = [r.process.pid for r in started]
    cpu_before, children_before = _tree_cpu_seconds(replica_pids), resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, started_at = time.monotonic(), time.time()
    with open(work / "locust.log", "wb") as log:
        process = subprocess.Popen(
            command,
            cwd=app_directory(),
            env={**os.environ, "MMM_LOADTEST_PLAN": str(plan_file)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            process.wait(timeout=config["seconds"] + LOCUST_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise LoadTestError("Locust did not finish in time; it was stopped.") from None
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            process.wait()
            raise
    wall = time.monotonic() - wall
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    config["cpu_seconds"] = {
        "wall": round(wall, 1),
        "replicas": round(_tree_cpu_seconds(replica_pids) - cpu_before, 1) if replica_pids else None,
        "load_generator": round(
            (children_after.ru_utime + children_after.ru_stime) - (children_before.ru_utime + children_before.ru_stime),
            1,
        ),
    }
    try:
        result = read_result(final, group_out, max_failures, p99_ms, work / "requests.csv")
        if started:
            result.in_app = in_app_callbacks([r.log for r in started], started_at, time.time())
        return result
    except (FileNotFoundError, ValueError) as exc:
        tail = "\n".join((work / "locust.log").read_text(errors="replace").splitlines()[-30:])
        raise LoadTestError(f"{exc} (Locust exited {process.returncode}):\n{tail}") from None


def _print(result, config) -> None:
    from mmm_dash.loadtest.report import table

    where = (
        f"{config['replicas']} replicas x {config['workers_per_replica']} workers x {config['threads_per_worker']} "
        f"threads, {config['database']}, sign-in counters in {config['ratelimit_storage']}"
        if config.get("started_replicas")
        else f"running replicas {', '.join(config['targets'])}"
    )
    click.echo(
        f"\n{config['users']} users, {config['seconds']} s, "
        f"think time {config['wait_s'][0]:g}-{config['wait_s'][1]:g} s; {where}; "
        f"models {', '.join(config['models'])} ({config['views']} model periods)\n"
    )
    click.echo(table(result))
    cpu = config.get("cpu_seconds") or {}
    if cpu.get("replicas") is not None:
        cores = os.cpu_count() or 1
        click.echo(
            f"\nCPU over {cpu['wall']} s: replicas {cpu['replicas']} s ({cpu['replicas'] / cpu['wall'] / cores:.0%} of "
            f"{cores} cores), load generator {cpu['load_generator']} s; "
            f"load average before the run {config['load_average_before'][0]:.2f}"
        )


COMMANDS = [loadtest]
