"""``/web/oncall`` over HTTP with a real session, on SQLite and PostgreSQL: who is on now
and next, four weeks of shifts with an override marked, the open pages with whom they
reached; Acknowledge runs ``/ack`` through the pipeline, audited on the platform web, its
answer shown once; without the form token nothing is done; mallory sees what ``/oncall``
and ``/pages`` show anyone, and no button."""

from __future__ import annotations

import re

import pytest
from sqlmodel import col, select

from storage.models import AuditEntry, OutboxMessage, PageRow
from storage.unit_of_work import unit_of_work
from tests.bot.web.console.support import SECRET, signed_in
from tests.conftest import Harness, HarnessFactory

pytestmark = pytest.mark.usefixtures("database_url")
ACK_BUTTON = 'action="/web/oncall/pages/1/ack"'


async def _harness(make_harness: HarnessFactory) -> Harness:
    h = await make_harness(action_link_secret=SECRET)
    for line, user in (
        ("/oncall override web @dave 2026-11-24T09:00 2026-11-24T21:00", "carol"),
        ("/page web --sev P1 checkout is down", "alice"),
    ):
        out = await h.say(line, user=user)
        assert out.status == "ok", h.reply_text(out)
    return h


def _page(h: Harness, page_id: int = 1) -> PageRow:
    with unit_of_work(h.app.engine) as session:
        row = session.get(PageRow, page_id)
        assert row is not None
        return row


def _audit(h: Harness, command: str) -> list[tuple[str, str, str]]:
    with unit_of_work(h.app.engine) as session:
        rows = session.exec(
            select(AuditEntry).where(AuditEntry.command == command).order_by(col(AuditEntry.id))
        ).all()
        return [(r.actor, r.platform, r.outcome) for r in rows]


async def test_now_next_the_calendar_and_the_open_page(make_harness: HarnessFactory) -> None:
    h = await _harness(make_harness)
    alice = await signed_in(h, "alice")
    response = await alice.client.get("/web/oncall")
    assert response.status == 200
    body = await response.text()
    assert '<main id="main" data-topics="oncall pages"' in body
    now = re.search(r'<tr data-layer="primary">(.*?)</tr>', body, re.S)
    assert now is not None
    assert "@bob" in now.group(1)
    assert "@dave" in now.group(1)  # next: the override tomorrow
    assert "(override)" in now.group(1)
    assert body.count('<table class="cal"') == 4
    assert 'data-week="2026-11-23"' in body
    tuesday = re.search(r'<td data-day="2026-11-24"[^>]*>(.*?)</td>', body, re.S)
    assert tuesday is not None
    assert '<span class="shift override">@dave' in tuesday.group(1)
    page = re.search(r'<article class="page" id="page-1".*?</article>', body, re.S)
    assert page is not None
    assert "checkout is down" in page.group(0)
    assert "<td>@bob</td><td>Primary</td><td>console</td>" in page.group(0)
    assert "Nobody has acknowledged it yet." in page.group(0)
    assert ACK_BUTTON in page.group(0)


async def test_acknowledge_runs_ack_as_the_viewer_on_the_platform_web(
    make_harness: HarnessFactory,
) -> None:
    h = await _harness(make_harness)
    bob = await signed_in(h, "bob")
    sent = await bob.client.post("/web/oncall/pages/1/ack", data=bob.form(), allow_redirects=False)
    assert sent.status == 303
    assert sent.headers["Location"] == "/web/oncall#page-1"
    row = _page(h)
    assert (row.state, row.acked_by) == ("acknowledged", "bob")
    assert _audit(h, "ack") == [("bob", "web", "ok")]
    # The team channel hears of it as it would from chat (on the home platform: the web
    # console has no channels), and nothing waits for a platform that sends nothing.
    await h.app.settle()
    assert any("acknowledged" in s.text for s in h.adapter.sent if s.address == "#web")
    with unit_of_work(h.app.engine) as session:
        assert (
            session.exec(select(OutboxMessage).where(OutboxMessage.platform == "web")).all() == []
        )
    shown = await (await bob.client.get("/web/oncall")).text()
    assert '<div class="flash" role="status" id="flash">You acknowledged page #1' in shown
    assert "Acknowledged by @bob" in shown
    assert ACK_BUTTON not in shown  # acknowledged: nothing left to press
    again = await (await bob.client.get("/web/oncall")).text()
    assert 'class="flash' not in again  # shown once


async def test_without_the_form_token_nothing_is_done(make_harness: HarnessFactory) -> None:
    h = await _harness(make_harness)
    bob = await signed_in(h, "bob")
    for form in ({}, {"csrf": "not-the-token"}):
        refused = await bob.client.post("/web/oncall/pages/1/ack", data=form, allow_redirects=False)
        assert refused.status == 403
        assert "nothing was done" in await refused.text()
    assert _page(h).state == "open"
    assert _audit(h, "ack") == []


async def test_mallory_sees_what_chat_shows_anyone_and_cannot_ack(
    make_harness: HarnessFactory,
) -> None:
    h = await _harness(make_harness)
    mallory = await signed_in(h, "mallory")
    body = await (await mallory.client.get("/web/oncall")).text()
    assert "checkout is down" in body  # /pages shows anyone the open pages
    assert ACK_BUTTON not in body
    assert 'href="/web/audit"' not in body
    tried = await mallory.client.post(
        "/web/oncall/pages/1/ack", data=mallory.form(), allow_redirects=False
    )
    assert tried.status == 303
    assert _page(h).state == "open"
    assert _audit(h, "ack") == [("mallory", "web", "denied")]
    shown = await (await mallory.client.get("/web/oncall")).text()
    assert '<div class="flash refused" role="alert" id="flash">' in shown


async def test_an_unknown_page_is_answered_as_in_chat(make_harness: HarnessFactory) -> None:
    h = await _harness(make_harness)
    bob = await signed_in(h, "bob")
    sent = await bob.client.post("/web/oncall/pages/42/ack", data=bob.form(), allow_redirects=False)
    assert sent.status == 303
    shown = await (await bob.client.get("/web/oncall")).text()
    assert '<div class="flash refused" role="alert" id="flash">' in shown
    assert "#42" in shown
