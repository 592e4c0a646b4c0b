"""Sign-in throttling that holds under parallel requests and several workers, and that a stranger
cannot turn against an account's owner.

Every attempt is counted *before* its password is checked, with one atomic increment in the rate
limiter's storage (memory:// within a process, Redis across workers and machines), so twenty
simultaneous guesses cannot all slip past a check made after the fact. A correct password takes its
own attempt back out of every counter: a successful sign-in never counts against anyone.

- per client address: all sign-in attempts, any account (password spraying);
- per (account, client) pair: a hard limit, which a stranger can only use up for themselves;
- per account: the attempts that did not succeed. Past a few, every further attempt at that account,
  from anywhere, must carry a proof of work: a fresh, signed, single-use challenge and a number whose
  SHA-256 with it starts with `POW_BITS` zero bits. The login page's script (assets/signin.js) finds
  one in a second or two before posting; a guesser pays the same for every guess, however many
  addresses it rotates through. The proof is checked before the password, so a correct password
  never skips it (no oracle), and nothing ever refuses a correct password with its proof: the owner
  always gets in from a new browser. A browser that signed in to the account before (a signed "known
  device" cookie) is spared the proof.

An admin can clear an account's counters (/admin/accounts): the account's counters move to a new
generation, so its per-pair and per-account counts start afresh (the per-address ones do not).

When the shared storage (Redis) does not answer, the counters move to this process's memory for the
length of the outage rather than failing the sign-in: limits then hold per worker process instead of
across them (looser by the number of workers, but still limits), and Redis is tried again every few
seconds, so an outage neither locks everyone out nor makes every sign-in wait on a dead server.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import secrets
import threading
import time

from flask import Request, Response, current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage

from mmm_dash.web.extensions import limiter

PER_CLIENT = (30, 60)  # attempts, seconds
PER_PAIR = (5, 60)
POW_AFTER = (3, 15 * 60)  # unsuccessful attempts at an account within the window, past which a proof is needed
POW_BITS = 20  # leading zero bits of SHA-256(challenge:answer): about a million hashes, a second or two in a browser
POW_MAX_AGE = 10 * 60  # seconds a challenge may be used in
POW_MAX_ANSWER = 24  # characters
GENERATION_TTL = 24 * 3600  # longer than every window above
DEVICE_COOKIE = "mmm_device"
DEVICE_MAX_AGE = 90 * 24 * 3600
DEVICE_ACCOUNTS = 5  # accounts remembered per browser
RETRY_SECONDS = 5.0  # while the shared storage is down, how often one request tries it again

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0
    proof_needed: bool = False  # refused because the attempt carried no valid proof of work


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

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self._call("incr", key, expiry, amount)

    def get(self, key: str) -> int:
        return self._call("get", key)

    def clear(self, key: str) -> None:
        self._call("clear", key)


def _as_tuple(exceptions) -> tuple:
    return exceptions if isinstance(exceptions, tuple) else (exceptions,)


counters = Counters()


def _count(name: str, window: int) -> int:
    return counters.incr(f"mmm-login/{name}", window)


def _account(email: str) -> str:
    """The account's name in the counters, in its current generation (see clear_account)."""
    account = account_key(email)
    generation = counters.get(f"mmm-login/generation/{account}")
    return f"{account}.{generation}" if generation else account


def _keys(email: str, client: str) -> dict[str, tuple[str, tuple[int, int]]]:
    account = _account(email)
    return {
        "client": (f"client/{client}", PER_CLIENT),
        "pair": (f"pair/{account}/{client}", PER_PAIR),
        "account": (f"account/{account}", POW_AFTER),
    }


def proof_needed(email: str, known_device: bool = False) -> bool:
    """Whether an attempt at this account must carry a proof of work now."""
    if known_device:
        return False
    return counters.get(f"mmm-login/account/{_account(email)}") >= POW_AFTER[0]


def admit(email: str, client: str, known_device: bool, proof: tuple[str, str] | None = None) -> Verdict:
    """Count this attempt and say whether its password may be checked. `proof` is the (challenge,
    answer) the form carried; it is required once the account has seen failures (see the module doc)."""
    keys = _keys(email, client)
    for name, (limit, window) in (keys["client"], keys["pair"]):
        if _count(name, window) > limit:
            return Verdict(False, window)
    name, (limit, window) = keys["account"]
    tried = _count(name, window)  # counted first, so parallel attempts cannot all pass as "the first few"
    if tried > limit and not known_device and not proof_holds(*(proof or ("", ""))):
        counters.incr(f"mmm-login/{name}", window, -1)  # its password is not checked: not an attempt at it
        return Verdict(False, 0, proof_needed=True)
    return Verdict(True)


def succeeded(email: str, client: str) -> None:
    """A correct password: this attempt counts against nobody (and the pair's budget starts afresh)."""
    keys = _keys(email, client)
    counters.clear(f"mmm-login/{keys['pair'][0]}")
    for name in (keys["client"][0], keys["account"][0]):
        if counters.get(f"mmm-login/{name}") > 0:
            counters.incr(f"mmm-login/{name}", 1, -1)


def clear_account(email: str) -> None:
    """Forget the account's per-pair and per-account counts (an admin's action): a new generation."""
    counters.incr(f"mmm-login/generation/{account_key(email)}", GENERATION_TTL)


# -- proof of work ---------------------------------------------------------------------------------
def _proof_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="mmm-sign-in-proof")


def new_challenge() -> str:
    """A signed, single-use challenge (a random nonce, and the time it was issued in the signature)."""
    return _proof_serializer().dumps({"n": secrets.token_urlsafe(12)})


def leading_zero_bits(challenge: str, answer: str) -> int:
    digest = int.from_bytes(hashlib.sha256(f"{challenge}:{answer}".encode()).digest(), "big")
    return 256 - digest.bit_length()


def solve(challenge: str, bits: int | None = None) -> str:
    """What the browser's script does, in Python (tests and scripted clients): the smallest answer."""
    bits = POW_BITS if bits is None else bits
    answer = 0
    while leading_zero_bits(challenge, str(answer)) < bits:
        answer += 1
    return str(answer)


def proof_holds(challenge: str, answer: str) -> bool:
    """A challenge this app issued within POW_MAX_AGE, never used before, and solved to POW_BITS."""
    if not challenge or not answer or len(answer) > POW_MAX_ANSWER:
        return False
    try:
        issued = _proof_serializer().loads(challenge, max_age=POW_MAX_AGE)
    except BadSignature:
        return False
    if not isinstance(issued, dict) or not isinstance(issued.get("n"), str):
        return False
    if leading_zero_bits(challenge, answer) < POW_BITS:
        return False
    return _count(f"proof/{issued['n']}", POW_MAX_AGE) == 1  # single use: the second post of it is refused


# -- browsers that signed in before -----------------------------------------------------------------
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
