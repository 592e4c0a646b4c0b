"""Meridian's model health review (`meridian.analysis.review.ModelReviewer`), as plain data.

The builder runs Meridian's reviewer once per bundle and keeps what it said: each check's status,
its message with the numbers, Meridian's own recommendation and the channels it flagged. Nothing
here re-judges a check; `flags_for` only says which findings rest on a check that did not pass.
"""

from __future__ import annotations

import dataclasses
import enum

MODEL_LEVEL_CHECKS = ("convergence", "baseline", "bayesian_ppp", "goodness_of_fit")


class CheckStatus(enum.StrEnum):
    PASS = "pass"
    REVIEW = "review"
    FAIL = "fail"

    @property
    def label(self) -> str:
        return {"pass": "Pass", "review": "Review", "fail": "Fail"}[self.value]


@dataclasses.dataclass(frozen=True)
class ChannelCheck:
    channel: str
    status: CheckStatus
    details: dict  # Meridian's numbers for this channel


@dataclasses.dataclass(frozen=True)
class HealthCheck:
    key: str  # convergence, baseline, bayesian_ppp, goodness_of_fit, prior_posterior_shift, roi_consistency, ...
    name: str
    status: CheckStatus
    message: str  # Meridian's finding, with its numbers
    recommendation: str  # Meridian's advice for this outcome ("" when it gives none)
    details: dict  # Meridian's numbers (thresholds included)
    channels: tuple[ChannelCheck, ...] = ()

    def flagged_channels(self) -> tuple[str, ...]:
        """Channels this check did not pass, by Meridian's per-channel verdicts."""
        return tuple(c.channel for c in self.channels if c.status is not CheckStatus.PASS)


@dataclasses.dataclass(frozen=True)
class HealthReview:
    status: CheckStatus  # pass, review (Meridian: "passed with reviews") or fail
    summary: str  # Meridian's summary message
    score: float  # Meridian's health score, 0-100
    checks: tuple[HealthCheck, ...]
    skipped: tuple[str, ...] = ()  # checks Meridian did not run (e.g. every check after non-convergence)

    def check(self, key: str) -> HealthCheck | None:
        return next((c for c in self.checks if c.key == key), None)

    def not_passed(self) -> list[HealthCheck]:
        """Checks that failed, then those that need a review."""
        order = {CheckStatus.FAIL: 0, CheckStatus.REVIEW: 1}
        return sorted((c for c in self.checks if c.status is not CheckStatus.PASS), key=lambda c: order[c.status])

    def flags_for(self, channel: str | None = None) -> list[HealthCheck]:
        """Checks a finding about `channel` (None: the whole model) rests on and that did not pass:
        failed model-level checks always, and channel checks that flagged this channel."""
        out = [c for c in self.checks if c.key in MODEL_LEVEL_CHECKS and c.status is CheckStatus.FAIL]
        if channel is not None:
            out += [c for c in self.checks if c.key not in MODEL_LEVEL_CHECKS and channel in c.flagged_channels()]
        return out

    def as_dict(self) -> dict:
        """The review as JSON-ready data (`health.json` and the `health` section of `metrics.json`)."""
        return {
            "status": self.status.value,
            "summary": self.summary,
            "score": self.score,
            "checks": [
                {
                    "key": c.key,
                    "name": c.name,
                    "status": c.status.value,
                    "message": c.message,
                    "recommendation": c.recommendation,
                    "details": c.details,
                    "channels": [
                        {"channel": ch.channel, "status": ch.status.value, "details": ch.details} for ch in c.channels
                    ],
                }
                for c in self.checks
            ],
            "skipped": list(self.skipped),
        }
