"""Signing in to the web console with a one-time link, the session cookie, the form token
on every POST, and signing out: on both databases."""

from __future__ import annotations

from storage.models import WebSession
from storage.unit_of_work import unit_of_work
from tests.bot.web.console.support import (
    HOME,
    SECRET,
    signed_in,
)
from tests.conftest import Harness, HarnessFactory


async def _harness(make_harness: HarnessFactory, **settings: object) -> Harness:
    h: Harness = await make_harness(action_link_secret=SECRET, **settings)
    return h


def _sessions(h: Harness) -> list[WebSession]:
    with unit_of_work(h.app.engine) as session:
        from sqlmodel import select

        return list(session.exec(select(WebSession)).all())


async def test_a_person_signs_in_through_the_link_and_lands_on_the_incidents_page(
    make_harness: HarnessFactory,
) -> None:
    h = await _harness(make_harness)
    alice = await signed_in(h, "alice")
    page = await alice.client.get(HOME)
    assert page.status == 200
    body = await page.text()
    assert "Alice Chen" in body
    assert '<html lang="en">' in body
    [row] = _sessions(h)
    # Only a hash of the session id is stored.
    assert row.handle == "alice"
    assert row.id_hash != alice.session_cookie
    assert alice.session_cookie not in row.id_hash
    assert len(row.id_hash) == 64
    assert row.csrf == alice.csrf
