"""Real-browser fixtures: Debian's Chromium driven headless through Playwright's sync API.

Playwright's sync API keeps an asyncio loop in the main thread, which makes Django's async-safety guard refuse the
test's own ORM calls ("You cannot call this from an async context"); the standard workaround is
DJANGO_ALLOW_ASYNC_UNSAFE. The live server runs in a thread of this process, so monkeypatching a module (e.g. the
reporting clock) reaches the server too.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from tradepilot.conftest import rates, reference, world  # noqa: F401  (fixtures: pytest registers imported ones)

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
DEFAULT_TIMEOUT_MS = 15_000
SHOTS = Path("/tmp/tradepilot-shots")

#: The reporting clock used by the browser tests: period 2026-09 is the latest closed month, due 2026-10-10,
#: data entry locks 2026-10-30, so it is open for entry, submission and revision.
FIXED_TODAY = dt.date(2026, 10, 25)
OPEN_PERIOD = "2026-09"


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} does not exist: the browser tests drive Debian's chromium package")
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        pw.stop()


@pytest.fixture
def new_page(browser):
    """A factory of pages, each in its own context (own cookies: one per user); all closed after the test."""
    contexts = []

    def make(locale: str = "zh-CN"):
        context = browser.new_context(locale=locale, viewport={"width": 1366, "height": 900}, accept_downloads=True)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def fixed_today(monkeypatch):
    """Pin the reporting clock (`periods.today`, which every reporting module reads) to FIXED_TODAY."""
    from tradepilot.reporting import periods

    monkeypatch.setattr(periods, "today", lambda: FIXED_TODAY)
    return FIXED_TODAY


@pytest.fixture
def shots():
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


def login(page, live_server, username: str, password: str = "pw"):
    """Log in through the login form and wait until the browser has left the login page."""
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form button[type=submit].primary")
    assert "/login/" not in page.url, f"login as {username} failed: still on {page.url}"
    return page
