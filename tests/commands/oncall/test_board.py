"""The on-call board the web console reads, on SQLite and PostgreSQL: who holds each layer
now and next, the shifts with an override and a swap, and an open page's notifications
with the platform each went out on and who acknowledged."""

from __future__ import annotations

from datetime import timedelta

import pytest

from commands.oncall.board import board
from playbooks.oncall.paging import PageState
from playbooks.oncall.rotations import ChangeKind
from tests.conftest import START, Harness, HarnessFactory

pytestmark = pytest.mark.usefixtures("database_url")


def read(h: Harness, weeks: int = 4):  # type: ignore[no-untyped-def]
    now = h.clock.now()
    return board(
        h.app.engine,
        h.app.config.teams,
        h.app.config.directory,
        now=now,
        since=now,
        until=now + timedelta(weeks=weeks),
    )


async def test_who_is_on_now_and_next_with_an_override_and_a_swap(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    for line in (
        "/oncall override web @dave 2026-11-24T09:00 2026-11-24T21:00",
        "/oncall swap web @bob @carol 2026-12-02",
    ):
        out = await h.say(line, user="carol")
        assert out.status == "ok", h.reply_text(out)
    [web] = read(h).teams
    primary, secondary = web.layers
    assert (primary.layer, primary.now.person, primary.next and primary.next.person) == (
        "primary",
        "bob",
        "dave",
    )
    assert primary.now.end == START + timedelta(days=1)
    assert secondary.now.person == "carol"
    changed = [(s.person, s.change.kind) for s in web.shifts["primary"] if s.change]
    # Week two: carol is primary; the swap on 2 December puts bob there for the day.
    assert changed == [("dave", ChangeKind.OVERRIDE), ("bob", ChangeKind.SWAP)]
    people = [s.person for s in web.shifts["secondary"]]
    assert people[:2] == ["carol", "bob"]


async def test_an_open_page_says_whom_it_reached_where_and_who_acknowledged(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    out = await h.say("/page web --sev P1 checkout is down")
    assert out.status == "ok", h.reply_text(out)
    await h.advance(minutes=5)  # the secondary is next
    [page] = read(h).pages
    assert page.page.state is PageState.OPEN
    reached = [(r.person, r.step, r.platform) for r in page.reached]
    assert reached == [("bob", "primary", "console"), ("carol", "secondary", "console")]
    assert {r.delivery for r in page.reached} <= {"sent", "pending", "covered"}
    out = await h.say("/ack 1", user="carol")
    assert out.status == "ok", h.reply_text(out)
    [page] = read(h).pages
    assert (page.page.state, page.page.acked_by) == (PageState.ACKNOWLEDGED, "carol")
    assert [e.kind for e in page.events][-1] == "ack"
    await h.say("/resolve 1", user="carol")
    assert read(h).pages == ()
