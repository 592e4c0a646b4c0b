"""The charts' toolbar and the pages that were hard to read on a phone, at desktop (1440 px) and phone
(390 px) widths: no toolbar button sends a chart to Plotly's cloud (PNG download stays) and the toolbar
covers no legend, title or label; the waterfall's labels never collide; Diagnostics never needs a
sideways scroll, on any model; the planner names every box, shows its results right after its
controls, keeps a typed budget the optimizer refuses, and says when channels sit at their caps."""

from __future__ import annotations

import shutil

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from mmm_dash.builder.catalog import ModelCatalog
from mmm_dash.core.status import BundleStatus
from tests.browser.helpers import severe_errors, sign_in, text_of, wait_for, wait_for_text
from tests.browser.test_trust_and_layout import WIDTHS, _overlap, _set_width, _settle, each_chart_page
from tests.helpers import DEMO_MODEL, TEST_CACHE, make_app

pytestmark = pytest.mark.browser

# Per plot: its toolbar's buttons and box, and the boxes of everything the toolbar must not cover.
CHROME = """
const box = el => {
  const r = el.getBoundingClientRect();
  return r.width && r.height ? [r.left, r.top, r.right, r.bottom] : null;
};
return Array.from(document.querySelectorAll('.js-plotly-plot')).map(plot => ({
  id: (plot.closest('[id]') || plot).id,
  buttons: Array.from(plot.querySelectorAll('.modebar-btn')).map(b => b.getAttribute('data-title') || ''),
  modebar: plot.querySelector('.modebar') ? box(plot.querySelector('.modebar')) : null,
  covered: [plot.querySelector('g.legend'), ...plot.querySelectorAll('.infolayer text, .annotation text')]
    .filter(Boolean).map(box).filter(Boolean),
}));
"""

# The waterfall's category and value labels, as laid out.
WATERFALL_LABELS = """
const plot = document.querySelector('#contribution-waterfall .js-plotly-plot');
const box = el => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
const svg = box(plot.querySelector('.main-svg'));
const labels = Array.from(plot.querySelectorAll('g.xtick text, g.ytick text, g.trace text'))
  .filter(t => t.textContent.trim()).map(t => ({text: t.textContent, box: box(t)}));
return {svg, labels};
"""

# Anything on the page that scrolls sideways: the page itself, or a visible element holding more than its width.
SIDEWAYS = """
const doc = document.documentElement;
const out = doc.scrollWidth > doc.clientWidth ? [['page', doc.scrollWidth - doc.clientWidth]] : [];
document.querySelectorAll('body *').forEach(el => {
  const s = getComputedStyle(el);
  if ((s.overflowX === 'auto' || s.overflowX === 'scroll') && el.offsetParent !== null
      && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1)
    out.push([(el.closest('[id]') || el).id + ' ' + el.className, el.scrollWidth - el.clientWidth]);
});
return out;
"""


def test_chart_toolbars_send_nothing_to_the_cloud_and_cover_nothing(served):
    duo, base, app = served
    driver = sign_in(duo, base, app)
    plots = 0
    for width, path in each_chart_page(driver, base):
        for plot in driver.execute_script(CHROME):
            where = (width, path, plot["id"])
            assert "Download plot as a PNG" in plot["buttons"], where
            cloud = [b for b in plot["buttons"] if any(w in b for w in ("Share", "Cloud", "Chart Studio", "Edit"))]
            assert cloud == [], (where, cloud)
            for other in plot["covered"]:
                assert not _overlap(plot["modebar"], other), (where, plot["modebar"], other)
            plots += 1
        if path == "/contribution":
            _assert_waterfall_labels_apart(driver, width)
    assert plots >= 30
    assert severe_errors(duo) == []


def _assert_waterfall_labels_apart(driver, width: int) -> None:
    laid = driver.execute_script(WATERFALL_LABELS)
    labels = laid["labels"]
    assert len(labels) >= 10, labels  # channel names, steps and axis values were all found
    for i, a in enumerate(labels):
        assert laid["svg"][0] - 1 <= a["box"][0] and a["box"][2] <= laid["svg"][2] + 1, (width, a, laid["svg"])
        for b in labels[i + 1 :]:
            assert not _overlap(a["box"], b["box"]), (width, a, b)


def _budget(driver) -> str:
    return driver.find_element(By.ID, "sc-budget").get_attribute("value")


def _click(driver, element_id: str) -> None:
    """Click a button wherever it is on the page (at 390 px a slider's tooltip may lie over it)."""
    driver.execute_script("arguments[0].click();", driver.find_element(By.ID, element_id))


def _type(element, text: str) -> None:
    element.click()
    element.send_keys(Keys.CONTROL, "a")
    element.send_keys(text, Keys.TAB)


SLIDERS = '[id$=\'"type":"sc-slider"}\']'  # the sliders themselves, not their tooltips

LABELS = """
const col = el => el.closest('[class*="col-"]');
return ['sc-number', 'sc-lower', 'sc-upper'].map(kind =>
  Array.from(document.querySelectorAll(`input[id*='"type":"${kind}"']`)).map(el => col(el).innerText.trim()));
"""


def test_planner_names_its_boxes_puts_results_after_the_controls_and_keeps_a_typed_budget(served):
    duo, base, app = served
    driver = sign_in(duo, base, app)

    _set_width(driver, 1440)
    driver.get(f"{base}/scenarios?model=demo_mmm")
    wait_for(driver, "#sc-summary .metric-card")
    header = driver.find_element(By.XPATH, "//div[text()='Bounds: low % · high %']")
    assert header.is_displayed()  # wide screens name the boxes once, above the rows
    sliders = driver.find_elements(By.CSS_SELECTOR, SLIDERS)
    summary, ladder = (driver.find_element(By.ID, i).rect for i in ("sc-summary", "sc-ladder-card"))
    assert summary["x"] > sliders[-1].rect["x"] + sliders[-1].rect["width"]  # results beside the controls
    assert ladder["x"] < summary["x"] and ladder["y"] > sliders[-1].rect["y"]  # tools below the controls

    # A typed budget the bounds cannot hold: the optimizer says why and the box keeps what was typed.
    _type(driver.find_element(By.ID, "sc-budget"), "5,000,000")
    _type(driver.find_element(By.CSS_SELECTOR, 'input[id*=\'"type":"sc-lower"\']'), "90")
    _click(driver, "sc-optimize")
    wait_for_text(driver, "#sc-error", "lower bounds")
    assert _budget(driver) == "5,000,000"

    _set_width(driver, 390)
    driver.get(f"{base}/scenarios?model=demo_mmm")
    wait_for(driver, "#sc-summary .metric-card")
    spend, low, high = driver.execute_script(LABELS)
    assert spend and all(label == "Spend" for label in spend), spend
    assert all("low" in label and "bounds" in label for label in low), low
    assert all("high" in label for label in high), high
    last_slider = driver.find_elements(By.CSS_SELECTOR, SLIDERS)[-1].rect
    summary = driver.find_element(By.ID, "sc-summary").rect
    gap = summary["y"] - (last_slider["y"] + last_slider["height"])
    assert 0 < gap < 844, gap  # within one phone screen of the sliders (390 x 844)

    # The optimizer puts the best channels at their +30% caps; the ladder then says so.
    _click(driver, "sc-optimize")
    WebDriverWait(driver, 20).until(
        lambda d: any(
            e.get_attribute("value") != "100" for e in d.find_elements(By.CSS_SELECTOR, "input[id*='sc-number']")
        )
    )
    _click(driver, "sc-ladder-run")
    wait_for(driver, "#sc-ladder-stop")
    stop = text_of(driver, "#sc-ladder-stop")
    assert "upper bound" in stop and "+30% of historical" in stop, stop
    assert severe_errors(duo) == []


@pytest.mark.slow
def test_diagnostics_never_scrolls_sideways_on_any_model(dash_duo, tmp_path):
    from tests.model.shapes import SHAPES, fitted_model_path, unconverged_model_path

    model_dir = tmp_path / "models"
    model_dir.mkdir()
    shutil.copy2(DEMO_MODEL, model_dir / "demo_mmm.pkl")
    shutil.copy2(unconverged_model_path(TEST_CACHE), model_dir / "unconverged.pkl")
    for shape in SHAPES:
        shutil.copy2(fitted_model_path(shape, TEST_CACHE), model_dir / f"{shape}.pkl")
    names = sorted(p.stem for p in model_dir.glob("*.pkl"))
    catalog = ModelCatalog(model_dir, TEST_CACHE / "cache")
    for name in names:
        state = catalog.build(name)
        assert state.status is BundleStatus.READY, (name, state.message)
    app = make_app(f"sqlite:///{tmp_path / 'browser.sqlite3'}", model_dir, TEST_CACHE / "cache")
    dash_duo.start_server(app, navigate=False)
    driver = sign_in(dash_duo, dash_duo.server.url.rstrip("/"), app)
    for width in WIDTHS:
        _set_width(driver, width)
        for name in names:
            driver.get(f"{dash_duo.server.url.rstrip('/')}/diagnostics?model={name}")
            _settle(driver, "/diagnostics")
            wait_for(driver, "#model-info")
            assert driver.execute_script(SIDEWAYS) == [], (width, name)
            table = "#rhat-phone-table" if width < 768 else "#rhat-grid"
            assert driver.find_element(By.CSS_SELECTOR, table).is_displayed(), (width, name)
    assert len(names) == 5
    assert severe_errors(dash_duo) == []
