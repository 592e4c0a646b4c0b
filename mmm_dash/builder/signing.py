"""Signed bundle bytes: a bundle read from a shared store runs no code unless this deployment wrote it.

A bundle is a pickle, and unpickling runs code. Anyone who can write rows into a shared store (a
database account, a backup restored by mistake) must not be able to run code in the web replicas,
so every stored bundle carries an HMAC-SHA256 over its bytes, keyed by a key derived from
SECRET_KEY (which only the replicas and workers hold); the MAC is checked, in constant time, before
a single byte is unpickled.
"""

from __future__ import annotations

import hashlib
import hmac
import pickle
import zlib

from mmm_dash.core.bundle import Bundle

MAGIC = b"MMMB1\n"
MAC_BYTES = 32


class TamperedBundle(Exception):
    """Stored bytes that this deployment did not write (or wrote under another SECRET_KEY)."""


def signing_key(secret_key: str) -> bytes:
    """A key used for nothing but bundles, so a leak of one use does not weaken the other."""
    return hmac.new(secret_key.encode(), b"mmm-dash bundle store v1", hashlib.sha256).digest()


def seal(bundle: Bundle, key: bytes) -> bytes:
    payload = zlib.compress(pickle.dumps(bundle, protocol=pickle.HIGHEST_PROTOCOL), 6)
    return MAGIC + hmac.new(key, payload, hashlib.sha256).digest() + payload


def open_sealed(data: bytes, key: bytes) -> Bundle:
    """The bundle in `data`, only if its MAC is right; TamperedBundle otherwise (nothing unpickled)."""
    data = bytes(data)
    if not data.startswith(MAGIC) or len(data) <= len(MAGIC) + MAC_BYTES:
        raise TamperedBundle("it is not a signed mmm-dash bundle")
    mac, payload = data[len(MAGIC) : len(MAGIC) + MAC_BYTES], data[len(MAGIC) + MAC_BYTES :]
    if not hmac.compare_digest(mac, hmac.new(key, payload, hashlib.sha256).digest()):
        raise TamperedBundle("its signature does not match")
    bundle = pickle.loads(zlib.decompress(payload))  # noqa: S301  (verified above)
    if not isinstance(bundle, Bundle):
        raise TamperedBundle("it does not hold an analysis bundle")
    return bundle
