"""Signed bundle bytes: a bundle read from a shared store runs no code unless this deployment wrote it,
and is served only for the model file it was built from.

A bundle is a pickle, and unpickling runs code. Anyone who can write rows into a shared store (a
database account, a backup restored by mistake) must not be able to run code in the web replicas,
so every stored bundle carries an HMAC-SHA256, keyed by a key derived from SECRET_KEY (which only
the replicas and workers hold); the MAC is checked, in constant time, before a single byte is
unpickled.

The MAC covers the bundle's store key and the sha256 of the model file it was built from, as well as
its bytes: a genuine row copied under another model's key does not verify, so one model's numbers are
never served for another file. Rows signed the older way (MAC over the bytes only, `MMMB1`) are
refused as `UnboundBundle`, and rebuilt.
"""

from __future__ import annotations

import hashlib
import hmac
import pickle
import zlib

from mmm_dash.core.bundle import Bundle

MAGIC = b"MMMB2\n"
LEGACY_MAGICS = (b"MMMB1\n",)  # signed over the payload only: not bound to a model
MAC_BYTES = 32


class TamperedBundle(Exception):
    """Stored bytes that this deployment did not write for this key (or wrote under another SECRET_KEY)."""


class UnboundBundle(TamperedBundle):
    """A row signed by an older mmm-dash, whose MAC does not name its model: not served, rebuilt instead."""


def signing_key(secret_key: str) -> bytes:
    """A key used for nothing but bundles, so a leak of one use does not weaken the other."""
    return hmac.new(secret_key.encode(), b"mmm-dash bundle store v1", hashlib.sha256).digest()


def _mac(key: bytes, bound_to: str, sha256: str, payload: bytes) -> bytes:
    """HMAC over the store key and file sha256 (each length-prefixed, so no two pairs read alike) and the payload."""
    mac = hmac.new(key, b"mmm-dash bundle v2\0", hashlib.sha256)
    for part in (bound_to.encode(), sha256.encode()):
        mac.update(len(part).to_bytes(8, "big") + part)
    mac.update(payload)
    return mac.digest()


def seal(bundle: Bundle, key: bytes, *, bound_to: str, sha256: str) -> bytes:
    """The signed bytes of `bundle`, valid only under the store key `bound_to` for the file `sha256`."""
    payload = zlib.compress(pickle.dumps(bundle, protocol=pickle.HIGHEST_PROTOCOL), 6)
    return MAGIC + _mac(key, bound_to, sha256, payload) + payload


def open_sealed(data: bytes, key: bytes, *, bound_to: str, sha256: str) -> Bundle:
    """The bundle in `data`, only if its MAC is right for the store key `bound_to` and the file `sha256`;
    TamperedBundle otherwise (UnboundBundle for a row signed the older way); nothing unpickled unless it is."""
    data = bytes(data)
    if data.startswith(LEGACY_MAGICS):
        raise UnboundBundle("it was signed by an older mmm-dash without naming its model file")
    if not data.startswith(MAGIC) or len(data) <= len(MAGIC) + MAC_BYTES:
        raise TamperedBundle("it is not a signed mmm-dash bundle")
    mac, payload = data[len(MAGIC) : len(MAGIC) + MAC_BYTES], data[len(MAGIC) + MAC_BYTES :]
    if not hmac.compare_digest(mac, _mac(key, bound_to, sha256, payload)):
        raise TamperedBundle("its signature does not match this model file")
    bundle = pickle.loads(zlib.decompress(payload))  # noqa: S301  (verified above)
    if not isinstance(bundle, Bundle):
        raise TamperedBundle("it does not hold an analysis bundle")
    if bundle.info.sha256 and bundle.info.sha256 != sha256:  # a writer's mistake, never served either
        raise TamperedBundle("it is the analysis of another model file")
    return bundle
