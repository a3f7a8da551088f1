"""Browser tests: Playwright for Python driving Debian's Chromium, launched by its path.

They run when `chromium` is on PATH and skip, with a reason, when it is not; `.ci/run` sets
REQUIRE_BROWSER=1 so a missing browser fails there instead. Screenshots go to
test-artifacts/screenshots/ (see README).
"""

import functools
import json
import os
import shutil
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation import gettext, ngettext

from payments import stripe_api

CHROMIUM = shutil.which("chromium")
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


def pytest_collection_modifyitems(config, items):
    missing = []
    if CHROMIUM is None:
        missing.append("Debian's chromium is not installed (apt-get install -y chromium)")
    if not AXE.exists():
        missing.append("axe-core is not installed (npm install)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing.append("playwright is not installed")
    if not missing:
        return
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise pytest.UsageError("Browser tests required but cannot run: " + "; ".join(missing))
    skip = pytest.mark.skip(reason="SKIPPED browser tests: " + "; ".join(missing))
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls from the
    # test body are still synchronous and safe here.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture(params=list(VIEWPORTS))
def viewport_name(request) -> str:
    return request.param


def new_page(browser, viewport_name: str, *, javascript: bool = True, locale: str = "nl-NL"):
    context = browser.new_context(
        viewport=VIEWPORTS[viewport_name],
        java_script_enabled=javascript,
        locale=locale,
        bypass_csp=True,  # lets the test inject axe-core under our strict CSP
    )
    return context.new_page()


def screenshot(target, name: str) -> Path:
    """A whole page (full length) or one element (a Locator) as test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if hasattr(target, "goto"):
        target.screenshot(path=str(path), full_page=True)
    else:
        target.screenshot(path=str(path))
    return path


def axe_violations(page, *, impacts=("serious", "critical")) -> list[dict]:
    """Run axe-core in the page (injected from node_modules, no network) and return serious findings."""
    page.add_script_tag(content=_axe_source())
    result = page.evaluate("async () => await axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in impacts
    ]


def assert_accessible(page) -> None:
    violations = axe_violations(page)
    assert not violations, json.dumps(violations, indent=2)


@functools.cache
def _axe_source() -> str:
    return AXE.read_text()


# --- the site under test -------------------------------------------------------------------


@pytest.fixture
def sandbox_site(settings, monkeypatch, live_server) -> str:
    """The live server as `make run` serves it: DEBUG, no Stripe key, the offline sandbox.

    A person needs seconds to fill in the widget; a test does not, so the anti-bot minimum
    fill-in time and the checkout rate limits (payments.forms, payments.ratelimit) are off
    here: they have their own tests. Returns the base URL.
    """
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_SANDBOX = True
    settings.SITE_URL = live_server.url
    settings.APPRECIATION_MIN_SUBMIT_SECONDS = 0
    settings.RATELIMIT_ENABLED = False
    monkeypatch.setattr(stripe_api, "HTTP_CLIENT", None)
    translation.activate("nl")
    yield live_server.url
    translation.activate("nl")


@pytest.fixture
def open_page(browser):
    """Opens a page in a fresh browser context (own cookies and cache); all closed after the test."""
    contexts = []

    def _open(viewport_name: str = "desktop", *, javascript: bool = True, locale: str = "nl-NL"):
        page = new_page(browser, viewport_name, javascript=javascript, locale=locale)
        page.set_default_timeout(10_000)  # fail in seconds, not Playwright's 30
        contexts.append(page.context)
        return page

    yield _open
    for context in contexts:
        context.close()


def tr(text: str, language: str = "nl") -> str:
    """An interface string as the site shows it in `language`, so tests follow the catalogue."""
    with translation.override(language):
        return gettext(text)


def ntr(singular: str, plural: str, count: int, language: str = "nl") -> str:
    """The singular or plural form for `count`, still with its placeholders."""
    with translation.override(language):
        return ngettext(singular, plural, count)
