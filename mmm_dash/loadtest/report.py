"""Locust's CSV output as the benchmark's figures: p50/p95/p99 and requests per second per request
kind, all Dash callbacks together, and the whole run; failures and user-code errors; the verdict."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import math
import re
from pathlib import Path

KIND_ORDER = ("login", "app:", "page:", "callback:", "scenario", "optimizer", "export:")
CALLBACK_KINDS = ("page:", "callback:", "scenario", "optimizer")  # the kinds that POST a Dash callback
# mmm_dash.web.request_log's line, as the replicas write it (logging's default local-time stamp)
REQUEST_LINE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \S+ mmm_dash\.requests: POST /_dash-update-component (\d+) ([\d.]+)ms"
)


@dataclasses.dataclass(frozen=True)
class Row:
    kind: str
    requests: int
    failures: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    rps: float

    @classmethod
    def from_csv(cls, record: dict) -> Row:
        def number(key: str) -> float:
            value = (record.get(key) or "").strip()
            return float(value) if value not in ("", "N/A") else 0.0

        return cls(
            kind=record["Name"],
            requests=int(number("Request Count")),
            failures=int(number("Failure Count")),
            p50_ms=number("50%"),
            p95_ms=number("95%"),
            p99_ms=number("99%"),
            max_ms=number("Max Response Time"),
            rps=number("Requests/s"),
        )

    @classmethod
    def from_group(cls, group: dict) -> Row:
        return cls(
            group["name"],
            group["requests"],
            group["failures"],
            group["p50_ms"],
            group["p95_ms"],
            group["p99_ms"],
            group["max_ms"],
            group["rps"],
        )


@dataclasses.dataclass
class Result:
    kinds: list[Row]
    callbacks: Row | None  # every POST to /_dash-update-component, whatever its kind
    settled: Row | None  # the same, from the moment the last user had signed in (from per-request samples)
    total: Row
    failures: list[dict]  # method, name, error, occurrences
    errors: list[dict]  # exceptions raised by the simulated users' own code
    max_failures: int
    p99_target_ms: float
    in_app: Row | None = None  # the callbacks timed inside the replicas (their request logs): no queueing

    @property
    def failed_requests(self) -> int:
        return self.total.failures

    @property
    def user_errors(self) -> int:
        return sum(e["count"] for e in self.errors)

    @property
    def problems(self) -> list[str]:
        """The goals this run missed, one sentence each (empty: all met)."""
        problems = []
        if self.failed_requests > self.max_failures:
            problems.append(f"{self.failed_requests} failed requests (goal: at most {self.max_failures})")
        if self.user_errors:
            problems.append(f"{self.user_errors} errors in the simulated users' code (see 'errors')")
        if self.callbacks is None or self.callbacks.requests == 0:
            problems.append("no Dash callback was measured")
        elif self.callbacks.p99_ms > self.p99_target_ms:
            problems.append(
                f"p99 of Dash callbacks {self.callbacks.p99_ms:.0f} ms (goal: ≤ {self.p99_target_ms:.0f} ms)"
            )
        return problems

    def as_dict(self) -> dict:
        return {
            "kinds": [dataclasses.asdict(r) for r in self.kinds],
            "callbacks": dataclasses.asdict(self.callbacks) if self.callbacks else None,
            "callbacks_after_sign_in": dataclasses.asdict(self.settled) if self.settled else None,
            "callbacks_in_app": dataclasses.asdict(self.in_app) if self.in_app else None,
            "total": dataclasses.asdict(self.total),
            "failures": self.failures,
            "errors": self.errors,
            "goals": {
                "max_failed_requests": self.max_failures,
                "callback_p99_ms": self.p99_target_ms,
                "met": not self.problems,
                "missed": self.problems,
            },
        }


def _order(kind: str) -> tuple:
    for n, prefix in enumerate(KIND_ORDER):
        if kind.startswith(prefix):
            return (n, kind)
    return (len(KIND_ORDER), kind)


def _nearest_rank(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def settled_callbacks(samples_file: Path) -> Row | None:
    """Dash callbacks that started after the last sign-in had finished: the run without its sign-in
    storm (each sign-in is a bcrypt check, a quarter second of CPU). Exact percentiles of the samples."""
    with open(samples_file, newline="") as fh:
        samples = [(float(r["start"]), r["kind"], float(r["ms"]), r["ok"] == "1") for r in csv.DictReader(fh)]
    signed_in = [t + ms / 1000 for t, kind, ms, _ok in samples if kind == "login"]
    if not signed_in:
        return None
    since = max(signed_in)
    calls = [(t, ms, ok) for t, kind, ms, ok in samples if kind.startswith(CALLBACK_KINDS) and t >= since]
    if not calls:
        return None
    seconds = max(t for t, _ms, _ok in calls) - since
    label = f"Dash callbacks after the last sign-in ({seconds:.0f} s)"
    return _row(label, [ms for _t, ms, _ok in calls], sum(1 for *_x, ok in calls if not ok), seconds)


def _row(label: str, times: list[float], failures: int, seconds: float) -> Row:
    ordered = sorted(times)
    return Row(
        label,
        len(ordered),
        failures,
        _nearest_rank(ordered, 0.5),
        _nearest_rank(ordered, 0.95),
        _nearest_rank(ordered, 0.99),
        ordered[-1],
        len(ordered) / seconds if seconds > 0 else 0.0,
    )


def in_app_callbacks(logs: list[Path], since: float, until: float) -> Row | None:
    """Dash callbacks as the replicas timed them (from the view starting to the response made: no
    waiting for a thread, no sending), between `since` and `until` (epoch seconds). Client time minus
    this is queueing, contention and transfer."""
    times, failures = [], 0
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            found = REQUEST_LINE.match(line)
            if not found:
                continue
            stamp = dt.datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            if since <= stamp <= until:
                times.append(float(found.group(3)))
                failures += found.group(2) != "200"
    return (
        _row("Dash callbacks inside the replicas (their request logs)", times, failures, until - since)
        if times
        else None
    )


def read_result(
    prefix: Path, group_file: Path | None, max_failures: int, p99_target_ms: float, samples_file: Path | None = None
) -> Result:
    """The figures of a finished Locust run written with `--csv prefix`."""
    stats_file = Path(f"{prefix}_stats.csv")
    if not stats_file.is_file():
        raise FileNotFoundError(f"Locust wrote no statistics ({stats_file} is missing)")
    with open(stats_file, newline="") as fh:
        records = list(csv.DictReader(fh))
    total = next((Row.from_csv(r) for r in records if r["Name"] == "Aggregated"), None)
    if total is None:
        raise ValueError(f"{stats_file} has no Aggregated row")
    kinds = sorted((Row.from_csv(r) for r in records if r["Name"] != "Aggregated"), key=lambda r: _order(r.kind))
    failures, errors = [], []
    failures_file, errors_file = Path(f"{prefix}_failures.csv"), Path(f"{prefix}_exceptions.csv")
    if failures_file.is_file():
        with open(failures_file, newline="") as fh:
            failures = [
                {"method": r["Method"], "name": r["Name"], "error": r["Error"], "occurrences": int(r["Occurrences"])}
                for r in csv.DictReader(fh)
            ]
    if errors_file.is_file():
        with open(errors_file, newline="") as fh:
            errors = [
                {"count": int(r["Count"]), "message": r["Message"], "traceback": r["Traceback"]}
                for r in csv.DictReader(fh)
            ]
    callbacks = None
    if group_file is not None and group_file.is_file():
        callbacks = Row.from_group(json.loads(group_file.read_text()))
    settled = settled_callbacks(samples_file) if samples_file is not None and samples_file.is_file() else None
    return Result(kinds, callbacks, settled, total, failures, errors, max_failures, p99_target_ms)


def table(result: Result) -> str:
    """The figures as a Markdown table (the README's format), then failures and errors if any."""
    lines = [
        "| Request kind | Requests | Failed | p50 ms | p95 ms | p99 ms | Requests/s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]

    def line(row: Row, label: str | None = None) -> str:
        return (
            f"| {label or row.kind} | {row.requests} | {row.failures} | {row.p50_ms:.0f} | {row.p95_ms:.0f} "
            f"| {row.p99_ms:.0f} | {row.rps:.2f} |"
        )

    lines += [line(r) for r in result.kinds]
    if result.callbacks is not None:
        lines.append(line(result.callbacks, "**all Dash callbacks**"))
    for extra in (result.settled, result.in_app):
        if extra is not None:
            lines.append(line(extra, f"*{extra.kind}*"))
    lines.append(line(result.total, "**all requests**"))
    for failure in result.failures:
        lines.append(f"failed: {failure['occurrences']} x {failure['method']} {failure['name']}: {failure['error']}")
    for error in result.errors:
        lines.append(f"user-code error: {error['count']} x {error['message']}")
    return "\n".join(lines)
