"""bcrypt hashing and the password policy (in the spirit of NIST SP 800-63B: a length range, no
composition rules, and a refusal of passwords that are known to be common).

`common-passwords.txt.gz` is the 20,000-entry list Django ships (BSD licence; compiled by Royce
Williams from breach corpora, lower-cased, most common first), keeping the 8,354 entries of 8 or
more characters: shorter ones are refused by the length rule anyway."""

from __future__ import annotations

import base64
import concurrent.futures
import contextlib
import functools
import gzip
import hashlib
import logging
import os
import threading
from collections.abc import Iterator
from importlib.resources import files

import bcrypt

MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # NIST asks for at least 64; longer ones are pre-hashed for bcrypt below
COMMON_PASSWORDS_FILE = "common-passwords.txt.gz"


def _prepare(password: str) -> bytes:
    raw = password.encode("utf-8")
    if len(raw) > 72:  # bcrypt reads at most 72 bytes
        raw = base64.b64encode(hashlib.sha256(raw).digest())
    return raw


# bcrypt is meant to be slow (about 0.25 s of CPU per check here). Fifty people signing in at nine
# o'clock would take every core for seconds and stall everyone's page callbacks behind them, so the
# checks run on a few threads of their own at a lower scheduling priority: sign-ins queue for CPU,
# pages do not. (On Linux a thread's nice value is its own; elsewhere the threads run at normal
# priority, which is what they did before.)
HASH_THREADS = 1  # per process: several gunicorn workers and replicas share the cores already
HASH_NICENESS = 19  # the lowest priority: hashing runs on CPU time nothing else wants

log = logging.getLogger(__name__)


def _lower_priority() -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, 0, HASH_NICENESS)  # Linux: this thread only
    except (AttributeError, OSError):
        log.debug("Could not lower the priority of the password-hashing thread", exc_info=True)


@functools.cache
def _hashing_pool() -> concurrent.futures.ThreadPoolExecutor:
    return concurrent.futures.ThreadPoolExecutor(
        HASH_THREADS, thread_name_prefix="mmm-bcrypt", initializer=_lower_priority
    )


os.register_at_fork(after_in_child=_hashing_pool.cache_clear)  # a forked child has none of its parent's threads


def _hash(raw: bytes) -> str:
    return bcrypt.hashpw(raw, bcrypt.gensalt()).decode("ascii")


def _check(raw: bytes, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(raw, password_hash.encode("ascii"))
    except ValueError:
        return False


# A request thread waiting for the hashing thread is a thread no page can use: gunicorn runs 4 per
# worker, so at most SIGN_INS_AT_ONCE of them may wait on a password check at once, and one more
# sign-in is answered "try again in a second" at once instead of queueing (a non-blocking semaphore).
SIGN_INS_AT_ONCE = 2  # per process
_slots_lock = threading.Lock()
_slots_in_use = 0


class Busy(Exception):
    """Every sign-in slot of this process is taken (see sign_in_slot)."""


@contextlib.contextmanager
def sign_in_slot() -> Iterator[None]:
    """Hold one of this process's SIGN_INS_AT_ONCE password-check slots, or raise Busy without waiting."""
    global _slots_in_use
    with _slots_lock:
        if _slots_in_use >= SIGN_INS_AT_ONCE:
            raise Busy("Too many sign-ins at once; try again in a second.")
        _slots_in_use += 1
    try:
        yield
    finally:
        with _slots_lock:
            _slots_in_use -= 1


def hash_password(password: str) -> str:
    return _hashing_pool().submit(_hash, _prepare(password)).result()


def check_password(password: str, password_hash: str) -> bool:
    return _hashing_pool().submit(_check, _prepare(password), password_hash).result()


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased (read once per process)."""
    data = files("mmm_dash.web.auth").joinpath(COMMON_PASSWORDS_FILE).read_bytes()
    return frozenset(gzip.decompress(data).decode("utf-8").split())


def password_problem(password: str, email: str = "") -> str | None:
    """Why `password` may not be chosen, in one sentence, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD:
        return f"Passwords need at least {MIN_PASSWORD} characters."
    if len(password) > MAX_PASSWORD:
        return f"Passwords are at most {MAX_PASSWORD} characters."
    lowered = password.strip().lower()
    if lowered in common_passwords():
        return "That password is one of the most common ones and easy to guess; please choose another."
    email = (email or "").strip().lower()
    if email and lowered in {email, email.partition("@")[0]}:
        return "Please choose a password that is not your email address."
    return None


# A valid hash to compare against when the email is unknown, so timing does not reveal accounts. A
# literal rather than hashed at import: that cost every process a quarter of a second of bcrypt at
# start-up. Its cost factor (12) must stay the one `bcrypt.gensalt()` gives new hashes (a unit test holds it).
DUMMY_HASH = "$2b$12$nwwNggTgtjBBiNPG6ZeMYuBkr881wVNzxuivcQCA/Ja9EZnnk00ly"  # of "not-a-real-password"
