"""The on-call calendar over real HTTP on loopback, on SQLite and PostgreSQL: closed until
its token is set, refused with a wrong one, and valid RFC 5545 with overrides applied."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest

from bot.http import serve
from bot.ical import CalendarEvent, calendar, escape, fold
from tests.conftest import Harness, HarnessFactory

pytestmark = pytest.mark.usefixtures("database_url")
TOKEN = "calendar-token-for-tests"


class Feed:
    def __init__(self, h: Harness, port: int, session: aiohttp.ClientSession) -> None:
        self.h, self.port, self.session = h, port, session

    async def get(self, path: str, **headers: str) -> tuple[int, str, str]:
        async with self.session.get(f"http://127.0.0.1:{self.port}{path}", headers=headers) as r:
            return r.status, r.headers.get("Content-Type", ""), (await r.read()).decode()


@pytest.fixture
async def feed(make_harness: HarnessFactory) -> AsyncIterator[Feed]:
    h = await make_harness()
    runner, port = await serve(h.app, host="127.0.0.1", port=0)
    try:
        async with aiohttp.ClientSession() as session:
            yield Feed(h, port, session)
    finally:
        await runner.cleanup()


def unfold(body: str) -> list[str]:
    return body.replace("\r\n ", "").split("\r\n")


async def test_the_feed_is_closed_until_its_token_is_set(feed: Feed) -> None:
    status, _, body = await feed.get(f"/oncall/web.ics?token={TOKEN}")
    assert status == 503
    assert "SHIPWATCH_ICAL_WEB_TOKEN" in body
    assert TOKEN not in body


async def test_a_wrong_token_or_unknown_team_is_refused(
    feed: Feed, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPWATCH_ICAL_WEB_TOKEN", TOKEN)
    status, _, body = await feed.get("/oncall/web.ics?token=guess")
    assert status == 401
    assert "does not open the calendar of web" in body
    status, _, _ = await feed.get("/oncall/web.ics")
    assert status == 401
    status, _, body = await feed.get(f"/oncall/api.ics?token={TOKEN}", **{"Accept-Language": "zh"})
    assert status == 404
    assert "没有名为“api”的团队" in json.loads(body)["error"]


async def test_the_feed_lists_eight_weeks_of_shifts_with_overrides(
    feed: Feed, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPWATCH_ICAL_WEB_TOKEN", TOKEN)
    out = await feed.h.say("/oncall override web @dave 2026-11-24T09:00 2026-11-24T18:00")
    assert out.status == "ok"
    status, content_type, body = await feed.get(f"/oncall/web.ics?token={TOKEN}")
    assert status == 200
    assert content_type.startswith("text/calendar")
    assert body.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert body.endswith("END:VCALENDAR\r\n")
    assert "\n" not in body.replace("\r\n", "")  # every line ends in CRLF
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    lines = unfold(body)
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT")
    summaries = [line for line in lines if line.startswith("SUMMARY:")]
    # Primary: bob, dave's override, bob again, then carol/bob weekly: 3 + 7 more weeks.
    assert "SUMMARY:web Primary: @dave (override)" in summaries
    assert sum(s.startswith("SUMMARY:web Primary") for s in summaries) == 3 + 7
    assert sum(s.startswith("SUMMARY:web Secondary") for s in summaries) == 8
    assert "DTSTART:20261124T010000Z" in lines
    assert "DTEND:20261124T100000Z" in lines
    uids = [line for line in lines if line.startswith("UID:")]
    assert len(uids) == len(set(uids)) == len(summaries)
    assert all(line.startswith("DTSTAMP:2026112") for line in lines if "DTSTAMP" in line)


def test_text_is_escaped_and_long_lines_fold_between_characters() -> None:
    assert escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    long = "DESCRIPTION:" + "值班" * 40
    folded = fold(long)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == long
    start = datetime(2026, 11, 23, 1, tzinfo=UTC)
    text = calendar("x", [CalendarEvent("u@x", start, start, "s; t", "d")], now=start)
    assert "SUMMARY:s\\; t\r\n" in text
