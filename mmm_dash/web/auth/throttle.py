"""Sign-in throttling that holds under parallel requests and several workers.

Every attempt is counted *before* its password is checked, with one atomic increment in the rate
limiter's storage (memory:// within a process, Redis across workers and machines), so twenty
simultaneous guesses cannot all slip past a check made after the fact. Three counters:

- per client address: all sign-in attempts, any account (password spraying);
- per (account, client) pair: a hard limit, which a stranger can only use up for themselves;
- per account, from clients that have not signed in to it before: a higher ceiling beyond which
  attempts are let through one at a time with a growing delay, so guessing from many addresses
  slows to a crawl while the owner, whose browser carries a signed "known device" cookie from an
  earlier sign-in, is never locked out by a stranger.
"""

from __future__ import annotations

import dataclasses
import hashlib

from flask import Request, Response, current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from mmm_dash.web.extensions import limiter

PER_CLIENT = (30, 60)  # attempts, seconds
PER_PAIR = (5, 60)
ACCOUNT_CEILING = (20, 15 * 60)
MAX_DELAY = 300  # seconds between attempts at an account past its ceiling
DEVICE_COOKIE = "mmm_device"
DEVICE_MAX_AGE = 90 * 24 * 3600
DEVICE_ACCOUNTS = 5  # accounts remembered per browser


@dataclasses.dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0


def account_key(email: str) -> str:
    """A short, stable name for an account in the counters (no address stored in Redis)."""
    return hashlib.sha256((email or "").strip().lower().encode()).hexdigest()[:24]


def _count(name: str, window: int) -> int:
    return limiter.storage.incr(f"mmm-login/{name}", window)


def admit(email: str, client: str, known_device: bool) -> Verdict:
    """Count this attempt and say whether its password may be checked."""
    account = account_key(email)
    for name, (limit, window) in ((f"client/{client}", PER_CLIENT), (f"pair/{account}/{client}", PER_PAIR)):
        if _count(name, window) > limit:
            return Verdict(False, window)
    if known_device:
        return Verdict(True)
    ceiling, window = ACCOUNT_CEILING
    tried = limiter.storage.get(f"mmm-login/account/{account}")
    if tried >= ceiling:
        delay = min(2 ** (tried - ceiling), MAX_DELAY)
        if _count(f"slot/{account}", delay) > 1:  # someone already used this slot
            return Verdict(False, delay)
    _count(f"account/{account}", window)
    return Verdict(True)


def succeeded(email: str, client: str) -> None:
    """A correct password: the pair's budget is the owner's own, so it starts afresh."""
    limiter.storage.clear(f"mmm-login/pair/{account_key(email)}/{client}")


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="mmm-known-device")


def known_accounts(request: Request) -> list[str]:
    token = request.cookies.get(DEVICE_COOKIE)
    if not token:
        return []
    try:
        accounts = _serializer().loads(token, max_age=DEVICE_MAX_AGE)
    except BadSignature:
        return []
    return [a for a in accounts if isinstance(a, str)] if isinstance(accounts, list) else []


def is_known_device(request: Request, email: str) -> bool:
    return account_key(email) in known_accounts(request)


def remember_device(request: Request, response: Response, email: str) -> None:
    """Mark this browser as one that has signed in to `email` (a signed cookie, read only by /login)."""
    account = account_key(email)
    accounts = [account] + [a for a in known_accounts(request) if a != account]
    response.set_cookie(
        DEVICE_COOKIE,
        _serializer().dumps(accounts[:DEVICE_ACCOUNTS]),
        max_age=DEVICE_MAX_AGE,
        path="/login",
        httponly=True,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        samesite="Lax",
    )
