"""Built bundles on disk (diskcache), with an in-process memo: bundles never change once built,
so each process unpickles a bundle at most once."""

from __future__ import annotations

import threading
from pathlib import Path

import diskcache

from mmm_dash.core.bundle import Bundle

SIZE_LIMIT = 2**31


class BundleStore:
    def __init__(self, cache_dir: Path):
        self.directory = Path(cache_dir) / "bundles"
        self._cache: diskcache.Cache | None = None
        self._memo: dict[str, Bundle] = {}
        self._lock = threading.Lock()

    @property
    def cache(self) -> diskcache.Cache:
        if self._cache is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._cache = diskcache.Cache(str(self.directory), size_limit=SIZE_LIMIT)
        return self._cache

    def get(self, key: str) -> Bundle | None:
        """The bundle stored under `key`, or None (cheap when absent: no unpickling)."""
        with self._lock:
            if key in self._memo:
                return self._memo[key]
        if ("bundle", key) not in self.cache:
            return None
        bundle = self.cache.get(("bundle", key))
        if not isinstance(bundle, Bundle):
            return None
        with self._lock:
            self._memo[key] = bundle
        return bundle

    def put(self, key: str, bundle: Bundle) -> None:
        self.cache.set(("bundle", key), bundle)
        with self._lock:
            self._memo[key] = bundle

    def delete(self, key: str) -> None:
        self.cache.delete(("bundle", key))
        with self._lock:
            self._memo.pop(key, None)
