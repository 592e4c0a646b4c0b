"""The bundled demo model: simulate an advertiser, fit Meridian, save model and truth."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from mmm_dash.builder.meridian.fitting import Progress, SamplingPlan, demo_frame_spec, fit_model, save_model
from mmm_dash.builder.meridian.simulate import (
    CONTROL_COLUMNS,
    DEMO_RF_CHANNEL,
    channel_columns,
    generated_geos,
    rf_channel_columns,
    simulate_demo_data,
)

# Time effects: one knot about every six weeks follows the season and trend without also fitting each
# week's noise, which Meridian's geo default (a knot per week) would absorb into a near-perfect fit.
DEMO_KNOTS = 26
DEMO_PLAN = SamplingPlan(burnin=150, keep=250)  # 2 chains x 250 draws: every R-hat below Meridian's 1.2


def truth_path_for(model_path: Path) -> Path:
    return model_path.with_name(model_path.name.split(".")[0] + ".truth.json")


def build_demo_model(
    out: Path,
    seed: int = 20240601,
    plan: SamplingPlan | None = None,
    progress: Progress = print,
    n_geos: int | None = None,
    rf: bool = False,
):
    """Fit the demo model and write it with its truth file; returns the fitted model. `n_geos`
    (generated regions instead of the demo's five) and `rf` (one reach & frequency channel more)
    make the larger models that benchmarks build bundles of; the defaults are the bundled demo."""
    plan = plan or dataclasses.replace(DEMO_PLAN, seed=seed)
    geos = generated_geos(n_geos) if n_geos is not None else None
    rf_channels = (DEMO_RF_CHANNEL,) if rf else ()
    data = simulate_demo_data(seed=seed, geos=geos, rf_channels=rf_channels)
    progress(
        f"simulated {data.truth['n_weeks']} weeks x {len(data.truth['geos'])} geos, "
        f"{len(data.channels) + len(rf_channels)} channels{' (1 R&F)' if rf else ''} "
        f"(media drive {data.truth['media_share_of_conversions']:.0%} of conversions)"
    )
    spec = demo_frame_spec(channel_columns(data.channels), CONTROL_COLUMNS, rf_channel_columns(rf_channels))
    mmm = fit_model(data.frame, spec, plan, progress=progress, model_spec_kwargs={"knots": DEMO_KNOTS})
    save_model(mmm, out)
    truth = dict(data.truth, sampling=plan.__dict__, knots=DEMO_KNOTS)
    truth_path_for(out).write_text(json.dumps(truth, indent=2) + "\n")
    return mmm
