"""Roles in real headless Chromium: an admin demotes an analyst, whose next page load has no save
control and whose save is refused by the server; a viewer can plan but not save."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser.helpers import click, text_of, wait_for, wait_for_change, wait_for_text
from tests.helpers import create_user

pytestmark = pytest.mark.browser

SCENARIOS = "/scenarios?model=demo_mmm&period=all"
# The save box is only hidden for viewers; a determined user can show it again.
SHOW_SAVE_CONTROLS = """
document.querySelector('#sc-save').parentElement.classList.remove('d-none');
document.querySelector('#sc-delete').classList.remove('d-none');
"""


def _sign_in(driver, base: str, email: str, password: str, path: str) -> None:
    driver.get(f"{base}/login?next={quote(path, safe='/')}")
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login-submit").click()


def _saved_count(app) -> int:
    from sqlalchemy import func, select

    from mmm_dash.web.extensions import db
    from mmm_dash.web.scenarios.models import SavedScenario

    with app.server.app_context():
        return db.session.scalar(select(func.count()).select_from(SavedScenario))


def _denials(app, email: str) -> int:
    from sqlalchemy import func, select

    from mmm_dash.web.audit import AuditEvent
    from mmm_dash.web.extensions import db

    with app.server.app_context():
        query = select(func.count()).where(AuditEvent.user_email == email, AuditEvent.outcome == "denied")
        return db.session.scalar(query.select_from(AuditEvent))


def _try_to_save(duo, driver, app, email: str) -> None:
    """Show the hidden save box, click Save, and check the server refused: a 403 in the console, an
    audited denial, and nothing saved."""
    driver.execute_script(SHOW_SAVE_CONTROLS)
    driver.find_element(By.ID, "sc-name").send_keys("Sneaky plan")
    click(driver, "sc-save")
    deadline, logs = time.time() + 15, []
    while time.time() < deadline and not any("403" in entry["message"] for entry in logs):
        logs += duo.get_logs() or []
        time.sleep(0.2)
    assert any("_dash-update-component" in e["message"] and "403" in e["message"] for e in logs), logs
    assert _saved_count(app) == 0
    assert _denials(app, email) >= 1
    assert "Saved" not in text_of(driver, "#sc-saved-msg")


def test_admin_demotes_an_analyst_who_then_cannot_save(served):
    duo, base, app = served
    driver = duo.driver
    admin = create_user(app, "admin@example.com", "admin-pass-1234", role="admin")
    analyst = create_user(app, "analyst@example.com", "analyst-pass-1234", role="analyst")

    _sign_in(driver, base, *analyst, SCENARIOS)
    assert wait_for(driver, "#sc-save").is_displayed()
    assert not driver.find_elements(By.ID, "nav-admin")  # no Admin link for analysts
    analyst_cookies = driver.get_cookies()

    # The admin, in the same browser with their own cookies, follows the navbar's Admin link.
    driver.delete_all_cookies()
    _sign_in(driver, base, *admin, "/")
    wait_for(driver, "#nav-admin").click()
    wait_for(driver, "#accounts-table")
    row = driver.find_element(By.CSS_SELECTOR, "tr[data-email='analyst@example.com']")
    Select(row.find_element(By.CSS_SELECTOR, "select[name='role']")).select_by_value("viewer")
    row.find_element(By.CSS_SELECTOR, "button[id^='set-role-']").click()
    wait_for_text(driver, "[data-flash='success']", "analyst@example.com is now viewer")

    # The analyst's browser comes back: that session has ended, and after signing in again the
    # page has no save control and a save is refused.
    driver.delete_all_cookies()
    for cookie in analyst_cookies:
        driver.add_cookie({k: v for k, v in cookie.items() if k in ("name", "value", "path", "httpOnly")})
    driver.get(base + SCENARIOS)
    WebDriverWait(driver, 20).until(lambda d: "/login?next=" in d.current_url)
    _sign_in(driver, base, *analyst, SCENARIOS)
    wait_for_text(driver, "#nav-user-role", "viewer")
    wait_for(driver, "#sc-name")
    assert not driver.find_element(By.ID, "sc-save").is_displayed()
    assert not driver.find_element(By.ID, "sc-delete").is_displayed()
    _try_to_save(duo, driver, app, analyst[0])


def test_a_viewer_plans_but_cannot_save(served):
    duo, base, app = served
    driver = duo.driver
    viewer = create_user(app, "viewer@example.com", "viewer-pass-1234", role="viewer")
    _sign_in(driver, base, *viewer, SCENARIOS)
    wait_for(driver, "#sc-name")
    assert not driver.find_element(By.ID, "sc-save").is_displayed()

    # Planning and optimising are reading: they work for a viewer.
    allocation = text_of(driver, "#sc-results-table")
    driver.find_element(By.ID, "sc-optimize").click()
    assert wait_for_change(driver, "#sc-results-table", allocation) != allocation

    _try_to_save(duo, driver, app, viewer[0])
