"""bcrypt hashing and the password policy (in the spirit of NIST SP 800-63B: a length range, no
composition rules, and a refusal of passwords that are known to be common).

`common-passwords.txt.gz` is the 20,000-entry list Django ships (BSD licence; compiled by Royce
Williams from breach corpora, lower-cased, most common first), keeping the 8,354 entries of 8 or
more characters: shorter ones are refused by the length rule anyway."""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
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


def hash_password(password: str) -> str:
    return bcrypt.hashpw(_prepare(password), bcrypt.gensalt()).decode("ascii")


def check_password(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(_prepare(password), password_hash.encode("ascii"))
    except ValueError:
        return False


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


# A valid hash to compare against when the email is unknown, so timing does not reveal accounts.
DUMMY_HASH = hash_password("not-a-real-password")
