"""The console's live updates: a committed change reaches an open event stream as its
topics, a rolled-back one does not, and the stream ends with its session. On both
databases; on PostgreSQL a change is also heard by another replica (NOTIFY)."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import ClientResponse, ClientSession
from sqlmodel import select

from bot.http import SHUTDOWN_GRACE_SECONDS, serve
from bot.web.console.events import MAX_PER_SESSION
from storage import changes
from storage.models import IncidentRow
from storage.repositories import audit
from storage.unit_of_work import unit_of_work
from tests.bot.web.console.support import SECRET, SignedIn, signed_in
from tests.conftest import Harness, HarnessFactory


class Stream:
    """An open ``/web/events`` as a browser's EventSource reads it."""

    def __init__(self, response: ClientResponse) -> None:
        self.response = response

    async def event(self) -> tuple[str, str]:
        """The next (event, data), pings skipped."""
        name, data = "message", ""
        while True:
            raw = await asyncio.wait_for(self.response.content.readline(), timeout=10)
            if not raw:
                return "eof", ""
            line = raw.decode().rstrip("\r\n")
            if line.startswith("event:"):
                name = line.partition(":")[2].strip()
            elif line.startswith("data:"):
                data = line.partition(":")[2].strip()
            elif line == "" and name != "message":
                return name, data
            elif line == "":
                name, data = "message", ""

    async def change_naming(self, topic: str) -> set[str]:
        """The topics of the next change event that names ``topic``."""
        while True:
            name, data = await self.event()
            assert name == "change", (name, data)
            if topic in data.split():
                return set(data.split())


async def _open(person: SignedIn) -> Stream:
    response = await person.client.get("/web/events")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    stream = Stream(response)
    assert await stream.event() == ("ready", "")
    return stream


async def test_a_change_reaches_an_open_stream_as_its_topics(
    make_harness: HarnessFactory,
) -> None:
    h: Harness = await make_harness(action_link_secret=SECRET)
    alice = await signed_in(h, "alice")
    stream = await _open(alice)
    assert h.app.live.subscribers == 1
    outcome = await h.say("/incident open checkout errors --sev P2 --service web")
    assert outcome.status == "ok"
    name, data = await stream.event()
    assert name == "change"
    assert {"incident:1", "incidents", "audit"} <= set(data.split())
    # Nothing that changes no row says anything (a read): the next event is the ack's.
    assert (await h.say("/incident show 1")).status == "ok"
    assert (await h.say("/incident ack 1", user="bob")).status == "ok"
    name, data = await stream.event()
    assert name == "change"
    assert "incident:1" in data.split()


async def test_the_stream_ends_when_the_person_signs_out(make_harness: HarnessFactory) -> None:
    h: Harness = await make_harness(action_link_secret=SECRET)
    alice, bob = await signed_in(h, "alice"), await signed_in(h, "bob")
    alices, bobs = await _open(alice), await _open(bob)
    assert (await h.say("/web signout", user="alice")).status == "ok"
    assert await alices.event() == ("ended", "")
    assert await alices.event() == ("eof", "")
    # Bob's stream goes on (it heard the audit line of Alice's signing out, too).
    await h.say("/incident open search slow --sev P3 --service web")
    assert "incident:1" in await bobs.change_naming("incidents")


async def test_a_stopping_server_ends_its_streams_at_once(make_harness: HarnessFactory) -> None:
    h: Harness = await make_harness(action_link_secret=SECRET)
    alice = await signed_in(h, "alice")
    runner, port = await serve(h.app, host="127.0.0.1", port=0)
    async with ClientSession(cookies={"shipwatch_session": alice.session_cookie}) as browser:
        response = await browser.get(f"http://127.0.0.1:{port}/web/events")
        stream = Stream(response)
        assert await stream.event() == ("ready", "")
        started = time.monotonic()
        await runner.cleanup()
        # Not held for the shutdown grace (5 s): the stream is ended, not waited for.
        assert time.monotonic() - started < SHUTDOWN_GRACE_SECONDS / 2
        assert await stream.event() == ("eof", "")
    # The application's own broadcaster goes on for the other servers' streams.
    mine = await _open(alice)
    await h.say("/incident open search slow --sev P3 --service web")
    assert "incident:1" in await mine.change_naming("incidents")


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_another_replica_hears_a_committed_change_and_not_a_rolled_back_one(
    make_harness: HarnessFactory,
) -> None:
    from bot.notice_listener import NoticeListener

    h: Harness = await make_harness(action_link_secret=SECRET)
    heard: asyncio.Queue[str] = asyncio.Queue()
    # The other replica's listener, on its own connection.
    listener = NoticeListener(h.app.engine.url, {}, other=heard.put_nowait)
    await listener.start()
    try:
        await asyncio.wait_for(listener.connected.wait(), timeout=10)

        def rolled_back() -> None:
            with unit_of_work(h.app.engine) as session:
                audit.record(
                    session,
                    at=h.clock.now(),
                    actor="x",
                    platform="web",
                    conversation="@x",
                    command="web",
                    text="/web",
                    outcome="ok",
                )
                session.flush()
                session.rollback()

        await h.app.db.run(rolled_back)
        assert (await h.say("/incident open queue stuck --sev P2 --service web")).status == "ok"
        notice = await asyncio.wait_for(heard.get(), timeout=10)
        found = changes.read_payload(notice)
        assert found is not None
        origin, topics = found
        assert origin == h.app.instance_id
        assert {"incident:1", "incidents"} <= topics
        assert "x" not in notice
        with unit_of_work(h.app.engine) as session:
            assert session.exec(select(IncidentRow)).first() is not None
    finally:
        await listener.stop()


def test_a_change_too_wide_to_list_names_only_the_collections() -> None:
    many = {f"incident:{n}" for n in range(5000)} | {"incidents"}
    text = changes.payload("replica-a", many)
    assert text == "web replica-a incidents"
    assert changes.read_payload(text) == ("replica-a", frozenset({"incidents"}))
    assert changes.read_payload("outbox") is None


async def test_a_session_opening_stream_after_stream_is_told_to_stop(
    make_harness: HarnessFactory,
) -> None:
    h: Harness = await make_harness(action_link_secret=SECRET)
    alice, bob = await signed_in(h, "alice"), await signed_in(h, "bob")
    streams = [await _open(alice) for _ in range(MAX_PER_SESSION)]
    refused = await alice.client.get("/web/events")
    assert refused.status == 429
    assert f"already has {MAX_PER_SESSION} live pages open" in await refused.text()
    assert h.app.live.subscribers == MAX_PER_SESSION
    await _open(bob)  # another session is not held back by hers
    for stream in streams:
        stream.response.close()
