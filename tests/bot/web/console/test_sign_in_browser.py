"""Signing in to the web console in a real browser (Debian's chromium through Selenium,
as the status page's test runs it): ``/web`` typed on the console, the link opened, the
button pressed from the keyboard, the incidents page reached; a change made in chat
refreshes the open page through its event stream; the page in Chinese; signing out.

Writes the sign-in page's screenshot to docs/screenshots/web-signin.png (README "Web
console")."""

from __future__ import annotations

import pytest

from tests.bot.web.console.support import (
    HOME,
    browser_signed_in,
    sign_in_link,
    unnamed_controls,
    wait_for_script,
)
from tests.bot.web.test_status_browser import Page
from tests.support import ROOT

SCREENSHOT = ROOT / "docs" / "screenshots" / "web-signin.png"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


async def test_sign_in_live_update_chinese_and_sign_out_in_a_browser(page: Page) -> None:
    h = page.h
    link = await sign_in_link(h, "alice")
    await page.open(link)
    assert await page.lang() == "en"
    assert await page.text("main p") == "Sign in to the Shipwatch web console as Alice Chen?"
    assert await unnamed_controls(page.driver) == []
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    assert await page.run(page.driver.save_screenshot, str(SCREENSHOT))
    # By keyboard: the one control is the button.
    assert await page.tab() == "Sign in as Alice Chen"
    await page.press_enter()
    await page.wait_for_url(HOME)
    assert await page.lang() == "en"
    assert await page.text("main h1") == "Incidents"
    assert "Alice Chen" in await page.text("header .who")
    assert await unnamed_controls(page.driver) == []
    cookies = await page.run(page.driver.get_cookies)
    [cookie] = [c for c in cookies if c["name"] == "shipwatch_session"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["path"] == "/web"

    # A change in chat reaches the open page: it fetches itself again (no reload).
    await page.run(
        page.driver.execute_script,
        "window.refreshed = 0; window.marker = 'same page';"
        "document.addEventListener('shipwatch:refreshed', () => { window.refreshed += 1; });",
    )
    await wait_for_script(page, "document.documentElement.dataset.live === 'ready'")
    outcome = await h.say("/incident open checkout errors --sev P2 --service web")
    assert outcome.status == "ok"
    await wait_for_script(page, "window.refreshed > 0")
    assert await page.run(page.driver.execute_script, "return window.marker") == "same page"

    # An SLA clock counts down each second.
    await page.run(
        page.driver.execute_script,
        "const t = document.createElement('time'); t.id = 'sla';"
        "t.setAttribute('data-countdown', '');"
        "t.setAttribute('datetime', new Date(Date.now() + 90500).toISOString());"
        "document.querySelector('main').append(t);",
    )
    await wait_for_script(
        page, "/^0:01:(2\\d|30)$/.test(document.getElementById('sla').textContent)"
    )

    # In Chinese, for the rest of the session.
    await page.open(HOME + "?lang=zh")
    assert await page.lang() == "zh-CN"
    assert await page.text("main h1") == "故障"
    assert await unnamed_controls(page.driver) == []
    await page.open(HOME)
    assert await page.lang() == "zh-CN"
    assert await page.text("header .who button") == "退出登录"

    # Signing out: the session ends, the pages lead to sign-in.
    await page.run(lambda: page.driver.find_element("css selector", "header .who button").click())
    await page.wait_for_url("/web/signin?out=1")
    assert "You are signed out" in await page.text("main")
    await page.open(HOME)
    await page.wait_for_url("/web/signin")

    # The helper other browser tests use: Mallory, who has no roles, signed in.
    csrf = await browser_signed_in(page.driver, h, base=page.base, handle="mallory")
    assert csrf
    assert "Mallory Xu" in await page.text("header .who")
    nav = await page.text("header nav")
    assert "Audit" not in nav
    assert "Incidents" in nav
