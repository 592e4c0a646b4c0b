"""What an analyst sees at a glance, at desktop (1440 px) and phone (390 px) widths: no chart's legend
on top of an axis title and no page scrolling sideways (demo model); a trust banner that says not to
act on a model that did not converge; and a model without revenue spoken of in cost per KPI."""

from __future__ import annotations

import shutil

import pytest

from mmm_dash.builder.catalog import ModelCatalog
from mmm_dash.core.status import BundleStatus
from tests.browser.helpers import severe_errors, sign_in, text_of, wait_for
from tests.helpers import TEST_CACHE, make_app
from tests.unit.test_trust import STATED_PROBABILITY

pytestmark = pytest.mark.browser

WIDTHS = (1440, 390)
CHART_PAGES = ("/", "/contribution", "/roi", "/geos", "/response-curves", "/scenarios", "/compare", "/diagnostics")

# Every plot's legend box and axis-title boxes, as the browser laid them out.
BOXES = """
const box = el => {
  const r = el.getBoundingClientRect();
  return r.width && r.height ? [r.left, r.top, r.right, r.bottom] : null;
};
return Array.from(document.querySelectorAll('.js-plotly-plot')).map(plot => ({
  id: (plot.closest('[id]') || plot).id,
  legend: plot.querySelector('g.legend') ? box(plot.querySelector('g.legend')) : null,
  titles: Array.from(plot.querySelectorAll('text')).filter(t => /^[xy]\\d*title$/.test(t.getAttribute('class') || ''))
    .map(box).filter(Boolean),
}));
"""


def _overlap(a, b, slack: float = 1.0) -> bool:
    return a[0] < b[2] - slack and b[0] < a[2] - slack and a[1] < b[3] - slack and b[1] < a[3] - slack


def _set_width(driver, width: int) -> None:
    driver.set_window_size(width, 1000)


def _settle(driver, path: str) -> None:
    wait_for(driver, "#trust-banner")
    if path not in ("/insights",):
        wait_for(driver, ".js-plotly-plot .main-svg")
    driver.execute_script("return new Promise(r => setTimeout(r, 600))")  # let Plotly finish its layout


def each_chart_page(driver, base: str):
    """Every chart page of the demo at each width, laid out and settled: yields (width, path)."""
    for width in WIDTHS:
        _set_width(driver, width)
        for path in CHART_PAGES:
            driver.get(f"{base}{path}?model=demo_mmm")
            _settle(driver, path)
            yield width, path


def test_no_legend_covers_an_axis_title_and_no_page_scrolls_sideways(served):
    duo, base, app = served
    driver = sign_in(duo, base, app)
    checked = 0
    for width, path in each_chart_page(driver, base):
        for plot in driver.execute_script(BOXES):
            if plot["legend"] is None:
                continue
            for title in plot["titles"]:
                checked += 1
                assert not _overlap(plot["legend"], title), (width, path, plot["id"], plot["legend"], title)
        overflow = driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {width}px"
    assert checked >= 10  # legends and titles were really found and compared
    assert severe_errors(duo) == []


def test_the_navbar_fits_every_desktop_width(served):
    """Between 768 px (the navbar expands) and a wide screen its links and the user's box did not fit
    one line: the page scrolled sideways and the scrollbar covered the planner's Save button at 1400."""
    duo, base, app = served
    driver = sign_in(duo, base, app)
    for width in (800, 1024, 1280, 1400):
        _set_width(driver, width)
        driver.get(f"{base}/scenarios?model=demo_mmm")
        _settle(driver, "/scenarios")
        overflow = driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px at {width}px"


def _served_model(dash_duo, tmp_path, model_path, name: str):
    model_dir = tmp_path / "models"
    model_dir.mkdir()
    shutil.copy2(model_path, model_dir / f"{name}.pkl")
    state = ModelCatalog(model_dir, TEST_CACHE / "cache").build(name)
    assert state.status is BundleStatus.READY, state.message
    app = make_app(f"sqlite:///{tmp_path / 'browser.sqlite3'}", model_dir, TEST_CACHE / "cache")
    dash_duo.start_server(app, navigate=False)
    return dash_duo.server.url.rstrip("/"), app


@pytest.mark.slow
def test_a_model_that_did_not_converge_says_so_on_every_page(dash_duo, tmp_path):
    from tests.model.shapes import unconverged_model_path

    base, app = _served_model(dash_duo, tmp_path, unconverged_model_path(TEST_CACHE), "unconverged")
    driver = sign_in(dash_duo, base, app)
    for width in WIDTHS:
        _set_width(driver, width)
        for path in ("/", "/roi", "/scenarios", "/insights"):
            driver.get(f"{base}{path}?model=unconverged")
            banner = wait_for(driver, "#trust-banner")
            assert "alert-danger" in banner.get_attribute("class"), (width, path)
            assert "Not trustworthy yet" in banner.text and "did not converge" in banner.text, (width, path)
            assert banner.rect["width"] <= width, (width, path)
        first = text_of(driver, "#insight-list .insight-card")
        assert "Fix the model before acting on it" in first
        verdicts = driver.find_elements("css selector", ".verdict-card")
        assert verdicts and all("provisional" in v.text for v in verdicts)
        listed = text_of(driver, "#insight-list")  # no probability and no planner link (core.trust.converged)
        assert "not meaningful until the model converges" in listed and not STATED_PROBABILITY.search(listed)
        assert not driver.find_elements("css selector", "#insight-list a[href*='plan=']")
    report = driver.execute_script("return fetch('/export/report.html?model=unconverged').then(r => r.text())")
    assert "Trust: low" in report and "Model health: Fail" in report
    assert severe_errors(dash_duo) == []


@pytest.mark.slow
def test_a_kpi_model_without_revenue_speaks_in_cost_per_kpi(dash_duo, tmp_path):
    from tests.model.shapes import fitted_model_path

    base, app = _served_model(dash_duo, tmp_path, fitted_model_path("geo_rf_no_revenue", TEST_CACHE), "kpi_only")
    driver = sign_in(dash_duo, base, app)
    for width in WIDTHS:
        _set_width(driver, width)
        driver.get(f"{base}/?model=kpi_only")
        card = wait_for(driver, "#card-roi").text
        assert "COST PER" in card.upper() and "KPI" in card and "$" in card, card
        assert "ROI" not in card and "per unit of spend" not in card
        driver.get(f"{base}/roi?model=kpi_only")
        wait_for(driver, "#roi-grid .ag-header-cell")
        assert "Cost per incremental KPI" in text_of(driver, ".page-title")
        headers = [h.text for h in driver.find_elements("css selector", "#roi-grid .ag-header-cell-text")]
        assert not any("ROI" in h for h in headers), headers
        assert any("Cost per KPI" in h for h in headers), headers
        driver.get(f"{base}/scenarios?model=kpi_only")
        table = wait_for(driver, "#sc-results-table").text
        assert "Cost per KPI" in table and "ROI" not in table
        driver.get(f"{base}/insights?model=kpi_only")
        wait_for(driver, ".verdict-card")
        text = text_of(driver, "#insight-list")
        assert "per incremental KPI" in text or "per 1,000 incremental KPI" in text
        assert "mROI" not in text and "loses money" not in text and "break-even" not in text
    assert severe_errors(dash_duo) == []
