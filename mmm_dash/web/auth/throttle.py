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

When the shared storage (Redis) does not answer, the counters move to this process's memory for the
length of the outage rather than failing the sign-in: limits then hold per worker process instead of
across them (looser by the number of workers, but still limits), and Redis is tried again every few
seconds, so an outage neither locks everyone out nor makes every sign-in wait on a dead server.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import threading
import time

from flask import Request, Response, current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage

from mmm_dash.web.extensions import limiter

PER_CLIENT = (30, 60)  # attempts, seconds
PER_PAIR = (5, 60)
ACCOUNT_CEILING = (20, 15 * 60)
MAX_DELAY = 300  # seconds between attempts at an account past its ceiling
DEVICE_COOKIE = "mmm_device"
DEVICE_MAX_AGE = 90 * 24 * 3600
DEVICE_ACCOUNTS = 5  # accounts remembered per browser
RETRY_SECONDS = 5.0  # while the shared storage is down, how often one request tries it again

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0


def account_key(email: str) -> str:
    """A short, stable name for an account in the counters (no address stored in Redis)."""
    return hashlib.sha256((email or "").strip().lower().encode()).hexdigest()[:24]


class Counters:
    """The limiter's storage, or in-process counters while it does not answer (see the module doc)."""

    def __init__(self, retry_seconds: float = RETRY_SECONDS, clock=time.monotonic):
        self.retry_seconds = retry_seconds
        self.clock = clock
        self._fallback: MemoryStorage | None = None
        self._lock = threading.Lock()
        self._shared: Storage | None = None
        self._down_since: float | None = None  # clock() when the outage was noticed
        self._next_try = 0.0

    @property
    def fallback(self) -> MemoryStorage:
        """Made on first use: MemoryStorage starts a timer thread, which most processes never need."""
        with self._lock:
            if self._fallback is None:
                self._fallback = MemoryStorage()
            return self._fallback

    @property
    def degraded(self) -> bool:
        return self._down_since is not None

    def _call(self, operation: str, *args):
        shared = limiter.storage
        with self._lock:
            if shared is not self._shared:  # another app's init_app swapped the storage: start afresh
                self._shared, self._down_since, self._next_try = shared, None, 0.0
            in_outage = self._down_since is not None
            probe = not in_outage or self.clock() >= self._next_try
            if probe and in_outage:
                self._next_try = self.clock() + self.retry_seconds  # one request probes, the rest go on
        if probe:
            try:
                result = getattr(shared, operation)(*args)
            except (StorageError, *_as_tuple(shared.base_exceptions)) as exc:
                self._went_down(exc)
            else:
                if in_outage:
                    self._came_back()
                return result
        return getattr(self.fallback, operation)(*args)

    def _went_down(self, exc: Exception) -> None:
        with self._lock:
            first = self._down_since is None
            if first:
                self._down_since = self.clock()
            self._next_try = self.clock() + self.retry_seconds
        if first:  # once per outage, not once per sign-in
            log.warning(
                "Sign-in counters: the rate-limit storage does not answer (%s); counting in this process's "
                "memory until it does (retried every %.0f s).",
                exc,
                self.retry_seconds,
            )

    def _came_back(self) -> None:
        with self._lock:
            since, self._down_since = self._down_since, None
        if since is not None:
            log.warning("Sign-in counters: the rate-limit storage answers again after %.0f s.", self.clock() - since)

    def incr(self, key: str, expiry: int) -> int:
        return self._call("incr", key, expiry)

    def get(self, key: str) -> int:
        return self._call("get", key)

    def clear(self, key: str) -> None:
        self._call("clear", key)


def _as_tuple(exceptions) -> tuple:
    return exceptions if isinstance(exceptions, tuple) else (exceptions,)


counters = Counters()


def _count(name: str, window: int) -> int:
    return counters.incr(f"mmm-login/{name}", window)


def admit(email: str, client: str, known_device: bool) -> Verdict:
    """Count this attempt and say whether its password may be checked."""
    account = account_key(email)
    for name, (limit, window) in ((f"client/{client}", PER_CLIENT), (f"pair/{account}/{client}", PER_PAIR)):
        if _count(name, window) > limit:
            return Verdict(False, window)
    if known_device:
        return Verdict(True)
    ceiling, window = ACCOUNT_CEILING
    tried = counters.get(f"mmm-login/account/{account}")
    if tried >= ceiling:
        delay = min(2 ** (tried - ceiling), MAX_DELAY)
        if _count(f"slot/{account}", delay) > 1:  # someone already used this slot
            return Verdict(False, delay)
    _count(f"account/{account}", window)
    return Verdict(True)


def succeeded(email: str, client: str) -> None:
    """A correct password: the pair's budget is the owner's own, so it starts afresh."""
    counters.clear(f"mmm-login/pair/{account_key(email)}/{client}")


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
