"""Heartbeats on the virtual clock, on SQLite and PostgreSQL: a missed beat opens one
incident and pages; the next beat resolves it; a restart neither loses nor falsely fires
the check; two replicas fire it once."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import func, select

from commands.core.invocations import Inbound, Outcome
from commands.incidents.heartbeats import KIND
from storage.models import HeartbeatRow, IncidentRow, PageRow
from storage.unit_of_work import unit_of_work
from tests.conftest import START, Harness, HarnessFactory

pytestmark = pytest.mark.usefixtures("database_url")

HEARTBEATS = """\
heartbeats:
  - name: nightly-backup
    service: web
    interval: 1h
    grace: 10m
    severity: P1
  - name: report-export
    service: miniapp
    interval: 30m
"""


def config(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    folder.mkdir(exist_ok=True)
    (folder / "heartbeats.yaml").write_text(HEARTBEATS)
    return folder


async def started(make_harness: HarnessFactory, tmp_path: Path, **more: Any) -> Harness:
    h: Harness = await make_harness(config_dir=config(tmp_path), **more)
    return h


async def beat(h: Harness, name: str = "nightly-backup") -> Outcome:
    outcome = await h.app.dispatch(Inbound(source=KIND, kind=KIND, payload=name))
    assert outcome.status == "ok", outcome
    await h.app.settle()
    return outcome


def rows(h: Harness) -> list[IncidentRow]:
    with unit_of_work(h.app.engine) as session:
        found = session.exec(select(IncidentRow).order_by(IncidentRow.id)).all()  # type: ignore[arg-type]
        for row in found:
            session.expunge(row)
        return list(found)


def pages(h: Harness) -> int:
    with unit_of_work(h.app.engine) as session:
        return int(session.exec(select(func.count()).select_from(PageRow)).one())


def paged(h: Harness) -> list[str]:
    return [s.text for s in h.adapter.sent if s.kind == "direct" and s.text.startswith("📟")]


async def test_a_missed_beat_opens_one_incident_and_pages(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await started(make_harness, tmp_path)
    answer = await beat(h)
    assert answer.data["action"] == "first"
    await h.advance(minutes=69)  # interval 1h + grace 10m not yet past
    assert rows(h) == []
    await h.advance(minutes=2)
    [incident] = rows(h)
    assert (incident.title, incident.service, incident.severity, incident.state) == (
        "No heartbeat from nightly-backup for 1h 10m",
        "web",
        "P1",
        "open",
    )
    assert incident.opened_by == "heartbeat"
    assert pages(h) == 1
    assert paged(h)
    assert paged(h)[0].startswith("📟 Page #1 P1 (web)")
    sent = len(h.adapter.sent)
    await h.advance(hours=5)  # still missing: one outage, one incident, no second page
    assert len(rows(h)) == 1
    assert pages(h) == 1
    assert not [s for s in h.adapter.sent[sent:] if "heartbeat" in s.text and "opened" in s.text]


async def test_the_next_beat_resolves_it_and_a_later_miss_opens_another(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await started(make_harness, tmp_path)
    await beat(h)
    await h.advance(minutes=75)
    back = await beat(h)
    assert back.data["action"] == "back"
    [incident] = rows(h)
    assert incident.state == "resolved"
    await h.advance(minutes=50)
    await beat(h)  # on time: nothing
    assert len(rows(h)) == 1
    await h.advance(minutes=71)
    assert [r.state for r in rows(h)] == ["resolved", "open"]


async def test_beats_on_time_never_open_anything_and_an_unbeaten_one_is_not_watched(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await started(make_harness, tmp_path)
    for _ in range(6):
        await beat(h)
        await h.advance(minutes=65)
    assert rows(h) == []
    await h.advance(minutes=6)
    assert len(rows(h)) == 1  # only after the last beat, 71 minutes on
    listing = h.reply_text(await h.say("/heartbeats"))
    assert "nightly-backup" in listing
    assert "MISSING, last beat" in listing
    assert "report-export" in listing
    assert "no beat yet (watched from its first)" in listing


async def test_heartbeats_are_listed_in_chinese(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await started(make_harness, tmp_path)
    await beat(h)
    await h.say("/config locale zh")
    listing = h.reply_text(await h.say("/heartbeats"))
    assert "💓 2 个心跳" in listing
    assert "尚无心跳" in listing
    assert "上次心跳" in listing


async def test_its_incident_is_titled_in_the_language_of_the_channel_told(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await started(make_harness, tmp_path)
    out = await h.say("/config locale zh", user="alice", channel="#incidents")
    assert out.status == "ok", h.reply_text(out)
    await beat(h)
    await h.advance(minutes=71)
    [incident] = rows(h)
    assert incident.title == "已 1小时10分钟 未收到 nightly-backup 的心跳"
    told = [s.text for s in h.adapter.sent if s.address == "#incidents"]
    assert any("已 1小时10分钟 未收到 nightly-backup 的心跳" in text for text in told)


async def test_a_longer_interval_in_the_config_moves_the_check(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await started(make_harness, tmp_path)
    await beat(h)
    folder = config(tmp_path)
    (folder / "heartbeats.yaml").write_text(HEARTBEATS.replace("interval: 1h", "interval: 3h"))
    # A restart with the new config: the timer armed for 1h10m is kept to 3h10m.
    later = await make_harness(config_dir=folder, start=START + _minutes(71))
    await later.app.settle()
    assert rows(later) == []
    await later.advance(minutes=118)
    assert rows(later) == []
    await later.advance(minutes=2)
    assert len(rows(later)) == 1


def _minutes(n: int) -> Any:
    from datetime import timedelta

    return timedelta(minutes=n)


async def test_a_restart_loses_no_missed_beat_and_fires_it_once(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    first = await started(make_harness, tmp_path)
    await beat(first)
    # Down from then until three hours later: the check fires once, on start, late.
    second = await make_harness(config_dir=config(tmp_path), start=START + _minutes(180))
    await second.app.settle()
    assert len(rows(second)) == 1
    await second.advance(hours=3)
    third = await make_harness(config_dir=config(tmp_path), start=START + _minutes(400))
    await third.app.settle()
    assert len(rows(third)) == 1
    assert pages(third) == 1


async def test_a_restart_does_not_fire_a_check_that_is_not_due(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    first = await started(make_harness, tmp_path)
    await beat(first)
    second = await make_harness(config_dir=config(tmp_path), start=START + _minutes(30))
    await second.app.settle()
    await second.advance(minutes=30)
    await beat(second)  # 60 minutes on: on time
    await second.advance(minutes=69)
    assert rows(second) == []
    await second.advance(minutes=2)
    assert len(rows(second)) == 1


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_two_replicas_fire_a_missed_beat_once(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    one = await started(make_harness, tmp_path)
    two = await started(make_harness, tmp_path)
    # Two first beats at once, one at each: one row, both counted.
    await asyncio.gather(beat(one), beat(two))
    with unit_of_work(one.app.engine) as session:
        [row] = session.exec(select(HeartbeatRow)).all()
        assert row.beats == 2
    # Both replicas' clocks pass the due time together: one incident, one page.
    await asyncio.gather(one.advance(minutes=75), two.advance(minutes=75))
    assert len(rows(one)) == 1
    assert pages(one) == 1
