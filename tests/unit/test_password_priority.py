"""bcrypt checks run on their own threads at a lower priority, so a crowd signing in at once queues for
CPU instead of stalling everyone's page callbacks (the load benchmark's 50 sign-ins in 5 s)."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from mmm_dash.web.auth import passwords


def test_hashes_and_checks_still_agree():
    stored = passwords.hash_password("correct-horse-battery")
    assert passwords.check_password("correct-horse-battery", stored)
    assert not passwords.check_password("wrong-horse-battery", stored)
    assert not passwords.check_password("anything", "not a bcrypt hash")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
def test_checks_run_below_the_priority_of_request_threads():
    seen = {}

    def spy(raw, password_hash):
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, 0)
        seen["thread"] = threading.current_thread().name
        return False

    original = passwords._check
    passwords._check = spy
    try:
        passwords.check_password("x", "y")
    finally:
        passwords._check = original
    assert seen["nice"] >= os.getpriority(os.PRIO_PROCESS, 0) + passwords.HASH_NICENESS
    assert seen["thread"].startswith("mmm-bcrypt")
    assert os.getpriority(os.PRIO_PROCESS, 0) < seen["nice"]  # the calling thread kept its own priority
