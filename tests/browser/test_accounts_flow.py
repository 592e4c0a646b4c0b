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


def test_after_failures_the_login_page_solves_the_proof_of_work_and_signs_in(served, monkeypatch):
    """Past a few wrong passwords the account asks every sign-in for a proof of work: the page's
    script (assets/signin.js) solves the server's challenge at the real difficulty, in seconds."""
    import time

    from mmm_dash.web.auth import throttle
    from tests.helpers import create_user

    monkeypatch.setattr(throttle, "POW_BITS", 20)  # what browsers solve in production
    duo, base, app = served
    email, password = create_user(app, email="owner@example.com", password="right-password")
    driver = duo.driver

    def submit(pw):
        driver.get(f"{base}/login")
        driver.find_element(By.ID, "email").send_keys(email)
        driver.find_element(By.ID, "password").send_keys(pw)
        driver.find_element(By.ID, "login-submit").click()

    for _ in range(throttle.POW_AFTER[0]):
        submit("wrong-password")
        wait_for_text(driver, "#form-error", "Wrong email or password.")
    started = time.monotonic()
    submit(password)
    wait_for(driver, "#nav-user-email", timeout=60)
    assert time.monotonic() - started < 30


def test_the_login_pages_sha256_finds_what_python_finds(served):
    """signin.js's own SHA-256 against hashlib: for challenges of lengths around SHA-256's block and
    padding boundaries, the script's answer is exactly the smallest one Python finds."""
    from mmm_dash.web.auth import throttle

    duo, base, _app = served
    driver = duo.driver
    driver.get(f"{base}/login")
    wait_for(driver, "#login-form")
    challenges = ["x" * n for n in (1, 9, 54, 55, 56, 63, 64, 65, 118, 119, 120, 127, 128, 200)]
    found = driver.execute_async_script(
        """const [challenges, done] = [arguments[0], arguments[arguments.length - 1]];
        const answers = [];
        const next = () => answers.length === challenges.length ? done(answers)
          : window.mmmSolveChallenge(challenges[answers.length], 10, (a) => { answers.push(a); next(); });
        next();""",
        challenges,
    )
    assert found == [throttle.solve(c, 10) for c in challenges]
