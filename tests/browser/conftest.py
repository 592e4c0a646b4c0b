"""Browser fixtures: the app on SQLite with the cached demo bundle, served by dash[testing]."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import create_user, make_app


@pytest.fixture()
def served(dash_duo, tmp_path, demo_model_dir, demo_cache_dir):
    """(dash_duo, base_url, app) with the app running and no one signed in."""
    app = make_app(f"sqlite:///{tmp_path / 'browser.sqlite3'}", demo_model_dir, demo_cache_dir)
    dash_duo.start_server(app, navigate=False)
    return dash_duo, dash_duo.server.url.rstrip("/"), app


def wait_for(driver, css: str, timeout: float = 20):
    return WebDriverWait(driver, timeout).until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))


def wait_for_text(driver, css: str, text: str, timeout: float = 20):
    WebDriverWait(driver, timeout).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))


def sign_in(duo, base: str, app, path: str = "/"):
    email, password = create_user(app, email="browser@example.com", password="browser-pass")
    driver = duo.driver
    driver.get(f"{base}/login?next={path}")
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login-submit").click()
    wait_for(driver, "#nav-user-email")
    return driver


def severe_errors(duo) -> list[str]:
    return [entry["message"] for entry in (duo.get_logs() or []) if entry.get("level") == "SEVERE"]
