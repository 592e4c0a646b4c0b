"""bcrypt hashing; bcrypt reads at most 72 bytes, so longer passwords are pre-hashed."""

import base64
import hashlib

import bcrypt


def _prepare(password: str) -> bytes:
    raw = password.encode("utf-8")
    if len(raw) > 72:
        raw = base64.b64encode(hashlib.sha256(raw).digest())
    return raw


def hash_password(password: str) -> str:
    return bcrypt.hashpw(_prepare(password), bcrypt.gensalt()).decode("ascii")


def check_password(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(_prepare(password), password_hash.encode("ascii"))
    except ValueError:
        return False


# A valid hash to compare against when the email is unknown, so timing does not reveal accounts.
DUMMY_HASH = hash_password("not-a-real-password")
