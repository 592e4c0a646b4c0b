"""The Compare page in real headless Chromium: it opens on a like-for-like baseline, and a baseline
picked by hand keeps B on the weeks it showed and flags windows of unequal length."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from selenium.webdriver.common.by import By

from tests.browser.helpers import severe_errors, sign_in, text_of, wait_for, wait_for_text

pytestmark = pytest.mark.browser


def pick(driver, dropdown_id: str, text: str) -> None:
    """Pick `text` in a long Dash dropdown: typed into its search box, so the option is in view."""
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 10).until(EC.element_to_be_clickable((By.ID, dropdown_id))).click()
    driver.find_element(By.CSS_SELECTOR, "input.dash-dropdown-search").send_keys(text)
    option = WebDriverWait(driver, 5).until(
        lambda d: next((o for o in d.find_elements(By.CSS_SELECTOR, "[role='option']") if o.text.strip() == text), None)
    )
    driver.execute_script("arguments[0].click();", option)  # the search box may overlap it at this size


def test_the_default_is_like_for_like_and_a_hand_picked_baseline_is_flagged(served):
    duo, base, app = served
    driver = sign_in(duo, base, app, "/compare?model=demo_mmm&period=all")
    wait_for(driver, "#compare-grid .ag-row")
    assert "A is the same 52 weeks a year earlier" in text_of(driver, "#compare-default")
    assert not driver.find_elements(By.ID, "compare-caveats")  # like for like: nothing to flag
    b_reads = text_of(driver, "#compare-b")
    assert "Last 52 weeks" in b_reads

    pick(driver, "base-period", "2025")  # 51 weeks against B's 52
    wait_for_text(driver, "#compare-caveats", "Unequal windows: A covers 51 weeks")
    query = parse_qs(urlparse(driver.current_url).query)
    assert query["period"] == ["last52"] and query["base_period"] == ["2025"]  # B kept its weeks
    assert "Last 52 weeks" in text_of(driver, "#compare-b")
    assert severe_errors(duo) == []
