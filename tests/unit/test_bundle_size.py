"""The largest models the app is sized for keep their bundle under 100 MB pickled, so the cache, the
web process's memory and a worker's hand-over stay bounded (draw_budget gives the Monte Carlo
reasoning behind the draws kept)."""

from __future__ import annotations

import pickle

from mmm_dash.core.draw_budget import DRAW_BUDGET_BYTES, MAX_DRAWS, MIN_DRAWS
from tests.unit.synthetic import sized_bundle

MAX_BUNDLE_BYTES = 100_000_000


def test_a_50_geo_8_channel_3_year_bundle_pickles_under_100_mb():
    """4 chains x 250 draws of a 50-geo, 156-week, 8-channel model: draws_to_keep thins them to what
    fits DRAW_BUDGET_BYTES, and everything else the bundle holds fits in the remaining 20 MB."""
    bundle = sized_bundle(n_geos=50, n_weeks=156, n_channels=8, n_chains=4, n_draws=250)
    kept = bundle.info.draws_kept
    assert MIN_DRAWS <= kept < MAX_DRAWS  # thinned, not to the floor
    assert bundle.draws.n_draws == kept and next(iter(bundle.curves.values())).draws.shape[0] == kept
    assert bundle.draws.nbytes < DRAW_BUDGET_BYTES
    size = len(pickle.dumps(bundle, protocol=5))
    assert size < MAX_BUNDLE_BYTES, f"{size / 1e6:.1f} MB pickled with {kept} draws"


def test_the_sized_bundle_answers_a_window_and_a_geo():
    """The sized bundle is a coherent one (its shapes agree), so its size is a real bundle's."""
    bundle = sized_bundle(n_geos=3, n_weeks=156, n_channels=8, n_chains=2, n_draws=100)
    assert bundle.info.draws_kept == 200
    for geo in (None, "Region 02"):
        analysis = bundle.period("2024", geo)
        assert analysis.draws.incremental.shape == (200, 8)
