"""Window queries timed as the server answers them when its memo misses: any range of whole weeks, all
geos or one, summed from the bundle's per-draw cubes (`core.windows.analyse`)."""

from __future__ import annotations

import time

import numpy as np

from mmm_dash.core.bundle import Bundle
from mmm_dash.core.windows import analyse, parse_period, range_key

WINDOW_TARGET_MS = 20.0


def random_range_keys(bundle: Bundle, n: int, seed: int = 0) -> list[str]:
    """`n` range keys 'first..last' of random spans of the model's weeks (one week up to all of them)."""
    rng = np.random.default_rng(seed)
    times = bundle.draws.times
    ends = np.sort(rng.integers(0, len(times), (n, 2)), axis=1)
    return [range_key(times[lo], times[hi]) for lo, hi in ends]


def time_window_queries(bundle: Bundle, keys: list[str], geos: list[str | None]) -> np.ndarray:
    """Milliseconds of each `analyse` (with the key's parsing), query i on geo geos[i % len(geos)];
    the memo is bypassed, so every query is a miss."""
    out = np.empty(len(keys))
    for i, key in enumerate(keys):
        geo = geos[i % len(geos)]
        start = time.perf_counter()
        analyse(bundle, parse_period(bundle, key), geo)
        out[i] = (time.perf_counter() - start) * 1000
    return out


def window_benchmark(bundle: Bundle, n: int, seed: int = 0) -> dict[str, dict[str, float]]:
    """Median and p95 (ms) of `n` random ranges over all geos and, for a geo model, over one geo
    (a different random geo each query)."""
    keys = random_range_keys(bundle, n, seed)
    analyse(bundle, parse_period(bundle, keys[0]), None)  # first-call costs (imports, caches) are not a query's
    selections: dict[str, list[str | None]] = {"all_geos": [None]}
    if bundle.info.geos:
        rng = np.random.default_rng(seed + 1)
        selections["one_geo"] = [str(g) for g in rng.choice(bundle.info.geos, n)]
    results = {}
    for name, geos in selections.items():
        ms = time_window_queries(bundle, keys, geos)
        results[name] = {
            "median_ms": float(np.median(ms)),
            "p95_ms": float(np.percentile(ms, 95)),
            "max_ms": float(ms.max()),
            "queries": n,
        }
    return results
