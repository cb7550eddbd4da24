"""The console's browser tests share one rig: Debian's Chromium (``browser``, from the
status page's test) looking at a harness's HTTP server (``page``). A test module that
needs its harness made otherwise (another clock) defines its own ``page``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.http import serve
from tests.bot.web.console.support import SECRET
from tests.bot.web.test_status_browser import Page
from tests.bot.web.test_status_browser import browser as browser  # the fixture
from tests.conftest import HarnessFactory


@pytest.fixture
async def page(browser: Any, make_harness: HarnessFactory) -> AsyncIterator[Page]:
    h = await make_harness(action_link_secret=SECRET)
    runner, port = await serve(h.app, host="127.0.0.1", port=0)
    try:
        yield Page(h, browser, f"http://127.0.0.1:{port}")
    finally:
        await runner.cleanup()
