"""Meridian's model health review (`ModelReviewer`), run once per bundle and kept as plain data."""

from __future__ import annotations

import hashlib
import math
import warnings

import numpy as np

from mmm_dash.core.health import ChannelCheck, CheckStatus, HealthCheck, HealthReview

# Meridian's result class -> (our key, the name pages show), in Meridian's order of checks.
CHECKS = {
    "ConvergenceCheckResult": ("convergence", "Convergence (R-hat)"),
    "BaselineCheckResult": ("baseline", "Negative baseline"),
    "BayesianPPPCheckResult": ("bayesian_ppp", "Bayesian posterior predictive p-value"),
    "GoodnessOfFitCheckResult": ("goodness_of_fit", "Goodness of fit"),
    "PriorPosteriorShiftCheckResult": ("prior_posterior_shift", "Prior-posterior shift"),
    "ROIConsistencyCheckResult": ("roi_consistency", "ROI consistency with the priors"),
    "ImplausibleROICheckResult": ("implausible_roi", "Implausible ROI"),
    "HighVarianceCheckResult": ("high_variance", "High ROI variance"),
    "PotentialBiasCheckResult": ("potential_bias", "Potential bias (missing confounders)"),
}


def _status(meridian_status) -> CheckStatus:
    return CheckStatus(str(meridian_status.name).lower())


def _plain(value):
    """Meridian's detail values as JSON-ready numbers, strings and lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in (value.tolist() if isinstance(value, np.ndarray) else value)]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        value = float(value)
        return value if math.isfinite(value) else None
    return str(value)


def _details(result) -> dict:
    try:
        return _plain(dict(result.details))
    except Exception:  # a details property that cannot be read is not worth failing the build
        return {}


def _check(result) -> HealthCheck:
    key, name = CHECKS.get(type(result).__name__, (type(result).__name__, type(result).__name__))
    full = str(result.recommendation)
    advice = str(result.case.recommendation or "")
    message = full[: -len(advice)].strip() if advice and full.endswith(advice) else full
    channels = tuple(
        ChannelCheck(str(c.channel_name), _status(c.case.status), _details(c))
        for c in getattr(result, "channel_results", None) or ()
    )
    return HealthCheck(key, name, _status(result.case.status), message, advice, _details(result), channels)


def review_model(mmm, seed_text: str = "") -> HealthReview:
    """Run every check of Meridian's ModelReviewer on the model, as Meridian configures them.

    Its posterior predictive p-value draws from NumPy's global generator; seeding it from `seed_text`
    (the model file's sha256; the generator is restored afterwards) makes a file's bundle the same
    wherever and whenever it is built."""
    from meridian.analysis.review import reviewer

    state = np.random.get_state()
    np.random.seed(int(hashlib.sha256(seed_text.encode()).hexdigest()[:8], 16))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            summary = reviewer.ModelReviewer(model_context=mmm.model_context, inference_data=mmm.inference_data).run()
    finally:
        np.random.set_state(state)
    checks = tuple(_check(r) for r in summary.results)
    status = _status(summary.overall_status)
    if status is CheckStatus.PASS and any(c.status is CheckStatus.REVIEW for c in checks):
        status = CheckStatus.REVIEW  # Meridian: "Passed with reviews: Review is needed."
    ran = {c.key for c in checks}
    skipped = tuple(name for key, name in CHECKS.values() if key not in ran)
    return HealthReview(status, str(summary.summary_message), float(summary.health_score), checks, skipped)
