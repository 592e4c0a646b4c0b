"""How far a model's numbers can be trusted, from convergence (R-hat, effective sample size, draws),
fit and Meridian's health review: one level, the reasons with their numbers, and what to fix.

Every page, the planner and the report show it (the trust banner), and insights soften their
probabilities and lead with what to fix when the level is low. The thresholds are Meridian's where
it has one (R-hat 1.2, its health review's verdicts) and ArviZ's guidance for the sample size.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import re

from mmm_dash.core.bundle import Bundle, PeriodAnalysis
from mmm_dash.core.health import MODEL_LEVEL_CHECKS, CheckStatus

RHAT_THRESHOLD = 1.2  # Meridian's convergence threshold (ConvergenceConfig) and rhat_summary's "bad" mark
MIN_ESS = 100  # bulk effective sample size below which intervals are unstable (ArviZ: about 100 per quantity)
MIN_DRAWS = 200  # fewer posterior draws: interval ends move visibly from one fit to the next
LOW_R2, CAUTION_R2 = 0.5, 0.75  # national R² of the window: below these the model misses much of the outcome
CAUTION_MAPE = 0.2
# Meridian's parameters behind channel effects (media, R&F, organic, non-media treatments); the rest
# (baseline knots, controls, noise) shape the baseline, and their sample sizes are shown on Diagnostics.
CHANNEL_PARAMS = re.compile(r"_(g?m|g?rf|g?om|g?orf)$|^(gamma_g?n|xi_n)$")


class TrustLevel(enum.StrEnum):
    HIGH = "high"
    CAUTION = "caution"
    LOW = "low"

    @property
    def rank(self) -> int:
        return {"high": 0, "caution": 1, "low": 2}[self.value]


@dataclasses.dataclass(frozen=True)
class TrustReason:
    level: TrustLevel
    what: str  # one sentence with the numbers
    fix: str  # what to do about it


@dataclasses.dataclass(frozen=True)
class Trust:
    level: TrustLevel
    reasons: tuple[TrustReason, ...]

    @property
    def low(self) -> bool:
        return self.level is TrustLevel.LOW

    @property
    def headline(self) -> str:
        if self.level is TrustLevel.HIGH:
            return (
                "The model converged, fits the data and passed Meridian's health review: "
                "its numbers can be read as stated."
            )
        worst = [r for r in self.reasons if r.level is self.level]
        lead = "Do not act on these numbers yet" if self.low else "Read these numbers with care"
        return f"{lead}: {worst[0].what}" + (f" (and {len(self.reasons) - 1} more)" if len(self.reasons) > 1 else "")

    @property
    def fixes(self) -> list[str]:
        return list(dict.fromkeys(r.fix for r in self.reasons))

    def qualify(self, sentence: str) -> str:
        """A probability statement, softened when trust is low (the banner carries any lesser caution)."""
        if not self.low:
            return sentence
        return f"{sentence} — but the model is not trustworthy yet (see the trust banner): treat it as provisional."


def _convergence(bundle: Bundle) -> list[TrustReason]:
    rhat, out = bundle.rhat, []
    if len(rhat):
        bad = rhat[rhat["max_r_hat"] > RHAT_THRESHOLD]
        if len(bad):
            worst = bad.sort_values("max_r_hat", ascending=False)
            names = ", ".join(f"{p} {v:.2f}" for p, v in zip(worst["param"][:4], worst["max_r_hat"][:4], strict=True))
            out.append(
                TrustReason(
                    TrustLevel.LOW,
                    f"the sampler did not converge: R-hat is above {RHAT_THRESHOLD} in {len(bad)} parameter "
                    f"group{'s' if len(bad) > 1 else ''} ({names})",
                    "Refit with more MCMC iterations (more adaptation, burn-in and draws) or simplify the model "
                    "(fewer knots, tighter priors) until every R-hat is below 1.2.",
                )
            )
        if "min_ess" in rhat:
            channel_params = rhat[[bool(CHANNEL_PARAMS.search(str(p))) for p in rhat["param"]]]
            ess = channel_params["min_ess"].dropna()
            if len(ess) and float(ess.min()) < MIN_ESS:
                low = rhat.loc[ess.idxmin()]
                out.append(
                    TrustReason(
                        TrustLevel.CAUTION,
                        f"the effective sample size of a channel parameter is small: {float(ess.min()):.0f} for "
                        f"{low['param']} (below {MIN_ESS}), so its intervals are unstable",
                        "Draw more posterior samples (or more chains) so every effective sample size passes 100.",
                    )
                )
    draws = bundle.info.n_posterior_draws
    if draws < MIN_DRAWS:
        out.append(
            TrustReason(
                TrustLevel.CAUTION,
                f"only {draws} posterior draws ({bundle.info.n_chains} chains × {bundle.info.n_draws})",
                f"Keep at least {MIN_DRAWS} posterior draws in all.",
            )
        )
    return out


def _fit(analysis: PeriodAnalysis) -> list[TrustReason]:
    r2, mape = analysis.fit.get("r_squared", math.nan), analysis.fit.get("mape", math.nan)
    where = analysis.period.label + (f", {analysis.geo}" if analysis.geo else "")
    if math.isfinite(r2) and r2 < LOW_R2:
        return [
            TrustReason(
                TrustLevel.LOW,
                f"the model explains little of the outcome: R² {r2:.2f} ({where})",
                "Check the data and add the drivers the model misses (controls such as price, promotions or "
                "seasonality) before reading channel effects.",
            )
        ]
    out = []
    if math.isfinite(r2) and r2 < CAUTION_R2:
        out.append(
            TrustReason(
                TrustLevel.CAUTION,
                f"the fit is modest: R² {r2:.2f} ({where})",
                "Look for missing controls or data problems in the weeks the model misses (Overview's fit chart).",
            )
        )
    if math.isfinite(mape) and mape > CAUTION_MAPE:
        out.append(
            TrustReason(
                TrustLevel.CAUTION,
                f"weekly errors are large: MAPE {mape:.0%} ({where})",
                "Look for outliers or missing drivers in the weeks with the largest errors.",
            )
        )
    return out


def _health(bundle: Bundle) -> list[TrustReason]:
    """Meridian's review: a model-level check that failed makes trust low and one to review calls for
    care; a channel-level check that failed calls for care (channel reviews show on the channel's verdict)."""
    health = bundle.health
    if health is None:
        return []
    out = []
    for check in health.not_passed():
        if check.key == "convergence":
            continue  # already stated from R-hat, with the parameter groups
        model_level = check.key in MODEL_LEVEL_CHECKS
        if not model_level and check.status is not CheckStatus.FAIL:
            continue
        level = TrustLevel.LOW if model_level and check.status is CheckStatus.FAIL else TrustLevel.CAUTION
        out.append(
            TrustReason(
                level,
                f"Meridian's health review, {check.name}: {check.status.label.lower()} — {check.message.rstrip('.')}",
                check.recommendation or "Follow Meridian's recommendation on the Diagnostics page.",
            )
        )
    return out


def assess_trust(bundle: Bundle, analysis: PeriodAnalysis) -> Trust:
    """The trust level of this view and its reasons, worst first."""
    reasons = _convergence(bundle) + _fit(analysis) + _health(bundle)
    reasons.sort(key=lambda r: -r.level.rank)
    level = reasons[0].level if reasons else TrustLevel.HIGH
    return Trust(level, tuple(reasons))
