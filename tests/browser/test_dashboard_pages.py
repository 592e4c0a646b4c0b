"""Every page with the demo model: charts render, no browser errors, controls change the numbers."""

from __future__ import annotations

import os
import time

import pytest
from selenium.webdriver.common.by import By

from tests.browser.helpers import (
    choose,
    severe_errors,
    sign_in,
    text_of,
    wait_for,
    wait_for_change,
    wait_for_text,
)

pytestmark = pytest.mark.browser

PAGES = {
    "/": ["#overview-fit", "#card-roi-value", "#top-insight-0", "#verdict-list", "#health-card", "#trust-banner"],
    "/contribution": ["#contribution-chart", "#contribution-waterfall", "#contribution-time", "#contribution-share"],
    "/roi": ["#roi-chart", "#mroi-chart", "#roi-bubble", "#roi-grid .ag-row"],
    "/geos": ["#geos-grid .ag-row"],
    "/response-curves": ["#curve-chart", "#hill-chart", "#adstock-chart", "#curves-multiples"],
    "/scenarios": ["#sc-allocation", "#sc-results-table", "#sc-curve"],
    "/insights": ["#insight-portfolio", "#insight-list", "[id^='verdict-']"],
    "/compare": ["#compare-findings", "#compare-grid .ag-row"],
    "/diagnostics": [
        "#rhat-chart",
        "#fit-metrics",
        "#model-info",
        "#rhat-grid .ag-row",
        "#health-details",
        "#residuals-chart",
        "#prior-posterior-chart",
    ],
}


def test_every_page_renders_its_charts_without_errors(served):
    duo, base, app = served
    driver = sign_in(duo, base, app)
    for path, selectors in PAGES.items():
        driver.get(f"{base}{path}?model=demo_mmm&period=all")
        for css in selectors:
            wait_for(driver, css)
        plots = driver.find_elements(By.CSS_SELECTOR, ".js-plotly-plot .main-svg")
        assert plots or path == "/insights", path
        assert severe_errors(duo) == [], path


def test_changing_the_period_changes_the_numbers_and_the_url(served):
    duo, base, app = served
    driver = sign_in(duo, base, app, "/?model=demo_mmm&period=all")
    whole = wait_for(driver, "#card-outcome-value").text
    choose(driver, "period-select", "2024")
    in_2024 = wait_for_change(driver, "#card-outcome-value", whole)
    assert "period=2024" in driver.current_url
    driver.refresh()  # the link reproduces the view
    wait_for(driver, "#card-outcome-value")
    assert text_of(driver, "#card-outcome-value") == in_2024
    assert severe_errors(duo) == []


def test_response_curve_channel_picker(served):
    duo, base, app = served
    driver = sign_in(duo, base, app, "/response-curves?model=demo_mmm&period=all")
    wait_for_text(driver, "#curve-panels", "TV: response curve")
    choose(driver, "curve-channel", "Paid Search")
    wait_for_text(driver, "#curve-panels", "Paid Search: response curve")
    assert severe_errors(duo) == []


def test_download_button_saves_the_file(served):
    duo, base, app = served
    driver = sign_in(duo, base, app, "/insights?model=demo_mmm&period=2024")
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": duo.download_path})
    wait_for(driver, "#insights-download-insights-csv").click()
    deadline = time.time() + 20
    files = []
    while time.time() < deadline:
        files = [f for f in os.listdir(duo.download_path) if f.endswith(".csv")]
        if files:
            break
        time.sleep(0.2)
    assert files and files[0].startswith("mmm-demo_mmm-2024-")
    with open(os.path.join(duo.download_path, files[0]), encoding="utf-8") as fh:
        assert fh.readline().startswith("id,kind,channel,title,text")


def test_units_toggle_reads_the_demo_in_its_kpi_and_keeps_it_in_the_url(served):
    duo, base, app = served
    driver = sign_in(duo, base, app, "/?model=demo_mmm&period=all")
    revenue = wait_for(driver, "#card-outcome-value").text
    assert revenue.startswith("$") and "blended roi" in text_of(driver, "#card-roi").lower()
    driver.find_element(By.XPATH, "//*[@id='units-select']//label[normalize-space()='KPI']").click()
    in_kpi = wait_for_change(driver, "#card-outcome-value", revenue)
    assert "units=kpi" in driver.current_url and not in_kpi.startswith("$")
    assert "per incremental" in text_of(driver, "#card-roi").lower()
    driver.find_element(By.ID, "nav-roi").click()  # the units travel with the navbar's links
    wait_for_text(driver, ".page-title", "Cost per incremental KPI")
    wait_for(driver, "#roi-grid .ag-row")
    assert "units=kpi" in driver.current_url
    assert severe_errors(duo) == []
