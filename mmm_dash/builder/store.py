"""Built bundles, with an in-process memo: bundles never change once built, so each process
unpickles a bundle at most once.

`BundleStore` keeps them in this machine's CACHE_DIR (diskcache; only the app's own user can write
there). `SqlBundleStore` keeps them as rows in the shared database for web replicas and workers on
several machines (BUNDLE_STORE=postgres), signed for their key and model file and verified before
use (`builder.signing`).
A diskcache directory is never to be shared between machines: SQLite over NFS corrupts.
"""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import diskcache
import sqlalchemy as sa

from mmm_dash.builder.keys import key_sha256
from mmm_dash.builder.signing import TamperedBundle, open_sealed, seal
from mmm_dash.builder.tables import bundle_blobs
from mmm_dash.core.bundle import Bundle

__all__ = ["BundleStore", "SqlBundleStore", "TamperedBundle"]

SIZE_LIMIT = 2**31


class _Memo:
    def __init__(self):
        self._memo: dict[str, Bundle] = {}
        self._lock = threading.Lock()

    def memo_get(self, key: str) -> Bundle | None:
        with self._lock:
            return self._memo.get(key)

    def memo_put(self, key: str, bundle: Bundle) -> None:
        with self._lock:
            self._memo[key] = bundle

    def memo_drop(self, key: str) -> None:
        with self._lock:
            self._memo.pop(key, None)


class BundleStore(_Memo):
    """Bundles in CACHE_DIR/bundles (one machine)."""

    def __init__(self, cache_dir: Path):
        super().__init__()
        self.directory = Path(cache_dir) / "bundles"
        self._cache: diskcache.Cache | None = None

    @property
    def cache(self) -> diskcache.Cache:
        if self._cache is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._cache = diskcache.Cache(str(self.directory), size_limit=SIZE_LIMIT)
        return self._cache

    def get(self, key: str) -> Bundle | None:
        """The bundle stored under `key`, or None (cheap when absent: no unpickling)."""
        bundle = self.memo_get(key)
        if bundle is not None:
            return bundle
        if ("bundle", key) not in self.cache:
            return None
        bundle = self.cache.get(("bundle", key))
        if not isinstance(bundle, Bundle):
            return None
        self.memo_put(key, bundle)
        return bundle

    def put(self, key: str, bundle: Bundle) -> None:
        self.cache.set(("bundle", key), bundle)
        self.memo_put(key, bundle)

    def delete(self, key: str) -> None:
        self.cache.delete(("bundle", key))
        self.memo_drop(key)

    def check(self) -> None:
        """Raise if the store cannot be read (readiness)."""
        self.cache.get(("check",))


class SqlBundleStore(_Memo):
    """Signed bundles as rows of `bundle_blobs` in the shared database, keyed by bundle key."""

    def __init__(self, engine: sa.Engine, signing_key: bytes):
        super().__init__()
        self.engine = engine
        self._key = signing_key

    def get(self, key: str) -> Bundle | None:
        """The bundle under `key`, or None; TamperedBundle when its signature does not verify for this key
        and the file sha256 it names (a row copied from another key, or signed the older way)."""
        bundle = self.memo_get(key)
        if bundle is not None:
            return bundle
        with self.engine.connect() as conn:
            present = conn.execute(sa.select(bundle_blobs.c.size).where(bundle_blobs.c.key == key)).first()
            if present is None:  # the common "not built yet" answer, without fetching megabytes
                return None
            data = conn.execute(sa.select(bundle_blobs.c.data).where(bundle_blobs.c.key == key)).scalar()
        if data is None:
            return None
        bundle = open_sealed(data, self._key, bound_to=key, sha256=key_sha256(key))
        self.memo_put(key, bundle)
        return bundle

    def put(self, key: str, bundle: Bundle) -> None:
        data = seal(bundle, self._key, bound_to=key, sha256=key_sha256(key))
        row = {
            "content_sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
            "created_at": time.time(),
            "data": data,
        }
        with self.engine.begin() as conn:
            conn.execute(sa.delete(bundle_blobs).where(bundle_blobs.c.key == key))
            conn.execute(sa.insert(bundle_blobs).values(key=key, **row))
        self.memo_put(key, bundle)

    def delete(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(bundle_blobs).where(bundle_blobs.c.key == key))
        self.memo_drop(key)

    def check(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(sa.select(sa.func.count()).select_from(bundle_blobs))
