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

import pandas as pd

from mmm_dash.core.bundle import Bundle, PeriodAnalysis
from mmm_dash.core.formatting import prob
from mmm_dash.core.health import MODEL_LEVEL_CHECKS, CheckStatus, HealthReview

RHAT_THRESHOLD = 1.2  # Meridian's convergence threshold (ConvergenceConfig) and rhat_summary's "bad" mark
MIN_ESS = 100  # bulk effective sample size below which intervals are unstable (ArviZ: about 100 per quantity)
MIN_DRAWS = 200  # fewer posterior draws: interval ends move visibly from one fit to the next
LOW_R2, CAUTION_R2 = 0.5, 0.75  # national R² of the window: below these the model misses much of the outcome
CAUTION_MAPE = 0.2
# Meridian's parameters behind channel effects (media, R&F, organic, non-media treatments); the rest
# (baseline knots, controls, noise) shape the baseline, and their sample sizes are shown on Diagnostics.
CHANNEL_PARAMS = re.compile(r"_(g?m|g?rf|g?om|g?orf)$|^(gamma_g?n|xi_n)$")
# What a probability (or a planner link resting on one) says when the sampler did not converge.
NOT_MEANINGFUL = "not meaningful until the model converges"


@dataclasses.dataclass(frozen=True)
class SampleSize:
    """The effective sample size every page quotes: the smallest bulk ESS (ArviZ) over the parameter
    groups behind channel effects (CHANNEL_PARAMS), and the group it belongs to."""

    value: float
    param: str

    SCOPE = "channel parameters"  # what the figure is over, as labels write it


def channel_ess(rhat: pd.DataFrame) -> SampleSize | None:
    """The one definition of "effective sample size" the banner, Compare, Diagnostics and trust use:
    the smallest bulk ESS among channel parameter groups (None when the bundle has none). Baseline
    groups (knots, controls, noise) are listed on Diagnostics but do not enter this figure."""
    if not len(rhat) or "min_ess" not in rhat:
        return None
    channel = rhat[[bool(CHANNEL_PARAMS.search(str(p))) for p in rhat["param"]]]
    ess = channel["min_ess"].dropna()
    if not len(ess):
        return None
    return SampleSize(float(ess.min()), str(channel.loc[ess.idxmin(), "param"]))


def converged(bundle: Bundle) -> bool:
    """The sampler converged: every R-hat is at most Meridian's 1.2 and Meridian's convergence check
    did not fail. When it did not, no posterior probability (and no planner move resting on one) is
    meaningful, and every page, insight, export and the report says so instead of showing one."""
    rhat = bundle.rhat
    if len(rhat) and bool((rhat["max_r_hat"] > RHAT_THRESHOLD).any()):
        return False
    check = bundle.health.check("convergence") if bundle.health is not None else None
    return check is None or check.status is not CheckStatus.FAIL


def probability_value(p: float | None, meaningful: bool) -> float | None:
    """A probability as downloads carry it: None (null, an empty CSV cell) when it is not meaningful."""
    return p if meaningful else None


def not_meaningful_reason(meaningful: bool) -> str | None:
    """Why a download carries no probabilities (None when it carries them)."""
    return None if meaningful else f"The sampler did not converge: probabilities are {NOT_MEANINGFUL}."


def probability_text(event: str, p: float | None, meaningful: bool) -> str:
    """'P(ROI > 1) = 87%', or 'P(ROI > 1): not meaningful until the model converges' when the sampler
    did not converge: the one way pages, insights and the report write a posterior probability."""
    if not meaningful:
        return f"P({event}): {NOT_MEANINGFUL}"
    return f"P({event}) {prob(p)}"


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
    check: str = "meridian"  # which check: convergence, ess, draws, fit or meridian (its review)
    short: str = ""  # the check and its numbers in a few words, for the combined verdict


@dataclasses.dataclass(frozen=True)
class Trust:
    level: TrustLevel
    reasons: tuple[TrustReason, ...]
    converged: bool = True  # see `converged`
    verdict: str = ""  # the combined verdict: the level, the check that drives it, and Meridian's review

    @property
    def low(self) -> bool:
        return self.level is TrustLevel.LOW

    @property
    def verdict_reason(self) -> str:
        """The combined verdict without its level word ("R² 0.33 is below 0.5 — Meridian's own ...")."""
        return self.verdict.split(": ", 1)[-1]

    @property
    def probabilities_meaningful(self) -> bool:
        """Posterior probabilities (and planner moves chosen on them) mean something: the sampler converged."""
        return self.converged

    def p(self, event: str, p: float | None) -> str:
        """'P(event) = 87%', or that it is not meaningful until the model converges (`probability_text`)."""
        return probability_text(event, p, self.converged)

    def probability(self, p: float | None) -> float | None:
        """A probability as exports carry it: None when it is not meaningful (see `probability_reason`)."""
        return probability_value(p, self.converged)

    @property
    def probability_reason(self) -> str | None:
        """Why exports carry no probability (None when they carry one)."""
        return not_meaningful_reason(self.converged)

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
        if not self.converged:
            return f"{sentence} — the sampler did not converge, so this is no basis for action until it does."
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
                    "convergence",
                    f"R-hat {float(worst['max_r_hat'].iloc[0]):.2f} is above {RHAT_THRESHOLD}",
                )
            )
        ess = channel_ess(rhat)
        if ess is not None and ess.value < MIN_ESS:
            out.append(
                TrustReason(
                    TrustLevel.CAUTION,
                    f"the effective sample size of a channel parameter is small: {ess.value:.0f} for "
                    f"{ess.param} (below {MIN_ESS}), so its intervals are unstable",
                    "Draw more posterior samples (or more chains) so every effective sample size passes 100.",
                    "ess",
                    f"effective sample size {ess.value:.0f} ({ess.param}) is below {MIN_ESS}",
                )
            )
    draws = bundle.info.n_posterior_draws
    if draws < MIN_DRAWS:
        out.append(
            TrustReason(
                TrustLevel.CAUTION,
                f"only {draws} posterior draws ({bundle.info.n_chains} chains × {bundle.info.n_draws})",
                f"Keep at least {MIN_DRAWS} posterior draws in all.",
                "draws",
                f"{draws} posterior draws are fewer than {MIN_DRAWS}",
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
                "fit",
                f"R² {r2:.2f} is below {LOW_R2}",
            )
        ]
    out = []
    if math.isfinite(r2) and r2 < CAUTION_R2:
        out.append(
            TrustReason(
                TrustLevel.CAUTION,
                f"the fit is modest: R² {r2:.2f} ({where})",
                "Look for missing controls or data problems in the weeks the model misses (Overview's fit chart).",
                "fit",
                f"R² {r2:.2f} is below {CAUTION_R2}",
            )
        )
    if math.isfinite(mape) and mape > CAUTION_MAPE:
        out.append(
            TrustReason(
                TrustLevel.CAUTION,
                f"weekly errors are large: MAPE {mape:.0%} ({where})",
                "Look for outliers or missing drivers in the weeks with the largest errors.",
                "fit",
                f"MAPE {mape:.0%} is above {CAUTION_MAPE:.0%}",
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
    rhat = bundle.rhat
    rhat_failed = bool(len(rhat)) and bool((rhat["max_r_hat"] > RHAT_THRESHOLD).any())
    for check in health.not_passed():
        if check.key == "convergence" and rhat_failed:
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
                "meridian",
                f"Meridian's {check.name} check: {check.status.label.lower()}",
            )
        )
    return out


# What Meridian's review does not look at, for each of the dashboard's own checks: why the banner can be
# less sure than Meridian's green review.
NOT_IN_MERIDIAN = {
    "fit": "its goodness-of-fit check only flags an R² of 0 or below, over the whole data, not this window's fit",
    "ess": "its checks do not cover effective sample size",
    "draws": "its checks do not cover the number of draws",
    "convergence": "its convergence check, on the same 1.2 threshold, should agree: rebuild the bundle",
}
LEVEL_WORDS = {TrustLevel.HIGH: "High", TrustLevel.CAUTION: "Caution", TrustLevel.LOW: "Low"}


def review_phrase(health: HealthReview) -> str:
    """How the combined verdict names Meridian's review: 'Meridian's own review passes (89/100)'."""
    verb = {CheckStatus.PASS: "passes", CheckStatus.REVIEW: "passes with reviews", CheckStatus.FAIL: "fails"}
    return f"Meridian's own review {verb[health.status]} ({health.score:.0f}/100)"


def combined_verdict(level: TrustLevel, reasons: list[TrustReason], health: HealthReview | None, basis: str) -> str:
    """One sentence: the level, the check that drives it, and how Meridian's own review relates to it,
    e.g. 'Low: R² 0.33 is below 0.5 — Meridian's own review passes (89/100), but its goodness-of-fit
    check only flags ...'. `basis`: the numbers a high level rests on."""
    head = LEVEL_WORDS[level]
    if level is TrustLevel.HIGH:
        review = f" — and {review_phrase(health)}" if health is not None else ""
        return f"{head}: {basis}{review}."
    drivers = [r for r in reasons if r.level is level]
    driver = drivers[0]
    more = f" (and {len(reasons) - 1} more reason{'s' if len(reasons) > 2 else ''})" if len(reasons) > 1 else ""
    text = f"{head}: {driver.short or driver.what}{more}"
    if health is None:
        return text + "; this bundle has no Meridian review."
    if driver.check == "meridian":
        return f"{text} — from Meridian's own review ({health.status.label.lower()}, {health.score:.0f}/100)."
    if health.status is CheckStatus.FAIL:
        return f"{text} — {review_phrase(health)} as well."
    return f"{text} — {review_phrase(health)}, but {NOT_IN_MERIDIAN[driver.check]}."


def high_basis(bundle: Bundle, analysis: PeriodAnalysis) -> str:
    """The numbers a high level rests on (the banner's one line when trust is high)."""
    rhat, parts = bundle.rhat, []
    if len(rhat):
        parts.append(f"max R-hat {rhat['max_r_hat'].max():.2f}")
    ess = channel_ess(rhat)
    if ess is not None:
        parts.append(f"smallest effective sample size of {SampleSize.SCOPE} {ess.value:.0f} ({ess.param})")
    parts.append(f"{bundle.info.n_posterior_draws} draws")
    r2 = analysis.fit.get("r_squared")
    if r2 is not None:
        parts.append(f"R² {r2:.2f}")
    return ", ".join(parts)


def assess_trust(bundle: Bundle, analysis: PeriodAnalysis) -> Trust:
    """The trust level of this view and its reasons, worst first."""
    reasons = _convergence(bundle) + _fit(analysis) + _health(bundle)
    reasons.sort(key=lambda r: -r.level.rank)
    level = reasons[0].level if reasons else TrustLevel.HIGH
    verdict = combined_verdict(level, reasons, bundle.health, high_basis(bundle, analysis))
    return Trust(level, tuple(reasons), converged(bundle), verdict)
