"""The release pages' views without the sign-in in front: what ``pages`` reads (the list,
one release with its readings cut to the chart's width and its traffic moves), the chart
drawn from it, and the pages rendered for a viewer, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from sqlalchemy import event
from sqlmodel import col, select

from bot.hooks import APP_KEY
from bot.web.console import chart, releases
from bot.web.console.viewer import VIEWER_KEY, Viewer
from commands.releases import pages
from storage.models import GuardRange, GuardReading
from storage.repositories import guard_readings
from storage.unit_of_work import unit_of_work
from tests.conftest import Harness, HarnessFactory
from tests.support import set_metrics

GOOD = {"error_rate_stop": 0.002, "error_rate": 0.002, "p99_latency_ms": 220}


def request_for(h: Harness, path: str, *, who: str = "alice", locale: str = "en") -> web.Request:
    web_app = web.Application()
    web_app[APP_KEY] = h.app
    person = h.app.config.directory.get(who)
    assert person is not None
    match = re.fullmatch(r"/web/releases/(\d+)", path)
    request = make_mocked_request(
        "GET", path, app=web_app, match_info={"id": match.group(1)} if match else {}
    )
    request[VIEWER_KEY] = Viewer(
        person=person, locale=locale, tz=ZoneInfo("Asia/Shanghai"), csrf="c" * 32, session_id="s"
    )
    return request


async def walked(make_harness: HarnessFactory) -> Harness:
    """A harness whose web 2.0.0 has gone through canary into early, its guards read
    every interval."""
    h = await make_harness()
    set_metrics(h, GOOD)
    out = await h.say("/release start web 2.0.0")
    assert out.status == "ok", h.reply_text(out)
    await h.advance(minutes=31)
    out = await h.say("/release promote web")
    assert out.status == "ok", h.reply_text(out)
    await h.advance(minutes=5)
    return h


# A moment in the walk's early stage, for readings written by hand.
IN_EARLY = datetime(2026, 12, 1, 8, 0, 10, tzinfo=UTC)


async def test_a_release_reads_with_its_series_and_traffic_moves(
    make_harness: HarnessFactory,
) -> None:
    h = await walked(make_harness)
    found = pages.detail(h.app.runtime, 1, now=h.clock.now(), buckets=chart.PLOT_WIDTH)
    assert found is not None
    assert found.live
    assert [(m.stage, m.percent, m.move.value) for m in found.marks] == [
        ("canary", 10, "start"),
        ("early", 30, "promote"),
    ]
    p99 = next(s for s in found.series if s.guard.name == "p99_latency_ms")
    assert 30 <= len(p99.buckets) <= chart.PLOT_WIDTH
    assert {(b.low, b.high) for b in p99.buckets} == {(220, 220)}
    assert found.blockers  # the early stage's soak has an hour to go
    assert pages.detail(h.app.runtime, 99, now=h.clock.now(), buckets=10) is None


def week_of_readings(h: Harness, start: datetime, *, every: int, guard: str = "x") -> None:
    """A week of readings, one ``every`` seconds: each minute's lowest is the minute's
    number modulo 7, every other reading is 100."""
    first = int(start.timestamp())
    readings = [
        (first + i, 100.0 if (i // every) % 2 else float((i // 60) % 7))
        for i in range(0, 7 * 24 * 3600, every)
    ]
    with unit_of_work(h.app.engine) as session:
        guard_readings.backfill(session, release_id=1, guard=guard, readings=readings)


async def test_a_week_of_readings_comes_back_one_bucket_per_column(
    make_harness: HarnessFactory,
) -> None:
    h = await walked(make_harness)
    start = h.clock.now().replace(second=0, microsecond=0)
    week_of_readings(h, start, every=30)
    with unit_of_work(h.app.engine) as session:
        week = guard_readings.series(
            session,
            release_id=1,
            guard="x",
            start=start,
            end=start + timedelta(days=7),
            buckets=600,
        )
        hour = guard_readings.series(
            session,
            release_id=1,
            guard="x",
            start=start,
            end=start + timedelta(seconds=3599),
            buckets=60,
        )
    assert 590 <= len(week) <= 600
    # Each column spans a quarter hour or more: every low of a minute (0…6) is in it, but
    # the quarters cut at the week's ends, which hold fewer minutes.
    assert {b.high for b in week} == {100}
    assert sum(b.low == 0 for b in week) >= len(week) - 2
    # An hour reads the readings themselves: 60 one-minute buckets, each with its own low.
    assert [b.low for b in hour[:8]] == [0, 1, 2, 3, 4, 5, 6, 0]
    assert {b.high for b in hour} == {100}
    assert hour[1].start - hour[0].start == timedelta(minutes=1)


async def test_each_minute_keeps_its_lowest_and_highest_reading(
    make_harness: HarnessFactory,
) -> None:
    h = await walked(make_harness)
    at = IN_EARLY
    with unit_of_work(h.app.engine) as session:
        for second, value in ((0, 3.0), (20, 1.0), (40, 7.0), (65, 2.0)):
            guard_readings.add(
                session, release_id=1, guard="y", at=at + timedelta(seconds=second), value=value
            )
    with unit_of_work(h.app.engine) as session:
        rows = session.exec(
            select(GuardRange).where(GuardRange.guard == "y", GuardRange.width == 60)
        ).all()
        count = len(session.exec(select(GuardReading).where(GuardReading.guard == "y")).all())
    assert [(r.low, r.high) for r in sorted(rows, key=lambda r: r.at_second)] == [(1, 7), (2, 2)]
    assert count == 4


async def test_a_ticks_readings_are_kept_together_with_one_read_of_their_ranges(
    make_harness: HarnessFactory,
) -> None:
    h = await walked(make_harness)
    at = IN_EARLY
    with unit_of_work(h.app.engine) as session:
        guard_readings.add_all(session, release_id=1, at=at, values={"y": 3.0, "z": 5.0})
    reads: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            reads.append(statement)

    event.listen(h.app.engine, "before_cursor_execute", count)
    try:
        with unit_of_work(h.app.engine) as session:
            later = at + timedelta(seconds=20)
            guard_readings.add_all(session, release_id=1, at=later, values={"y": 1.0, "z": 9.0})
    finally:
        event.remove(h.app.engine, "before_cursor_execute", count)
    assert len(reads) == 1, "the minute's and quarter's ranges of both guards, read at once"
    with unit_of_work(h.app.engine) as session:
        rows = session.exec(select(GuardRange).where(col(GuardRange.guard).in_(("y", "z")))).all()
        count_kept = len(
            session.exec(select(GuardReading).where(col(GuardReading.guard).in_(("y", "z")))).all()
        )
    assert sorted((r.guard, r.width, r.low, r.high) for r in rows) == [
        ("y", 60, 1, 3),
        ("y", 900, 1, 3),
        ("z", 60, 5, 9),
        ("z", 900, 5, 9),
    ]
    assert count_kept == 4


async def test_the_page_draws_each_guard_with_its_limit_and_stage_marks(
    make_harness: HarnessFactory,
) -> None:
    h = await walked(make_harness)
    response = await releases._detail(request_for(h, "/web/releases/1"))
    assert response.status == 200
    body = response.text or ""
    assert body.count("<svg") == 3
    assert body.count('class="limit"') == 3
    assert body.count('class="stage-mark" data-move="start"') == 3
    assert body.count('class="stage-mark" data-move="promote"') == 3
    assert ">limit 500</text>" in body
    assert ">limit 1%</text>" in body
    assert 'data-topics="releases release:1"' in body
    assert re.search(r'<time data-countdown datetime="2026-[^"]+">', body)
    assert "/web/releases/1/promote" in body
    assert "/web/releases/1/check" in body


async def test_an_unknown_release_is_a_404_with_a_sentence_in_the_viewers_language(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    response = await releases._detail(request_for(h, "/web/releases/7", locale="zh"))
    assert response.status == 404
    assert "没有编号为 7 的发布。" in (response.text or "")
    assert '<html lang="zh-CN">' in (response.text or "")


async def test_the_list_shows_live_releases_and_a_page_of_past_ones(
    make_harness: HarnessFactory,
) -> None:
    h = await walked(make_harness)
    response = await releases._list(request_for(h, "/web/releases"))
    body = response.text or ""
    assert 'href="/web/releases/1">web 2.0.0</a>' in body
    assert "<td>early</td>" in body
    assert "<td>30%</td>" in body
    assert "No release has ended yet." in body
    assert 'data-topics="releases"' in body


def test_a_chart_without_readings_still_draws_its_limit() -> None:
    from playbooks.releases.plan import Guard, GuardAction

    guard = Guard(
        name="err",
        query="q",
        window=timedelta(minutes=5),
        action=GuardAction.STOP,
        max=0.01,
        percent=True,
    )
    start = datetime(2026, 12, 1, tzinfo=UTC)
    svg = chart.guard_chart(
        guard,
        [],
        start=start,
        end=start + timedelta(hours=1),
        marks=[],
        words=chart.Words(title="t", summary="s", limit="limit", when=lambda at: at.isoformat()),
        chart_id="g",
    )
    assert 'class="limit"' in svg
    assert ">limit 1%<" in svg
    assert 'role="img"' in svg
    assert "<title" in svg
