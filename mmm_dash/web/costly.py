"""Per-user limits on the expensive requests: exports, comparison downloads and goal seek. A viewer
who fires many of them at once must not take the CPU from everyone else's pages.

Two limits per signed-in user (anonymous requests never get this far; they are keyed by address):

- a rate, RATE per minute per kind, counted in the rate limiter's storage (Redis across workers and
  replicas, this process's memory while Redis is down; see auth.throttle.Counters);
- a concurrency cap, AT_ONCE running at a time per kind in this process (a non-blocking count: one
  more is answered at once, never queued behind the others).

Over either, the request is refused with `TooMany` (429, Retry-After and one sentence)."""

from __future__ import annotations

import collections
import contextlib
import functools
import threading
from collections.abc import Iterator

from flask import jsonify
from flask_limiter.util import get_remote_address
from flask_login import current_user

from mmm_dash.web.auth.throttle import counters

RATE = (120, 60)  # requests of one kind per user per window (seconds): a whole Download menu many times over
AT_ONCE = 2  # running requests of one kind per user per process
RATE_MESSAGE = "You asked for {what} {n} times in the last minute; wait {wait} seconds and try again."
BUSY_MESSAGE = "You already have {n} {what} running; try again in a second, when one has finished."

_running: collections.Counter[str] = collections.Counter()
_lock = threading.Lock()


class TooMany(Exception):
    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def user_key() -> str:
    if current_user and current_user.is_authenticated:
        return f"user/{current_user.id}"
    return f"address/{get_remote_address()}"


@contextlib.contextmanager
def limited(kind: str, what: str) -> Iterator[None]:
    """Run one expensive request of `kind` (e.g. "export"; `what` names it for people, plural:
    "exports"), or raise TooMany."""
    key = f"{kind}/{user_key()}"
    limit, window = RATE
    if counters.incr(f"mmm-costly/{key}", window) > limit:
        raise TooMany(RATE_MESSAGE.format(what=what, n=limit, wait=window), window)
    with _lock:
        if _running[key] >= AT_ONCE:
            raise TooMany(BUSY_MESSAGE.format(n=AT_ONCE, what=what), 1)
        _running[key] += 1
    try:
        yield
    finally:
        with _lock:
            _running[key] -= 1
            if not _running[key]:
                del _running[key]


def limit_route(kind: str, what: str):
    """limited() around a Flask view; over a limit the answer is a JSON 429 with Retry-After."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            try:
                with limited(kind, what):
                    return view(*args, **kwargs)
            except TooMany as exc:
                return jsonify(error=str(exc)), 429, {"Retry-After": str(exc.retry_after)}

        return wrapper

    return decorate
