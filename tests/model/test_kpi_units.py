"""A model with both units (a KPI with revenue per KPI): the window engine's incremental KPI and marginal cost per
KPI equal Meridian's own `incremental_outcome(use_kpi=True)` and `1 / marginal_roi(use_kpi=True)`, for all geos
and for one. Tolerances as in test_windows.py: 1e-5 on the float32 national KPI cube, 2e-3 where the geo cubes
(float16) are read: one geo, and the marginal KPI (revenue over each geo's revenue per KPI)."""

from __future__ import annotations

import numpy as np
import pytest

from mmm_dash.core.windows import range_key, summarise
from tests.model.conftest import build_shape, meridian_model
from tests.model.test_windows import random_windows

pytestmark = pytest.mark.slow

SHAPE = "geo_organic_non_media"  # KPI conversions with revenue_per_conversion


@pytest.fixture(scope="module")
def both_units(tmp_path_factory):
    return build_shape(SHAPE, tmp_path_factory)


def _flat(tensor) -> np.ndarray:
    arr = np.asarray(tensor, dtype=np.float64)
    return arr.reshape(-1, *arr.shape[2:])


def test_kpi_and_marginal_cost_per_kpi_equal_meridians_use_kpi(both_units):
    from meridian.analysis import analyzer

    shape, model_dir, bundle = both_units
    assert bundle.info.has_both_units and bundle.info.draws_kept == bundle.info.n_posterior_draws
    an = analyzer.Analyzer(meridian_model(model_dir, shape))
    times = list(bundle.draws.times)
    (start, end), geo = random_windows(times, n=1, seed=5)[0], bundle.info.geos[1]
    selected = [t for t in times if start <= t <= end]
    for where, rel in ((None, 1e-5), (geo, 2e-3)):
        analysis = bundle.period(range_key(start, end), where)
        geos = None if where is None else [where]
        kpi = _flat(
            an.incremental_outcome(
                selected_times=selected, selected_geos=geos, use_kpi=True, include_non_paid_channels=False
            )
        )
        mroi = _flat(an.marginal_roi(selected_times=selected, selected_geos=geos, use_kpi=True))
        table = analysis.channel_table()
        theirs = {"incremental_kpi": summarise(kpi), "mcpik": summarise(1 / mroi)}
        for metric, tolerance in (("incremental_kpi", rel), ("mcpik", 2e-3)):
            for stat in ("mean", "ci_lo", "ci_hi"):
                ours = table[f"{metric}_{stat}"].to_numpy()
                np.testing.assert_allclose(ours, theirs[metric][stat], rtol=tolerance, err_msg=f"{where} {metric}")
