"""Sharing a scenario and comparing it, in real headless Chromium: one analyst saves and shares a plan,
a colleague signs in, finds it on the compare page and compares it with the historical allocation."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlparse

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.browser.helpers import choose, severe_errors, sign_in, text_of, wait_for, wait_for_change, wait_for_text
from tests.helpers import create_user

pytestmark = pytest.mark.browser

COLLEAGUE = ("colleague@example.com", "colleague-pass")


def click(driver, element_id: str) -> None:
    """Scroll the element to the middle of the window first (the planner column is long; Bootstrap's
    smooth scrolling would still be moving when the click lands)."""
    element = driver.find_element(By.ID, element_id)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element)
    element.click()


def test_share_a_plan_and_a_colleague_compares_it(served):
    duo, base, app = served
    create_user(app, *COLLEAGUE, role="analyst")
    driver = sign_in(duo, base, app, "/scenarios?model=demo_mmm&period=all")

    # The author moves Paid Search to 200%, saves the plan and shares it.
    outcome = text_of(driver, "#sc-card-outcome-value")
    thumb = driver.find_element(By.CSS_SELECTOR, """[id='{"index":1,"type":"sc-slider"}'] [role='slider']""")
    thumb.send_keys(Keys.END)
    wait_for_change(driver, "#sc-card-outcome-value", outcome)
    driver.find_element(By.ID, "sc-name").send_keys("Search push")
    click(driver, "sc-save")
    wait_for_text(driver, "#sc-saved-msg", "Saved")
    wait_for_text(driver, "#sc-saved-status", "Private")
    click(driver, "sc-share")
    wait_for_text(driver, "#sc-saved-msg", "Shared with everyone signed in")
    wait_for_text(driver, "#sc-saved-status", "Shared with everyone")
    assert driver.find_element(By.ID, "sc-share").get_attribute("disabled")
    click(driver, "logout-button")
    wait_for(driver, "#login-submit")

    # A colleague signs in straight onto the compare page and picks the shared plan and the history.
    driver.get(f"{base}/login?next={quote('/compare-scenarios?model=demo_mmm&period=all', safe='/')}")
    driver.find_element(By.ID, "email").send_keys(COLLEAGUE[0])
    driver.find_element(By.ID, "password").send_keys(COLLEAGUE[1])
    driver.find_element(By.ID, "login-submit").click()
    wait_for(driver, "#cmp-hint")
    choose(driver, "cmp-pick", "Search push (browser@example.com)")
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    choose(driver, "cmp-pick", "Historical allocation")
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    wait_for(driver, "#cmp-matrix")
    wait_for_text(driver, "#cmp-totals", "Search push (browser@example.com)")
    p_push, p_hist = text_of(driver, "#cmp-p-0-1"), text_of(driver, "#cmp-p-1-0")
    assert p_push.startswith("P ") and p_hist.startswith("P ")
    assert wait_for(driver, "#cmp-chart .js-plotly-plot")

    # The selection is in the URL: reloading it shows the same comparison.
    selection = parse_qs(urlparse(driver.current_url).query)["compare"][0].split(",")
    assert len(selection) == 2 and "historical" in selection
    driver.get(driver.current_url)
    wait_for(driver, "#cmp-matrix")
    assert text_of(driver, "#cmp-p-0-1") == p_push
    assert severe_errors(duo) == []
