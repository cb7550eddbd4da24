"""Signing a person in to the web console in a test, the way a person does: they type
``/web`` (on the terminal console, where the link is the reply), the link's page is
opened, and its "Sign in as …" form is sent. Nothing is made up behind the application's
back: the session, its cookie and its form token are the real ones.

Route tests (an aiohttp test client)::

    from tests.bot.web.console.support import signed_in

    async def test_something(make_harness: HarnessFactory) -> None:
        h = await make_harness(action_link_secret="test-secret")
        alice = await signed_in(h, "alice")
        page = await alice.client.get("/web/incidents")           # the cookie goes along
        done = await alice.client.post("/web/…", data={"csrf": alice.csrf, …})
        mallory = await signed_in(h, "mallory")                   # a client of her own

The harness needs ``action_link_secret`` (``SECRET`` here is a fine value); without it
``/web`` only says that it must be set. Each call makes a new client (its own cookie jar)
unless ``client`` is given, and closes it with the harness.

Browser tests (Selenium, as in tests/bot/web/test_status_browser.py)::

    csrf = await browser_signed_in(driver, h, base="http://127.0.0.1:PORT", handle="alice")
    # the browser now shows /web/incidents as Alice

``await unnamed_controls(driver)`` lists the controls of the page a browser shows that
have no accessible name (it should be empty).

``sign_in_link(h, handle)`` is the link alone (path and query), for tests of the link
itself (expired, used, forged, someone else's)."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp.test_utils import TestClient, TestServer

from bot.http import make_web_app
from bot.web.console.sessions import CSRF_FIELD
from playbooks.people import Person
from tests.conftest import Harness

SECRET = "web-console-test-secret"
# What a person can operate on a page (a form's hidden token is no control).
CONTROLS = (
    "a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex], "
    "[role=button]"
)
HOME = "/web/incidents"
_LINK = re.compile(r"https?://\S+/web/signin/\S+")
_CSRF = re.compile(rf'name="{CSRF_FIELD}" value="([^"]+)"')


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A person signed in: ``client`` sends their cookie, ``csrf`` goes in every POST
    (form field ``csrf``), ``session_cookie`` is the cookie's value."""

    person: Person
    client: TestClient
    csrf: str
    session_cookie: str

    def form(self, **fields: str) -> dict[str, str]:
        """A form's fields with the token added."""
        return {CSRF_FIELD: self.csrf, **fields}


async def sign_in_link(h: Harness, handle: str = "alice") -> str:
    """Type ``/web`` as ``handle`` on the console; the link's path (from /web/signin/)."""
    outcome = await h.say("/web", user=handle)
    text = h.reply_text(outcome)
    found = _LINK.search(text)
    assert found is not None, f"no sign-in link in the reply to /web: {text!r}"
    parts = urlsplit(found.group(0))
    return parts.path


async def web_client(h: Harness) -> TestClient:
    """A client of the application's HTTP server (the real one, middleware and all),
    closed with the harness."""
    client = TestClient(TestServer(make_web_app(h.app)))
    await client.start_server()
    h.closers.append(client.close)
    return client


async def signed_in(
    h: Harness, handle: str = "alice", *, client: TestClient | None = None
) -> SignedIn:
    """``handle`` signed in through the real flow; see the module's docstring."""
    client = client or await web_client(h)
    link = await sign_in_link(h, handle)
    shown = await client.get(link)
    assert shown.status == 200, await shown.text()
    confirmed = await client.post(link, allow_redirects=False)
    assert confirmed.status == 303, await confirmed.text()
    assert confirmed.headers["Location"] == HOME
    cookie = confirmed.cookies["shipwatch_session"].value
    page = await client.get(HOME)
    body = await page.text()
    found = _CSRF.search(body)
    assert found is not None, f"no form token on {HOME}: {body[:500]!r}"
    person = h.app.config.directory.get(handle)
    assert person is not None
    return SignedIn(person=person, client=client, csrf=found.group(1), session_cookie=cookie)


async def browser_signed_in(driver: Any, h: Harness, *, base: str, handle: str = "alice") -> str:
    """Sign ``handle`` in in a Selenium browser (open the link, press the button, land on
    the incidents page); returns the page's form token."""
    link = await sign_in_link(h, handle)

    def follow() -> str:
        from selenium.webdriver.support.wait import WebDriverWait

        driver.get(base + link)
        driver.find_element("css selector", "main form button[type=submit]").click()
        WebDriverWait(driver, 10).until(lambda d: urlsplit(d.current_url).path == HOME)
        field = driver.find_element("css selector", f'input[name="{CSRF_FIELD}"]')
        return str(field.get_attribute("value"))

    return await asyncio.to_thread(follow)


async def unnamed_controls(driver: Any) -> list[str]:
    """The HTML of each control on the browser's page without an accessible name."""

    def unnamed() -> list[str]:
        found = driver.find_elements("css selector", CONTROLS)
        assert found, "the page has no controls at all"
        return [e.get_attribute("outerHTML") for e in found if not e.accessible_name.strip()]

    return await asyncio.to_thread(unnamed)


async def wait_for_script(page: Any, script: str) -> None:
    """Until ``script`` (a JavaScript expression) is true in the browser's page."""

    def wait() -> None:
        from selenium.webdriver.support.wait import WebDriverWait

        WebDriverWait(page.driver, 10).until(lambda d: d.execute_script(f"return {script}"))

    await page.run(wait)
