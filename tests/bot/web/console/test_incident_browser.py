"""The console's incident pages in a real browser (Debian's chromium through Selenium, as
in tests/bot/web/test_status_browser.py): signed in through a link, the list, an
incident's page, a page acknowledged from it, and what changes in chat shown without a
reload; the page's language, every control named and reached by keyboard.

Writes docs/screenshots/web-incidents.png and web-incident.png (README "Web console")."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.http import serve
from tests.bot.web.console.support import SECRET, browser_signed_in
from tests.bot.web.test_status_browser import CONTROLS, Page
from tests.bot.web.test_status_browser import browser as browser  # the fixture
from tests.conftest import HarnessFactory
from tests.support import ROOT

SHOTS = ROOT / "docs" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


class Console(Page):
    async def click(self, css: str) -> None:
        await self.run(lambda: self.driver.find_element("css selector", css).click())

    async def unnamed_controls(self) -> list[str]:
        """The controls a person can use (hidden form fields are none) with no name."""

        def unnamed() -> list[str]:
            found = [
                e
                for e in self.driver.find_elements("css selector", CONTROLS)
                if e.get_attribute("type") != "hidden"
            ]
            assert found, "the page has no controls at all"
            return [str(e.get_attribute("outerHTML")) for e in found if not e.accessible_name]

        return await self.run(unnamed)

    async def unreachable_controls(self) -> list[str]:
        """The controls Tab never reaches, going once round the page from its top."""

        def walk() -> list[str]:
            from selenium.webdriver.common.action_chains import ActionChains
            from selenium.webdriver.common.keys import Keys

            d = self.driver
            controls = [
                e
                for e in d.find_elements("css selector", CONTROLS)
                if e.is_displayed() and e.get_attribute("type") != "hidden"
            ]
            d.execute_script("document.activeElement && document.activeElement.blur()")
            reached: set[str] = set()
            for _ in range(len(controls) + 10):
                ActionChains(d).send_keys(Keys.TAB).perform()
                reached.add(d.switch_to.active_element.id)
            return [
                str(e.get_attribute("outerHTML"))[:120] for e in controls if e.id not in reached
            ]

        return await self.run(walk)

    async def current_path(self) -> str:
        from urllib.parse import urlsplit

        return urlsplit(await self.run(lambda: self.driver.current_url)).path


@pytest.fixture
async def console(browser: Any, make_harness: HarnessFactory) -> AsyncIterator[Console]:
    # The clock starts at the browser's own time, so the SLA clocks count down from where
    # the page says they are.
    start = datetime.now(UTC).replace(second=0, microsecond=0)
    h = await make_harness(action_link_secret=SECRET, timezone="Asia/Shanghai", start=start)
    runner, port = await serve(h.app, host="127.0.0.1", port=0)
    try:
        yield Console(h, browser, f"http://127.0.0.1:{port}")
    finally:
        await runner.cleanup()


async def _say(c: Console, text: str, *, user: str = "alice") -> None:
    outcome = await c.h.say(text, user=user)
    assert outcome.status == "ok", c.h.reply_text(outcome)


async def test_signed_in_the_list_an_incident_and_a_page_acknowledged(console: Console) -> None:
    c = console
    await _say(c, "/incident open Checkout fails for card payments --sev P1 --service web")
    await _say(c, "/incident open Search results are stale --sev P3")
    await _say(c, "/incident assign 1 comms @carol")
    await _say(c, "/incident update 1 rolled back orders-api 4.2.1")
    await _say(c, "/incident action add 1 add a canary for checkout --owner @bob --due 7d")

    await browser_signed_in(c.driver, c.h, base=c.base, handle="bob")
    assert await c.current_path() == "/web/incidents"
    assert await c.lang() == "en"
    assert "Checkout fails for card payments" in await c.text("#incident-1")
    assert "Search results are stale" in await c.text("#incident-2")
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert await c.run(c.driver.save_screenshot, str(SHOTS / "web-incidents.png"))
    assert await c.unnamed_controls() == []
    assert await c.unreachable_controls() == []

    await c.click('#incident-1 a[href="/web/incidents/1"]')
    await c.wait_text("h1", "Incident #1 [P1] Checkout fails for card payments")
    assert await c.lang() == "en"
    assert "@carol" in await c.text("#card")
    assert "rolled back orders-api 4.2.1" in await c.text("#timeline")
    assert "add a canary for checkout" in await c.text("#actions")
    await c.wait_text("time[data-countdown]", ":")  # counting down
    assert await c.run(c.driver.save_screenshot, str(SHOTS / "web-incident.png"))
    assert await c.unnamed_controls() == []
    assert await c.unreachable_controls() == []

    # The P1 paged the web team; bob acknowledges the page from here.
    await c.click("#pages form button")
    await c.wait_text("#flash", "You acknowledged page #1")
    assert "@bob" in await c.text("#card")  # answering the page answered the incident
    assert await c.run(lambda: c.driver.find_elements("css selector", "#pages form")) == []


async def _live_or_skip(c: Console) -> None:
    """The page follows changes through the console's script; without it (a version of the
    sign-in before its events) there is nothing to watch."""
    import http.client
    from urllib.parse import urlsplit

    where = urlsplit(c.base)

    def fetch() -> int:
        conn = http.client.HTTPConnection(where.hostname or "", where.port, timeout=5)
        try:
            conn.request("GET", "/web/static/console.js")
            return conn.getresponse().status
        finally:
            conn.close()

    if await c.run(fetch) != 200:
        pytest.skip("/web/static/console.js is not served in this version")


async def test_an_incident_opened_in_chat_appears_on_the_list_without_a_reload(
    console: Console,
) -> None:
    c = console
    await _live_or_skip(c)
    await _say(c, "/incident open Checkout fails --sev P2 --service web")
    await browser_signed_in(c.driver, c.h, base=c.base, handle="alice")
    await c.wait_text("#incident-1", "Checkout fails")
    await c.run(c.driver.execute_script, "window.notReloaded = true")
    await _say(c, "/incident open Payments time out --sev P1 --service web", user="carol")
    await c.wait_text("#incident-2", "Payments time out")
    assert await c.run(c.driver.execute_script, "return window.notReloaded === true")


async def test_an_ack_in_chat_appears_on_the_incident_page_without_a_reload(
    console: Console,
) -> None:
    c = console
    await _live_or_skip(c)
    await _say(c, "/incident open Checkout fails --sev P2 --service web")
    await browser_signed_in(c.driver, c.h, base=c.base, handle="alice")
    await c.open("/web/incidents/1")
    await c.wait_text("#card", "not yet")
    await c.run(c.driver.execute_script, "window.notReloaded = true")
    await _say(c, "/incident ack 1", user="bob")
    await c.wait_text("#card", "@bob")
    assert await c.run(c.driver.execute_script, "return window.notReloaded === true")
