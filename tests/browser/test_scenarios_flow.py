"""Planning a budget in the browser: move a slider, optimise, save a scenario."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from tests.browser.conftest import severe_errors, sign_in, wait_for, wait_for_text

pytestmark = pytest.mark.browser


def _text_changes(driver, css, before, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        now = driver.find_element(By.CSS_SELECTOR, css).text
        if now != before:
            return now
        time.sleep(0.2)
    raise AssertionError(f"{css} stayed {before!r}")


def test_slider_optimize_and_save(served):
    duo, base, app = served
    driver = sign_in(duo, base, app, "/scenarios?model=demo_mmm&period=all")
    outcome = wait_for(driver, "#sc-card-outcome-value").text

    slider = driver.find_element(
        By.CSS_SELECTOR, "[id*='sc-slider'][id*='\"index\":1'] .rc-slider, div[id*='sc-slider'] .rc-slider"
    )
    ActionChains(driver).move_to_element_with_offset(slider, int(slider.size["width"] * 0.45), 0).click().perform()
    outcome_after_slider = _text_changes(driver, "#sc-card-outcome-value", outcome)

    driver.find_element(By.ID, "sc-reset").click()
    _text_changes(driver, "#sc-card-outcome-value", outcome_after_slider)
    allocation_before = driver.find_element(By.ID, "sc-results-table").text
    driver.find_element(By.ID, "sc-optimize").click()
    optimized = _text_changes(driver, "#sc-results-table", allocation_before)
    assert optimized != allocation_before

    driver.find_element(By.ID, "sc-name").send_keys("Optimised plan")
    driver.find_element(By.ID, "sc-save").click()
    wait_for_text(driver, "#sc-saved-msg", "Saved")
    assert not driver.find_element(By.ID, "sc-dl-csv").get_attribute("disabled")
    assert severe_errors(duo) == []
