"""/oncall, /page, /ack and /escalate through the whole pipeline, on SQLite and PostgreSQL:
overrides and swaps, escalation on the virtual clock, and a restart in the middle of it."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.config.directory import DEFAULTS
from storage.models import OncallChange, PageEvent, PageRow, RotationVersion
from storage.unit_of_work import unit_of_work
from tests.conftest import START, Harness, HarnessFactory
from tests.support import dms_to

pytestmark = pytest.mark.usefixtures("database_url")
PAGE = "📟 Page #1"


def events(h: Harness, page_id: int = 1) -> list[tuple[str, str, bool]]:
    with unit_of_work(h.app.engine) as session:
        rows = session.exec(
            select(PageEvent).where(PageEvent.page_id == page_id).order_by(col(PageEvent.id))
        ).all()
        return [(e.kind, e.person, e.late) for e in rows]


def changes(h: Harness) -> int:
    with unit_of_work(h.app.engine) as session:
        return len(session.exec(select(OncallChange)).all())


async def test_who_and_an_override(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    who = h.reply_text(await h.say("/oncall who web"))
    assert "Primary: @bob until 2026-11-30 09:00 UTC+8" in who
    out = await h.say("/oncall override web @dave 2026-11-23T10:00 2026-11-23T20:00", user="carol")
    assert out.status == "ok", h.reply_text(out)
    assert "@dave is Primary on call for web" in h.reply_text(out)
    assert any("Override #1" in s.text for s in h.adapter.sent if s.address == "#web")
    await h.advance(hours=1, minutes=30)  # 10:30 Shanghai
    who = h.reply_text(await h.say("/oncall who"))
    assert "Primary: @dave until 2026-11-23 20:00 UTC+8 (override)" in who
    schedule = h.reply_text(await h.say("/oncall schedule web --days 2"))
    assert "@dave: 2026-11-23 10:30 UTC+8 → 2026-11-23 20:00 UTC+8 (override)" in schedule
    assert "@bob: 2026-11-23 20:00 UTC+8 → 2026-11-25 10:30 UTC+8" in schedule


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("/oncall who api", "There is no team “api”. Teams: web."),
        ("/oncall override web @zed 2026-11-24T09:00 2026-11-24T10:00", "nobody called “zed”"),
        ("/oncall override web @dave 2026-11-24T10:00 2026-11-24T09:00", "ends"),
        ("/oncall override web @dave 2026-11-20T10:00 2026-11-21T09:00", "in the past"),
        (
            "/oncall override web @dave 2026-11-24T09:00 2026-11-25T09:00 --layer tertiary",
            "not a layer",
        ),
        ("/oncall swap web @bob @dave 2026-11-27", "@dave is not in the rotation of web"),
        ("/oncall swap web @bob @bob 2026-11-27", "two different people"),
        ("/oncall schedule web --days 90", "from 1 to 31"),
        ("/oncall schedule web --days 0", "from 1 to 31"),
    ],
)
async def test_bad_input_gets_a_sentence_and_stores_nothing(
    make_harness: HarnessFactory, line: str, fragment: str
) -> None:
    h = await make_harness()
    out = await h.say(line, user="carol")
    assert out.status in ("usage", "refused")
    assert fragment in h.reply_text(out)
    assert changes(h) == 0


async def test_a_swap_trades_the_day(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    out = await h.say("/oncall swap web @bob @carol 2026-11-27", user="bob")
    assert out.status == "ok", h.reply_text(out)
    await h.advance(days=4, hours=2)  # 2026-11-27 11:00 Shanghai
    who = h.reply_text(await h.say("/oncall who web"))
    assert "Primary: @carol until 2026-11-28 00:00 UTC+8 (swap)" in who
    assert "Secondary: @bob until 2026-11-28 00:00 UTC+8 (swap)" in who


async def test_page_escalates_and_the_first_ack_stops_it(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    out = await h.say('/page web "payment callbacks failing" --sev P1', user="alice")
    assert out.status == "ok", h.reply_text(out)
    assert "Notified: @bob" in h.reply_text(out)
    assert len(dms_to(h, "bob")) == 1
    await h.advance(minutes=4, seconds=59)
    assert dms_to(h, "carol") == []
    await h.advance(seconds=1)
    [carol] = dms_to(h, "carol")
    assert carol.startswith("📟 Page #1 P1 (web): payment callbacks failing")
    ack = next(line.split()[-1] for line in carol.splitlines() if line.startswith("[Acknowledge]"))
    pressed = await h.press(ack, user="carol")
    assert pressed.status == "ok", h.reply_text(pressed)
    # bob is in #web, where the ack is said: no copy for him.
    acked = "Page #1 (payment callbacks failing) acknowledged by @carol."
    assert [s.address for s in h.adapter.sent if s.text == acked] == ["#web"]
    # carol is answered in her own terms, and never told the news of her own ack.
    assert h.reply_text(pressed).startswith("You acknowledged page #1 (payment callbacks failing)")
    assert not [m for m in dms_to(h, "carol") if "acknowledged by @carol" in m]
    await h.advance(hours=2)
    assert dms_to(h, "dave") == []  # the manager was never reached
    # A later ack is recorded, not refused; a page that does not exist is a sentence.
    later = await h.say("/ack 1", user="bob")
    assert later.status == "ok"
    assert "already acknowledged by @carol" in h.reply_text(later)
    kinds = [kind for kind, _, _ in events(h)]
    # carol, who acknowledged, was reminded in the 2 hours since: after 30 minutes, 30
    # more, then an hour (backed off while nothing changes).
    assert [k for k in kinds if k != "remind"] == ["notify", "notify", "ack", "ack"]
    assert kinds.count("remind") == 3
    missing = await h.say("/ack 9", user="bob")
    assert "There is no page #9" in h.reply_text(missing)


async def test_a_person_directly_and_who_may_ack(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    await h.say('/page @carol "need a DBA"', user="bob")
    assert len(dms_to(h, "carol")) == 1
    denied = await h.say("/ack 1", user="mallory")  # neither paged nor a responder
    assert denied.status == "denied"
    await h.advance(minutes=5)
    assert len(dms_to(h, "carol")) == 2  # asked again until someone answers
    out = await h.say("/ack 1", user="dave")  # not paged, but a responder: allowed, recorded
    assert out.status == "ok"
    assert events(h)[-1] == ("ack", "dave", False)


async def test_a_restart_mid_escalation_resumes_without_repeating_a_step(
    make_harness: HarnessFactory,
) -> None:
    first = await make_harness()
    await first.say('/page web "disk full on db-1"', user="alice")
    await first.advance(minutes=3)
    assert [k for k, _, _ in events(first)] == ["notify"]
    await first.app.stop()  # the process goes away between steps
    # Another process on the same database, starting 20 minutes later.
    second = await make_harness(start=START + timedelta(minutes=23))
    await second.advance(seconds=1)
    # The overdue step (carol) fired once, late; the next (dave) waits its 10 minutes.
    assert events(second) == [("notify", "bob", False), ("notify", "carol", True)]
    assert len(dms_to(second, "carol")) == 1
    assert dms_to(second, "bob") == []
    await second.advance(minutes=10)
    assert events(second)[-1] == ("notify", "dave", False)
    assert len(events(second)) == 3


async def test_rotation_edits_are_versions(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    with unit_of_work(h.app.engine) as session:
        rows = session.exec(select(RotationVersion).order_by(col(RotationVersion.id))).all()
        assert [(r.team, r.layer) for r in rows] == [("web", "primary"), ("web", "secondary")]
        since = rows[0].since
    # Starting again with the same config writes nothing new.
    again = await make_harness(start=START + timedelta(days=1))
    with unit_of_work(again.app.engine) as session:
        assert len(session.exec(select(RotationVersion)).all()) == 2
    assert since <= datetime.fromisoformat("2026-11-23T01:00:00+00:00")


async def test_the_launch_plan_pages_p2_and_p3_around_the_clock(
    make_harness: HarnessFactory,
) -> None:
    # Seed 001 promises P2 a response in 30m and P3 in 1h, around the clock: a P2 opened
    # Friday 18:30 Shanghai pages the primary at once, not on Monday at 09:00.
    friday_evening = START + timedelta(days=4, hours=9, minutes=30)
    h = await make_harness(start=friday_evening)
    await h.say('/incident open "slow search" --sev P2 --service web', user="bob")
    await h.say('/incident open "typo on the about page" --sev P3 --service web', user="bob")
    with unit_of_work(h.app.engine) as session:
        rows = session.exec(select(PageRow).order_by(col(PageRow.id))).all()
        assert [(p.incident_id, p.severity, p.paged) for p in rows] == [
            (1, "P2", ["bob"]),
            (2, "P3", ["bob"]),
        ]
    assert [kind for kind, _, _ in events(h, 2)][:1] == ["notify"]


async def test_a_working_day_promise_pages_when_the_day_starts(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    # The operations policy (seed 002) promises P3 a response within 1 working day: one
    # raised at 21:00 is held for the morning; its P2 (2h) pages at once.
    h = await make_harness(start=START + timedelta(hours=12), config_dir=operations(tmp_path))
    await h.say('/incident open "slow query report" --sev P3 --service web', user="bob")
    await h.say('/incident open "disk at 86%" --sev P2 --service web', user="bob")
    assert [kind for kind, _, _ in events(h)] == ["deferred"]
    assert [kind for kind, _, _ in events(h, 2)][:1] == ["notify"]
    night = len(h.adapter.sent)
    await h.advance(hours=11, minutes=59)  # Tuesday 08:59
    assert not any(
        "slow query report" in s.text for s in h.adapter.sent[night:] if s.kind == "direct"
    )
    await h.advance(minutes=1)  # 09:00: working hours open
    kinds = [kind for kind, _, _ in events(h)]
    assert kinds[0] == "deferred"
    assert "notify" in kinds


def operations(tmp_path: Path) -> Path:
    for source in DEFAULTS.glob("*.yaml"):
        shutil.copy(source, tmp_path / source.name)
    severity = (tmp_path / "severity.yaml").read_text(encoding="utf-8")
    severity = severity.replace("policy: launch-plan", "policy: operations")
    (tmp_path / "severity.yaml").write_text(severity, encoding="utf-8")
    return tmp_path


def pages(h: Harness) -> list[tuple[int | None, str, int]]:
    with unit_of_work(h.app.engine) as session:
        rows = session.exec(select(PageRow).order_by(col(PageRow.id))).all()
        return [(p.incident_id, p.state, p.position) for p in rows]


async def test_mitigating_an_open_incident_stops_its_page(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    await h.say('/incident open "checkout down" --sev P1 --service web', user="bob")
    await h.say("/incident mitigate 1", user="bob")
    await h.advance(minutes=30)
    assert pages(h) == [(1, "acknowledged", 1)]
    assert dms_to(h, "dave") == []


async def test_reopening_and_raising_page_again(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    await h.say('/incident open "checkout down" --sev P1 --service web', user="bob")
    await h.say("/incident resolve 1", user="bob")
    await h.say("/incident reopen 1", user="bob")
    assert [state for _, state, _ in pages(h)] == ["resolved", "open"]
    await h.say('/incident open "typo" --sev P3 --service web', user="bob")
    assert pages(h)[-1][:2] == (2, "open")  # P3 pages too (1h around the clock)…
    await h.say('/incident sev 2 P0 --reason "it is the checkout button"', user="bob")
    assert len(pages(h)) == 3  # …and raising it pages no second time while one is live


async def test_an_ack_typed_in_the_team_channel_is_said_there_once(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    await h.say('/page web "payment callbacks failing" --sev P1', user="alice")
    out = await h.say("/ack 1", user="bob", channel="#web")
    assert h.reply_text(out) == "Page #1 (payment callbacks failing) acknowledged by @bob."
    assert not [s for s in h.adapter.sent if "acknowledged by @bob" in s.text]
