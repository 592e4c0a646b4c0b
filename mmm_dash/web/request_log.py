"""One log line per request: method, path, status, duration."""

from __future__ import annotations

import logging
import time

from flask import Flask, g, request

log = logging.getLogger("mmm_dash.requests")


def init_app(server: Flask) -> None:
    @server.before_request
    def _start_timer():
        g._request_started = time.perf_counter()

    @server.after_request
    def _log(response):
        started = g.pop("_request_started", None)
        ms = (time.perf_counter() - started) * 1000 if started is not None else float("nan")
        log.info("%s %s %s %.1fms", request.method, request.path, response.status_code, ms)
        return response
