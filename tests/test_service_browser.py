"""The pharmacist's review pages end to end, in headless Chromium against a real `pgx serve`.

A pipeline submits a VCF over the API; a pharmacist logs in with a password, finds the job's flagged drugs in the
queue, overrides one with a reason, and sees the decision in the flag's status and audit trail. A wrong password is
refused on the login page. Runs on SQLite and, when PGX_TEST_POSTGRES_URL is set, on PostgreSQL. Screenshots go to
$PGX_TEST_ARTIFACTS (default: test-artifacts/ at the repo root). Skips when selenium, chromium or chromedriver is
absent.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.service_support import PgxServer, add_user, wait_for_job

REPO = Path(__file__).resolve().parents[1]
VCF = REPO / "sample_vcfs" / "patient_001.vcf"
PHARMACIST, PASSWORD = "pharm.alice", "correct horse battery staple"
REASON = "Patient tolerated it for 5 years; <b>prescriber</b> & pharmacist agree to continue"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium not installed: pip install -e '.[dev]'")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver")
    if chromium is None or chromedriver is None:
        pytest.skip("chromium/chromedriver not installed: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        "--force-device-scale-factor=1",
    ):
        options.add_argument(arg)
    # An explicit Service path keeps Selenium Manager from trying to download a driver.
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def service(tmp_path: Path, db_url: str | None) -> Iterator[tuple[PgxServer, dict[str, str]]]:
    """A running server with a pipeline user and a pharmacist (password and token); stopped afterwards."""
    data_dir = tmp_path / "data"
    tokens = {
        "pipeline": add_user(data_dir, db_url, "lab-pipeline", "pipeline"),
        "pharmacist": add_user(data_dir, db_url, PHARMACIST, "pharmacist", password=PASSWORD),
    }
    server = PgxServer(data_dir, db_url)
    try:
        server.start()
        yield server, tokens
    finally:
        server.stop()


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    root = Path(os.environ.get("PGX_TEST_ARTIFACTS") or REPO / "test-artifacts")
    out = root / "service-browser" / re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")
    out.mkdir(parents=True, exist_ok=True)
    return out


def _fresh(browser: Any, url: str) -> None:
    """Open ``url`` with no session left over from an earlier test (cookies ignore the port)."""
    browser.delete_all_cookies()
    browser.get(url)


def _log_in(browser: Any, password: str) -> None:
    from selenium.webdriver.common.by import By

    browser.find_element(By.ID, "username").send_keys(PHARMACIST)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.ID, "login").click()


def _path(browser: Any) -> str:
    return urlparse(browser.current_url).path


def _wait(browser: Any, timeout: float = 15) -> Any:
    """A wait that retries while a form submission replaces the page under the element being read."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))


def _wait_for_path(browser: Any, path: str, server: PgxServer) -> None:
    """Wait for the navigation a click started (a form post and its redirect) to land on ``path``."""
    from selenium.common.exceptions import TimeoutException

    try:
        _wait(browser).until(
            lambda b: _path(b) == path and b.execute_script("return document.readyState") == "complete"
        )
    except TimeoutException:
        raise AssertionError(f"expected {path}, browser is at {browser.current_url}{server.log_tail()}") from None


def test_wrong_password_stays_on_login_page(
    browser: Any, service: tuple[PgxServer, dict[str, str]], artifacts: Path
) -> None:
    from selenium.webdriver.common.by import By

    server, _ = service
    _fresh(browser, f"{server.url}/review")
    assert _path(browser) == "/login", "the queue must redirect to the login page without a session"
    _log_in(browser, "not the password at all")
    error = _wait(browser).until(lambda b: b.find_element(By.ID, "error"))
    browser.save_screenshot(str(artifacts / "login-wrong-password.png"))
    assert error.text == "Wrong user name or password."
    assert _path(browser) == "/login" and browser.find_elements(By.ID, "password")
    assert not browser.find_elements(By.ID, "queue")
    # still no session: the queue sends us back to log in
    browser.get(f"{server.url}/review")
    assert _path(browser) == "/login", server.log_tail()


def test_pharmacist_overrides_a_flag(browser: Any, service: tuple[PgxServer, dict[str, str]], artifacts: Path) -> None:
    from selenium.webdriver.common.by import By

    server, tokens = service
    # A pipeline submits a VCF through the API.
    with server.client(tokens["pipeline"]) as api, VCF.open("rb") as fh:
        r = api.post("/v1/jobs", files={"vcf": (VCF.name, fh, "text/plain")})
        assert r.status_code == 202, r.text + server.log_tail()
        job = wait_for_job(api, r.json()["id"], {}, timeout=60)
    assert job["status"] == "done", f"{job['error']}{server.log_tail()}"
    with server.client(tokens["pharmacist"]) as api:
        flags = [f for f in api.get("/v1/flags", params={"limit": 1000}).json() if f["job_id"] == job["id"]]
    assert flags, "patient_001 should have flagged drugs"
    expected = {(f["sample"], f["drug"]) for f in flags}

    # The pharmacist logs in and sees every flagged drug of the job in the queue.
    _fresh(browser, f"{server.url}/login")
    browser.save_screenshot(str(artifacts / "login.png"))
    _log_in(browser, PASSWORD)
    _wait_for_path(browser, "/review", server)
    assert f"{PHARMACIST} (pharmacist)" in browser.find_element(By.TAG_NAME, "header").text
    rows = browser.execute_script("""
      return Array.from(document.querySelectorAll("#queue tbody tr[data-flag]")).map(tr => ({
        id: Number(tr.dataset.flag), level: tr.cells[0].innerText.trim(), drug: tr.cells[1].innerText.trim(),
        sample: tr.cells[4].innerText.trim(), status: tr.cells[5].innerText.trim()}));
    """)
    browser.save_screenshot(str(artifacts / "queue.png"))
    assert {(r["sample"], r["drug"]) for r in rows} == expected
    assert {r["status"] for r in rows} == {"open"}
    first = rows[0]
    assert first["level"] == "contraindicated", "the queue lists the most severe flags first"

    # They open the first flag, give a reason and override it.
    browser.find_element(By.CSS_SELECTOR, f'#queue tr[data-flag="{first["id"]}"] a').click()
    _wait_for_path(browser, f"/review/flags/{first['id']}", server)
    assert browser.find_element(By.ID, "status").text == "open"
    assert first["drug"] in browser.find_element(By.TAG_NAME, "h1").text
    browser.find_element(By.ID, "reason-input").send_keys(REASON)
    browser.find_element(By.ID, "override").click()
    _wait(browser).until(lambda b: b.find_element(By.ID, "status").text == "overridden")
    assert not browser.find_elements(By.ID, "error")
    assert browser.find_element(By.ID, "reason").text == REASON  # shown as text, not markup
    audit = browser.execute_script("""
      return Array.from(document.querySelectorAll("#audit tbody tr")).map(tr =>
        Array.from(tr.cells).map(td => td.innerText.trim()));
    """)
    browser.save_screenshot(str(artifacts / "flag-overridden.png"))
    assert len(audit) == 1, audit
    assert audit[0][1:5] == [PHARMACIST, "override", "open → overridden", REASON]

    # The API agrees: the decision is stored, with who made it.
    with server.client(tokens["pharmacist"]) as api:
        overridden = api.get("/v1/flags", params={"status": "overridden"}).json()
    assert [(f["id"], f["decision_reason"], f["version"]) for f in overridden] == [(first["id"], REASON, 2)]
