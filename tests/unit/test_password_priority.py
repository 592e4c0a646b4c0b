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


def test_the_unknown_email_hash_costs_what_a_real_check_costs():
    """Sign-in checks an unknown email against DUMMY_HASH so timing does not reveal accounts: its
    bcrypt cost factor must be the one new hashes get, and it must be a hash check_password accepts."""
    cost = lambda h: h.split("$")[2]  # noqa: E731
    assert cost(passwords.DUMMY_HASH) == cost(passwords.hash_password("any-password-at-all"))
    assert passwords.check_password("not-a-real-password", passwords.DUMMY_HASH)
    assert not passwords.check_password("someone's-real-password", passwords.DUMMY_HASH)
