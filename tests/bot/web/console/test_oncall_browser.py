"""The On call and Reports pages in a real browser (Debian's chromium through Debian's
chromedriver, as tests/bot/web/test_status_browser.py runs it): Bob signs in through his
link, sees who is on call and the four-week calendar with an override marked, reaches the
Acknowledge button of a page by keyboard and presses it, and sees the page acknowledged;
an ack typed in chat reaches the open page live; then a report with its chart. Every
control has a name, ``lang`` follows the language.

Writes docs/screenshots/web-oncall.png and web-reports.png (README "On call", "Reports")."""

from __future__ import annotations

import re

import pytest

from tests.bot.web.console.support import browser_signed_in, unnamed_controls, wait_for_script
from tests.bot.web.test_status_browser import Page
from tests.support import ROOT

SHOTS = ROOT / "docs" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    # One database is enough to see a page in a browser; the routes' tests run on both.
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


async def _tab_to(page: Page, label: str, *, most: int = 80) -> None:
    """Press Tab until the focus is on the control named ``label``."""

    def name() -> str:
        return str(page.driver.switch_to.active_element.accessible_name)

    for _ in range(most):
        await page.tab()
        if await page.run(name) == label:
            return
    raise AssertionError(f"{label!r} cannot be reached by keyboard")


async def test_bob_acknowledges_a_page_from_the_on_call_page(page: Page) -> None:
    h = page.h
    await h.advance(hours=8)  # Monday 17:00 in Shanghai: the evening report is posted
    for line, user in (
        ("/oncall override web @dave 2026-11-24T09:00 2026-11-24T21:00", "carol"),
        ("/oncall swap web @bob @carol 2026-12-02", "carol"),
        ("/page web --sev P1 checkout is down", "alice"),
        ("/page web --sev P2 disk on db-2 filling", "alice"),
    ):
        outcome = await h.say(line, user=user)
        assert outcome.status == "ok", h.reply_text(outcome)
    await h.advance(minutes=5)  # page 1 has reached the secondary too

    await browser_signed_in(page.driver, h, base=page.base, handle="bob")
    await page.run(page.driver.set_window_size, 1200, 2400)
    await page.open("/web/oncall")
    assert await page.lang() == "en"
    assert await page.text("h1") == "On call"
    primary = await page.text('table.now tr[data-layer="primary"]')
    assert "@bob" in primary
    assert "@dave" in primary
    weeks = await page.run(lambda: page.driver.find_elements("css selector", "table.cal"))
    assert len(weeks) == 4
    tuesday = await page.text('td[data-day="2026-11-24"] .shift.override')
    assert tuesday.startswith("@dave")
    assert "09:00–21:00" in tuesday
    assert "Step" in await page.text("#page-1 table.reached")
    assert await unnamed_controls(page.driver) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert await page.run(page.driver.save_screenshot, str(SHOTS / "web-oncall.png"))

    # By keyboard: Tab to page 1's Acknowledge, Enter; back on the page, acknowledged.
    await _tab_to(page, "Acknowledge page #1")
    await page.press_enter()
    await page.wait_for_url("/web/oncall#page-1")
    assert (await page.text(".flash")).startswith("You acknowledged page #1")
    assert await page.text("#page-1 .acked") == await page.text("#page-1 p.acked")
    assert "Acknowledged by @bob" in await page.text("#page-1")
    buttons = await page.run(
        lambda: page.driver.find_elements("css selector", "#page-1 form button")
    )
    assert buttons == []
    assert "Acknowledge page #2" in await page.source()

    # Carol acknowledges page 2 in chat: the open page shows it without a reload.
    await page.run(page.driver.execute_script, "window.marker = 'same page';")
    await wait_for_script(page, "document.documentElement.dataset.live === 'ready'")
    outcome = await h.say("/ack 2", user="carol")
    assert outcome.status == "ok", h.reply_text(outcome)
    await wait_for_script(
        page, "/Acknowledged by @carol/.test(document.getElementById('page-2').textContent)"
    )
    assert await page.run(page.driver.execute_script, "return window.marker") == "same page"

    # A report as it was sent, with its chart loaded from this server.
    await page.open("/web/reports")
    assert await unnamed_controls(page.driver) == []
    link = await page.text("table.reports tbody tr:first-child a")
    assert re.match(r"2026-11-23 17:00", link)
    await page.run(
        lambda: page.driver.find_element("css selector", "table.reports tbody a").click()
    )
    assert "Daily report" in await page.text("article.report")
    width = await page.run(
        lambda: page.driver.execute_script(
            "return document.querySelector('figure.chart img').naturalWidth"
        )
    )
    assert width > 0
    assert await page.run(page.driver.save_screenshot, str(SHOTS / "web-reports.png"))

    # The same page in Chinese.
    await page.open("/web/oncall?lang=zh")
    assert await page.lang() == "zh-CN"
    assert await page.text("h1") == "值班"
    assert await unnamed_controls(page.driver) == []
