"""The status page in a real browser: Debian's chromium, driven through Debian's
chromedriver with Selenium, against ``shipwatch run``'s HTTP server on loopback. Nothing
is downloaded: the browser and driver are the Debian binaries, and Selenium Manager is
kept offline. Skipped where chromium is not installed, except in CI, where it must be.

Writes the page's screenshot to docs/screenshots/status.png (README "Status page")."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

import pytest

from bot.http import serve
from tests.conftest import Harness, HarnessFactory
from tests.support import ROOT

# Debian's binaries; another system's may be named with these variables.
CHROMIUM = os.environ.get("SHIPWATCH_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("SHIPWATCH_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")

SCREENSHOT = ROOT / "docs" / "screenshots" / "status.png"
CONTROLS = "a[href], button, input, select, textarea, summary, [tabindex], [role=button]"

INTERNAL_TITLE = "orders-db primary fails over in a loop"
INTERNAL_NOTE = "bob thinks the failover script on db-7 is at fault"
PUBLIC_TITLE = "Checkout errors for some customers"
PUBLIC_UPDATE = "Some payments fail at checkout. We have found the cause and are fixing it."

pytestmark = [
    pytest.mark.browser,
    # One database is enough to see a page in a browser; the routes' tests run on both.
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]
R = TypeVar("R")


def _chromium_or_skip() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if shutil.which(p) is None]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip install -e '.[dev]')")
    if missing:
        message = (
            f"{', '.join(missing)} missing; apt-get install chromium chromium-driver "
            "to run the browser tests"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    _chromium_or_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    # Selenium Manager would look for (and download) a browser and driver: the paths
    # are given, and offline it could not reach the internet even if it tried.
    monkeypatch.setenv("SE_OFFLINE", "true")
    options = Options()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root in a container
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=900,1100",
        "--lang=en-US",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


class Page:
    """The browser, each blocking WebDriver call run off the event loop that serves the
    page."""

    def __init__(self, h: Harness, driver: Any, base: str) -> None:
        self.h, self.driver, self.base = h, driver, base

    async def run(self, work: Callable[..., R], *args: Any) -> R:
        return await asyncio.to_thread(work, *args)

    async def open(self, path: str) -> None:
        await self.run(self.driver.get, self.base + path)

    async def text(self, css: str) -> str:
        return await self.run(lambda: self.driver.find_element("css selector", css).text)

    async def source(self) -> str:
        return await self.run(lambda: self.driver.page_source)

    async def lang(self) -> str:
        return await self.run(
            lambda: self.driver.find_element("tag name", "html").get_attribute("lang")
        )

    async def unnamed_controls(self) -> list[str]:
        def unnamed() -> list[str]:
            found = self.driver.find_elements("css selector", CONTROLS)
            assert found, "the page has no controls at all"
            return [e.get_attribute("outerHTML") for e in found if not e.accessible_name.strip()]

        return await self.run(unnamed)

    async def tab(self) -> str:
        """Press Tab; the text of what then has the focus."""

        def press() -> str:
            from selenium.webdriver.common.action_chains import ActionChains
            from selenium.webdriver.common.keys import Keys

            ActionChains(self.driver).send_keys(Keys.TAB).perform()
            return str(self.driver.switch_to.active_element.text)

        return await self.run(press)

    async def wait_for_url(self, ending: str) -> None:
        def wait() -> None:
            from selenium.webdriver.support.wait import WebDriverWait

            WebDriverWait(self.driver, 10).until(lambda d: d.current_url.endswith(ending))

        await self.run(wait)

    async def wait_text(self, css: str, wanted: str, *, within: float = 10.0) -> None:
        """Until the element's text holds ``wanted`` (a page arriving, or changing by
        itself)."""

        def wait() -> None:
            from selenium.webdriver.support.wait import WebDriverWait

            def shows(d: Any) -> bool:
                found = d.find_elements("css selector", css)
                return bool(found) and wanted in found[0].text

            WebDriverWait(self.driver, within).until(shows)

        await self.run(wait)

    async def press_enter(self) -> None:
        def press() -> None:
            from selenium.webdriver.common.keys import Keys

            self.driver.switch_to.active_element.send_keys(Keys.ENTER)

        await self.run(press)


@pytest.fixture
async def page(browser: Any, make_harness: HarnessFactory) -> AsyncIterator[Page]:
    h = await make_harness()
    runner, port = await serve(h.app, host="127.0.0.1", port=0)
    try:
        yield Page(h, browser, f"http://127.0.0.1:{port}")
    finally:
        await runner.cleanup()


async def test_a_p1_on_the_status_page_in_both_languages(page: Page) -> None:
    h = page.h
    # Last week's slow sign-in, resolved: in the past incidents and the history bars.
    for line in (
        "/incident open login latency p99 4s --sev P2 --service miniapp",
        "/incident public-title 1 Slow sign-in on the mini program",
        "/incident update 1 --public Sign-in is slow; we are adding capacity.",
    ):
        assert (await h.say(line)).status == "ok"
    await h.advance(days=1)
    assert (await h.say("/incident resolve 1")).status == "ok"
    await h.advance(days=6)
    for line in (
        f"/incident open {INTERNAL_TITLE} --sev P1 --service web",
        f"/incident note 2 {INTERNAL_NOTE}",
        f"/incident update 2 --public {PUBLIC_UPDATE}",
        f"/incident public-title 2 {PUBLIC_TITLE}",
    ):
        outcome = await h.say(line)
        assert outcome.status == "ok", h.reply_text(outcome)

    await page.open("/status")
    assert await page.lang() == "en"
    assert await page.text('[data-component="Website"] .state') == "Partial outage"
    assert await page.text('[data-component="Mini program"] .state') == "Operational"
    assert await page.text("#incident-2 h3") == PUBLIC_TITLE
    assert PUBLIC_UPDATE in await page.text("#incident-2 .updates")
    source = await page.source()
    assert INTERNAL_NOTE not in source
    assert INTERNAL_TITLE not in source
    assert await page.unnamed_controls() == []
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    assert await page.run(page.driver.save_screenshot, str(SCREENSHOT))

    # By keyboard: the language links come first; Enter on 中文 switches the page.
    assert await page.tab() == "English"
    assert await page.tab() == "中文"
    await page.press_enter()
    await page.wait_for_url("/status?lang=zh")
    assert await page.lang() == "zh-CN"
    assert await page.text('[data-component="网站"] .state') == "部分中断"
    assert PUBLIC_UPDATE in await page.text("#incident-2 .updates")
    assert INTERNAL_NOTE not in await page.source()
    assert await page.unnamed_controls() == []

    await page.open("/status?lang=zh")
    assert await page.lang() == "zh-CN"
