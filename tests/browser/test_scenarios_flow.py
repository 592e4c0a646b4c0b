"""Planning a budget in the browser: move a slider, optimise, save a scenario."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.helpers import click, severe_errors, sign_in, text_of, wait_for_change, wait_for_text

pytestmark = pytest.mark.browser

# The scenario markers of the all-channels curve figure, with each panel's historical spend.
SCENARIO_POINTS = """
const plot = document.querySelector('#sc-curve .js-plotly-plot');
if (!plot || !plot.data) return [];
const data = plot.data;
const hist = data.filter(t => t.hovertemplate === 'current spend<extra></extra>').map(t => t.x[0]);
return data.filter(t => (t.name || '').endsWith(' scenario'))
           .map((t, i) => ({name: t.name, x: t.x[0], historical: hist[i]}));
"""


def test_slider_optimize_and_save(served):
    duo, base, app = served
    driver = sign_in(duo, base, app, "/scenarios?model=demo_mmm&period=all")
    outcome = text_of(driver, "#sc-card-outcome-value")

    thumb = driver.find_element(By.CSS_SELECTOR, """[id='{"index":1,"type":"sc-slider"}'] [role='slider']""")
    thumb.send_keys(Keys.END)  # Paid Search to 200% of its historical spend
    outcome_after_slider = wait_for_change(driver, "#sc-card-outcome-value", outcome)

    # Every channel's curve carries its scenario point; Paid Search's sits at twice its history.
    def paid_search_doubled(driver):
        points = {p["name"]: p for p in driver.execute_script(SCENARIO_POINTS)}
        ps = points.get("Paid Search scenario")
        return len(points) == 5 and ps and ps["x"] == pytest.approx(2 * ps["historical"], rel=1e-6)

    WebDriverWait(driver, 20).until(paid_search_doubled)

    driver.find_element(By.ID, "sc-reset").click()
    wait_for_change(driver, "#sc-card-outcome-value", outcome_after_slider)
    allocation_before = text_of(driver, "#sc-results-table")
    driver.find_element(By.ID, "sc-optimize").click()
    optimized = wait_for_change(driver, "#sc-results-table", allocation_before)
    assert optimized != allocation_before

    driver.find_element(By.ID, "sc-name").send_keys("Optimised plan")
    click(driver, "sc-save")
    wait_for_text(driver, "#sc-saved-msg", "Saved")
    assert not driver.find_element(By.ID, "sc-dl-csv").get_attribute("disabled")
    assert severe_errors(duo) == []
