"""Helpers that drive Chromium through dash[testing]'s driver: waiting, signing in, reading text."""

from __future__ import annotations

import time
from urllib.parse import quote

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.helpers import create_user


def wait_for(driver, css: str, timeout: float = 20):
    """The element matching `css`, once it is in the page."""
    return WebDriverWait(driver, timeout).until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))


def wait_for_text(driver, css: str, text: str, timeout: float = 20):
    """Wait until the element matching `css` contains `text`."""
    WebDriverWait(driver, timeout).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))


def sign_in(duo, base: str, app, path: str = "/"):
    """Create a user, sign in through the login form and land on `path`; returns the driver."""
    email, password = create_user(app, email="browser@example.com", password="browser-pass")
    driver = duo.driver
    driver.get(f"{base}/login?next={quote(path, safe='/')}")
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login-submit").click()
    wait_for(driver, "#nav-user-email")
    return driver


def severe_errors(duo) -> list[str]:
    """The browser console's SEVERE messages so far."""
    return [entry["message"] for entry in (duo.get_logs() or []) if entry.get("level") == "SEVERE"]


def choose(driver, dropdown_id: str, text: str, attempts: int = 3):
    """Pick `text` in a Dash 4 dropdown (a button opening a listbox of role=option items).
    Retries if the page re-rendered the dropdown while it was open."""
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException

    for attempt in range(attempts):
        try:
            WebDriverWait(driver, 10).until(EC.element_to_be_clickable((By.ID, dropdown_id))).click()
            options = WebDriverWait(driver, 5).until(
                lambda d: [o for o in d.find_elements(By.CSS_SELECTOR, "[role='option']") if o.text.strip() == text]
            )
            options[0].click()
            return
        except (StaleElementReferenceException, TimeoutException):
            if attempt == attempts - 1:
                raise


def text_of(driver, css: str) -> str:
    """Text of an element that a callback may be replacing right now."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    for _ in range(50):
        try:
            return driver.find_element(By.CSS_SELECTOR, css).text
        except (StaleElementReferenceException, NoSuchElementException):
            time.sleep(0.1)
    raise AssertionError(f"{css} never settled")


def wait_for_change(driver, css: str, before: str, timeout: float = 20) -> str:
    """The text of `css` once it differs from `before`."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        now = text_of(driver, css)
        if now != before:
            return now
        time.sleep(0.2)
    raise AssertionError(f"{css} stayed {before!r}")


def click(driver, element_id: str) -> None:
    """Scroll the element to the middle of the window at once, then click it. Bootstrap scrolls
    smoothly, so the scroll Selenium makes before a click is still under way when it clicks, and an
    element below the fold is then "not clickable" (another element is under the point it aimed at)."""
    element = driver.find_element(By.ID, element_id)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
    element.click()
