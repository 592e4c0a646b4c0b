"""What a person does with an account, in real headless Chromium."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.browser.helpers import wait_for, wait_for_text

pytestmark = pytest.mark.browser


def test_register_dashboard_refresh_logout_redirect(served):
    duo, base, _app = served
    driver = duo.driver
    driver.get(f"{base}/register")
    driver.find_element(By.ID, "email").send_keys("Newcomer@Example.com")
    driver.find_element(By.ID, "password").send_keys("a-long-password")
    driver.find_element(By.ID, "confirm").send_keys("a-long-password")
    driver.find_element(By.ID, "register-submit").click()

    # the same neutral answer for a new or a taken address, then a normal sign-in
    wait_for_text(driver, "#form-info", "account is ready")
    driver.find_element(By.ID, "email").send_keys("newcomer@example.com")
    driver.find_element(By.ID, "password").send_keys("a-long-password")
    driver.find_element(By.ID, "login-submit").click()
    wait_for_text(driver, "#nav-user-email", "newcomer@example.com")
    assert driver.find_element(By.ID, "nav-user-role").text == "analyst"
    wait_for(driver, "#card-roi-value")

    driver.refresh()  # still signed in after a refresh
    wait_for_text(driver, "#nav-user-email", "newcomer@example.com")

    driver.find_element(By.ID, "logout-button").click()
    wait_for(driver, "#login-submit")
    driver.get(f"{base}/roi")
    wait_for(driver, "#login-submit")
    assert "/login?next=/roi" in driver.current_url


def test_wrong_password_shows_one_sentence(served):
    duo, base, app = served
    from tests.helpers import create_user

    create_user(app, email="someone@example.com", password="right-password")
    driver = duo.driver
    driver.get(f"{base}/login")
    driver.find_element(By.ID, "email").send_keys("someone@example.com")
    driver.find_element(By.ID, "password").send_keys("wrong-password")
    driver.find_element(By.ID, "login-submit").click()
    wait_for_text(driver, "#form-error", "Wrong email or password.")
