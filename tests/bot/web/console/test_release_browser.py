"""A release's page in a real browser (Debian's chromium through Selenium, as the status
page's test runs it): sign in through a link, open the release, press Promote by
keyboard, and see it refused with its blockers; the page says its language, every
control has a name, and the charts are there with their limits.

Writes the page's screenshot to docs/screenshots/web-release.png (README "Web console")."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.http import serve
from tests.bot.web.console.support import SECRET, browser_signed_in, unnamed_controls
from tests.bot.web.test_status_browser import Page, browser  # noqa: F401  (the fixture)
from tests.conftest import HarnessFactory
from tests.support import ROOT, set_metrics

SCREENSHOT = ROOT / "docs" / "screenshots" / "web-release.png"
MAX_TABS = 40

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


@pytest.fixture
async def page(browser: Any, make_harness: HarnessFactory) -> AsyncIterator[Page]:  # noqa: F811
    # The clock starts twenty minutes ago, the walk below takes those twenty minutes on
    # it: the page's countdowns count in the browser's real time, and agree.
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=20)
    h = await make_harness(action_link_secret=SECRET, start=start)
    runner, port = await serve(h.app, host="127.0.0.1", port=0)
    try:
        yield Page(h, browser, f"http://127.0.0.1:{port}")
    finally:
        await runner.cleanup()


async def test_a_promote_pressed_by_keyboard_is_refused_with_its_blockers(page: Page) -> None:
    h = page.h
    # web 2.0.0 twenty minutes into its canary, its latency climbing towards the limit.
    set_metrics(h, {"error_rate_stop": 0.002, "error_rate": 0.002, "p99_latency_ms": 180})
    assert (await h.say("/release start web 2.0.0")).status == "ok"
    for minute in range(20):
        await h.advance(minutes=1)
        set_metrics(
            h,
            {
                "error_rate_stop": 0.002 + 0.0003 * (minute % 5),
                "error_rate": 0.002 + 0.0003 * (minute % 5),
                "p99_latency_ms": 180 + 12 * minute,
            },
        )
    assert (await h.say("/release check web 1")).status == "ok"

    await browser_signed_in(page.driver, h, base=page.base, handle="alice")
    await page.open("/web/releases/1")
    assert await page.lang() == "en"
    assert await unnamed_controls(page.driver) == []
    source = await page.source()
    assert source.count('<svg class="chart"') == 3
    assert source.count('class="limit"') == 3

    # By keyboard: Tab to Promote, Enter.
    for _ in range(MAX_TABS):
        if await page.tab() == "Promote":
            break
    else:
        pytest.fail("Promote cannot be reached with Tab")
    await page.press_enter()
    await page.wait_for_url("/web/releases/1")
    # The URL is the page's own before the answer comes back too: wait for the answer.
    await page.wait_text("#flash", "soak")
    refusal = await page.text("#flash")
    assert "soak" in refusal, refusal
    assert (
        await page.run(
            lambda: page.driver.find_element("css selector", "#flash").get_attribute("role")
        )
        == "alert"
    )
    assert await page.text("dd.percent") == "10%"
    assert await unnamed_controls(page.driver) == []
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    await page.run(page.driver.set_window_size, 900, 2200)
    assert await page.run(page.driver.save_screenshot, str(SCREENSHOT))

    # Shown once: the next look at the page has no refusal on it.
    await page.open("/web/releases/1")
    assert 'id="flash"' not in await page.source()
