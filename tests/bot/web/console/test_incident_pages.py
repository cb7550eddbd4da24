"""The console's incident pages over real HTTP on loopback, on SQLite and PostgreSQL: the
list and its filters (a bad one named in a sentence, never a 500), an incident's page
with its card, clocks, pages, actions, timeline and draft, a 404 for what is not an
incident, and the forms run as the chat's commands, audited on the platform web, with
the form token checked and the roles of the chat."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from storage.models import AuditEntry, IncidentRow
from storage.unit_of_work import unit_of_work
from tests.bot.web.console.support import SECRET, SignedIn, signed_in
from tests.conftest import Harness, HarnessFactory

pytestmark = pytest.mark.usefixtures("database_url")


class Console:
    """One signed-in person's browser on the console: their cookie, their form token."""

    def __init__(self, h: Harness, who: SignedIn) -> None:
        self.h, self.who, self.location = h, who, ""

    async def get(self, path: str) -> tuple[int, str]:
        r = await self.who.client.get(path, allow_redirects=False)
        return r.status, unescape(await r.text())

    async def post(self, path: str, **form: str) -> tuple[int, str]:
        """POST the form with its token; follow the 303 back to the page."""
        r = await self.who.client.post(path, data=self.who.form(**form), allow_redirects=False)
        if r.status != 303:
            return r.status, unescape(await r.text())
        self.location = r.headers["Location"]
        assert self.location.startswith("/web/incidents/")
        return await self.get(self.location)


class Consoles:
    def __init__(self, h: Harness) -> None:
        self.h = h

    async def __call__(self, handle: str) -> Console:
        return Console(self.h, await signed_in(self.h, handle))


@pytest.fixture
async def open_console(make_harness: HarnessFactory) -> Consoles:
    # People read the default zone, Asia/Shanghai here: 09:00 at START.
    return Consoles(await make_harness(action_link_secret=SECRET, timezone="Asia/Shanghai"))


async def _say(h: Harness, text: str, *, user: str = "alice") -> None:
    outcome = await h.say(text, user=user)
    assert outcome.status == "ok", h.reply_text(outcome)


def _rows(body: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="incident-(\d+)"', body)]


def _audit(h: Harness) -> list[AuditEntry]:
    with unit_of_work(h.app.engine) as session:
        return list(session.exec(select(AuditEntry).order_by(AuditEntry.id)).all())


async def test_the_list_shows_open_incidents_newest_first_each_linked(
    open_console: Consoles,
) -> None:
    h = open_console.h
    await _say(h, "/incident open Checkout fails --sev P1 --service web")
    await _say(h, "/incident open Search is slow --sev P3")
    await _say(h, "/incident open Old one --sev P2")
    await _say(h, "/incident resolve 3")
    alice = await open_console("alice")
    status, body = await alice.get("/web/incidents")
    assert status == 200
    assert _rows(body) == [2, 1]  # open by default, newest first
    assert '<a href="/web/incidents/1">Checkout fails</a>' in body
    assert 'data-topics="incidents"' in body
    assert "Page 1, newest first, 50 to a page." in body
    assert 'rel="next"' not in body
    _, every = await alice.get("/web/incidents?state=all")
    assert _rows(every) == [3, 2, 1]
    _, resolved = await alice.get("/web/incidents?state=resolved")
    assert _rows(resolved) == [3]
    _, p1 = await alice.get("/web/incidents?state=all&sev=P1")
    assert _rows(p1) == [1]
    _, web = await alice.get("/web/incidents?state=all&service=web")
    assert _rows(web) == [1]


async def test_the_time_range_filters_by_when_an_incident_was_opened(
    open_console: Consoles,
) -> None:
    h = open_console.h
    await _say(h, "/incident open Ten days ago --sev P3")
    await h.advance(minutes=60 * 24 * 8)
    await _say(h, "/incident open Two days ago --sev P3")
    await h.advance(minutes=60 * 24 * 2)
    await _say(h, "/incident open Just now --sev P3")
    alice = await open_console("alice")
    _, day = await alice.get("/web/incidents?since=24h")
    assert _rows(day) == [3]
    _, week = await alice.get("/web/incidents?since=7d")
    assert _rows(week) == [3, 2]
    _, month = await alice.get("/web/incidents?since=30d")
    assert _rows(month) == [3, 2, 1]
    # Custom dates are the viewer's days (alice reads Asia/Shanghai).
    opened = h.clock.now() - timedelta(days=2)
    day_of_2 = opened.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
    _, custom = await alice.get(f"/web/incidents?since=custom&from={day_of_2}&to={day_of_2}")
    assert _rows(custom) == [2]


async def test_bad_filters_are_named_in_a_sentence_and_the_rest_still_apply(
    open_console: Consoles,
) -> None:
    h = open_console.h
    await _say(h, "/incident open Checkout fails --sev P1 --service web")
    alice = await open_console("alice")
    for query, sentence in [
        ("sev=P7", '"P7" is not a severity; choose one of P0, P1, P2, P3.'),
        ("state=closedish", '"closedish" is not a state to filter by'),
        ("service=nosuch", 'There is no service named "nosuch".'),
        ("since=3w", '"3w" is not a time range'),
        ("since=custom&from=2026-13-01", '"2026-13-01" is not a date'),
        ("since=custom&from=2026-11-23&to=2026-11-01", "The range ends (2026-11-01) before"),
        ("page=-1", '"-1" is not a page number.'),
        ("page=" + "9" * 40, "is not a page number."),
    ]:
        status, body = await alice.get(f"/web/incidents?{query}")
        assert status == 400, query
        assert sentence in body, query
        assert _rows(body) == [1], query  # the list, without the bad value


async def test_the_list_is_paged_by_fifty(open_console: Consoles) -> None:
    h = open_console.h
    policy = h.app.config.incidents.policy.for_incident(h.clock.now().date()).to_json()
    with unit_of_work(h.app.engine) as session:
        for n in range(1, 53):
            session.add(
                IncidentRow(
                    title=f"Incident {n}",
                    severity="P3",
                    state="open",
                    channel="console:#ops",
                    policy=policy,
                    opened_at=h.clock.now(),
                    opened_by="alice",
                    commander="alice",
                )
            )
    alice = await open_console("alice")
    _, first = await alice.get("/web/incidents")
    assert _rows(first) == list(range(52, 2, -1))
    assert "Page 1, newest first, 50 to a page." in first
    older = re.search(r'href="([^"]+)" rel="next"', first)
    assert older is not None
    _, second = await alice.get(unescape(older.group(1)))
    assert _rows(second) == [2, 1]
    assert 'rel="next"' not in second
    assert 'rel="prev"' in second


async def test_an_incident_page_shows_what_incident_show_says_and_more(
    open_console: Consoles,
) -> None:
    h = open_console.h
    await _say(h, "/incident open Checkout fails --sev P1 --service web")
    await _say(h, "/incident assign 1 comms @carol")
    await _say(h, "/incident update 1 rolled back orders-api")
    await _say(h, "/incident action add 1 add a canary for checkout --owner @bob --due 2026-12-01")
    alice = await open_console("alice")
    status, body = await alice.get("/web/incidents/1")
    assert status == 200, body
    assert "Incident #1 [P1] Checkout fails" in body
    assert 'data-topics="incident:1"' in body
    # the card of /incident show: state, roles, clocks
    assert "<dt>Commander</dt>" in body
    assert "@alice" in body
    assert "<dt>Communications lead</dt>" in body
    assert "@carol" in body
    countdowns = re.findall(r'<time data-countdown datetime="([^"]+)"', body)
    assert countdowns
    assert all(c.startswith("2026-11-23T") for c in countdowns)
    # timeline in alice's zone (Asia/Shanghai: 09:00 at START)
    assert "2026-11-23 09:00 UTC+8" in body
    assert "rolled back orders-api" in body
    # the follow-up action, the draft
    assert "add a canary for checkout" in body
    assert "@bob" in body
    assert "2026-12-01" in body
    assert 'id="postmortem"' in body
    assert "Root cause" in body
    # the page the P1 opened: who was reached
    assert re.search(r'<tr id="page-\d+">', body), "a P1 pages its team"


async def test_no_such_incident_or_not_a_number_is_a_404_with_a_sentence(
    open_console: Consoles,
) -> None:
    alice = await open_console("alice")
    status, body = await alice.get("/web/incidents/99")
    assert status == 404
    assert "There is no incident #99." in body
    status, body = await alice.get("/web/incidents/abc")
    assert status == 404
    assert "There is no incident #abc." in body
    status, body = await alice.get("/web/incidents/" + "9" * 30)
    assert status == 404


async def test_ack_from_the_page_runs_the_command_audited_as_web(open_console: Consoles) -> None:
    h = open_console.h
    await _say(h, "/incident open Checkout fails --sev P2 --service web")
    bob = await open_console("bob")
    status, body = await bob.post("/web/incidents/1/ack")
    assert status == 200
    assert 'class="flash"' in body
    assert "acknowledged" in body.lower()
    assert "Acknowledged" in body
    assert "@bob" in body
    last = _audit(h)[-1]
    assert (last.actor, last.platform, last.command, last.outcome) == (
        "bob",
        "web",
        "incident ack",
        "ok",
    )
    # The reply rode in a cookie to the page it was sent back to, shown once: the same
    # address again shows none, and the address never held its words.
    assert bob.location == "/web/incidents/1"
    _, again = await bob.get(bob.location)
    assert 'id="flash"' not in again


async def test_update_severity_and_resolve_by_form(open_console: Consoles) -> None:
    h = open_console.h
    await _say(h, "/incident open Checkout fails --sev P3 --service web")
    alice = await open_console("alice")
    _, body = await alice.post("/web/incidents/1/update", text='it\'s "mostly" fixed')
    assert 'it\'s "mostly" fixed' in body
    _, body = await alice.post("/web/incidents/1/severity", severity="P2", text="more users")
    assert "P2" in body
    assert "more users" in body
    _, body = await alice.post("/web/incidents/1/severity", severity="P9", text="x")
    assert 'class="flash refused"' in body
    _, body = await alice.post("/web/incidents/1/resolve", text="fixed the pool")
    with unit_of_work(h.app.engine) as session:
        row = session.get(IncidentRow, 1)
        assert row is not None
        assert row.state == "resolved"
        assert row.severity == "P2"
    assert "fixed the pool" in body


async def test_a_form_without_its_token_does_nothing(open_console: Consoles) -> None:
    h = open_console.h
    await _say(h, "/incident open Checkout fails --sev P2 --service web")
    bob = await open_console("bob")
    before = len(_audit(h))
    for form in ({}, {"csrf": "not-the-token"}):
        r = await bob.who.client.post("/web/incidents/1/ack", data=form, allow_redirects=False)
        assert r.status == 403
    assert len(_audit(h)) == before
    with unit_of_work(h.app.engine) as session:
        row = session.get(IncidentRow, 1)
        assert row is not None
        assert row.state == "open"


async def test_mallory_sees_incidents_as_in_chat_and_is_refused_as_in_chat(
    open_console: Consoles,
) -> None:
    h = open_console.h
    await _say(h, "/incident open Checkout fails --sev P2 --service web")
    in_chat = await h.say("/incident show 1", user="mallory")
    assert in_chat.status == "ok"  # /incident show asks no role
    mallory = await open_console("mallory")
    status, body = await mallory.get("/web/incidents/1")
    assert status == 200
    assert "Checkout fails" in body
    status, body = await mallory.post("/web/incidents/1/ack")
    assert 'class="flash refused"' in body
    chat_denial = h.reply_text(await h.say("/incident ack 1", user="mallory"))
    assert chat_denial.splitlines()[0] in body
    with unit_of_work(h.app.engine) as session:
        row = session.get(IncidentRow, 1)
        assert row is not None
        assert row.state == "open"
    assert [e.outcome for e in _audit(h) if e.platform == "web"] == ["denied"]


async def test_the_pages_in_chinese(open_console: Consoles) -> None:
    h = open_console.h
    await _say(h, "/incident open Checkout fails --sev P2 --service web")
    alice = await open_console("alice")
    status, body = await alice.get("/web/incidents?lang=zh")
    assert status == 200
    assert '<html lang="zh-CN">' in body
    assert "第 1 页，最新的在前，每页 50 个。" in body
    _, bad = await alice.get("/web/incidents?sev=P9")
    assert "“P9”不是级别" in bad
    _, detail = await alice.get("/web/incidents/1")
    assert "<dt>状态</dt>" in detail
    assert "复盘草稿" in detail
    _, missing = await alice.get("/web/incidents/7")
    assert "没有故障 #7。" in missing
