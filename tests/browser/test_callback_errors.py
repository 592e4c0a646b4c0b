"""A page callback that fails says so on the page, in real headless Chromium: the guard around Dash's
dispatch answers with Dash's `sideUpdate`, and the renderer puts its sentence in the shell's alert area."""

from __future__ import annotations

import pytest

from tests.browser.helpers import sign_in, text_of, wait_for_text

pytestmark = pytest.mark.browser


def test_a_failing_page_callback_shows_one_sentence(served, monkeypatch):
    from mmm_dash.web.pages import roi

    def broken(_selected):
        raise RuntimeError("secret internals")

    duo, base, app = served
    monkeypatch.setattr(roi, "stored_view", broken)
    driver = sign_in(duo, base, app, "/roi?model=demo_mmm&period=all")
    wait_for_text(driver, "#callback-error", "That action failed on our side and has been logged")
    assert "secret internals" not in driver.page_source
    assert text_of(driver, "#callback-error") == (
        "That action failed on our side and has been logged; reload the page and try again."
    )
    assert driver.find_elements("css selector", "#roi-over-time-bucket")  # the rest of the page still works
