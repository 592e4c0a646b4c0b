"""Meridian's own BudgetOptimizer on a model, for the checks that hold the planner to it (`bench` and
the model tests). Pages and insights use the planner's optimizer on the bundle's curves; this is
the reference it must reach at least 99% of."""

from __future__ import annotations

import time

import numpy as np

from mmm_dash.core.bundle import CONFIDENCE, DEFAULT_BOUND, OptimizationResult, Period

BUDGET_FACTORS = (0.8, 1.0, 1.2)


def meridian_optimizations(mmm, period: Period, use_kpi: bool) -> dict[float, OptimizationResult]:
    """Meridian's fixed-budget optimum of `period` at 0.8x, 1x and 1.2x its historical budget, within
    +-DEFAULT_BOUND of each channel's spend, on historical frequency (the curves the planner uses)."""
    from meridian.analysis import optimizer

    budget_optimizer = optimizer.BudgetOptimizer(mmm)
    results: dict[float, OptimizationResult] = {}
    historical_budget = None
    for factor in sorted(BUDGET_FACTORS, key=lambda f: f != 1.0):  # historical budget first
        start = time.perf_counter()
        res = budget_optimizer.optimize(
            start_date=period.start,
            end_date=period.end,
            fixed_budget=True,
            budget=None if factor == 1.0 else historical_budget * factor,
            use_optimal_frequency=False,  # same curves as the dashboard's (historical frequency)
            use_kpi=use_kpi,
            confidence_level=CONFIDENCE,
            spend_constraint_lower=DEFAULT_BOUND,  # Meridian's default too; named so both sides agree
            spend_constraint_upper=DEFAULT_BOUND,
        )
        opt, non = res.optimized_data, res.nonoptimized_data
        if factor == 1.0:
            historical_budget = float(non.attrs["budget"])
        hist = np.asarray(non["spend"].values, dtype=float)
        results[factor] = OptimizationResult(
            budget_factor=factor,
            budget=float(opt.attrs["budget"]),
            channels=tuple(str(c) for c in opt.channel.values),
            historical_spend=hist,
            optimal_spend=np.asarray(opt["spend"].values, dtype=float),
            lower_bound=hist * (1 - DEFAULT_BOUND),
            upper_bound=hist * (1 + DEFAULT_BOUND),
            nonoptimized_outcome=np.asarray(non["incremental_outcome"].sel(metric="mean").values, dtype=float),
            optimal_outcome=np.asarray(opt["incremental_outcome"].sel(metric="mean").values, dtype=float),
            meridian_seconds=time.perf_counter() - start,
        )
    return dict(sorted(results.items()))
