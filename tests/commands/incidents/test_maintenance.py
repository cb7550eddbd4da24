"""Maintenance windows on the virtual clock, on SQLite and PostgreSQL: alerts and missed
heartbeats of the service are noted but page nobody and open nothing; the end is posted
once with what arrived; an incident opened by hand still pages; --freeze holds releases;
bad input gets one sentence and stores nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlmodel import func, select

from bot.alert_payloads import ALERTMANAGER, from_alertmanager
from commands.core.invocations import Inbound
from commands.incidents.alerts import KIND
from storage.models import IncidentEvent, IncidentRow, MaintenanceWindow, PageRow, Timer
from storage.unit_of_work import unit_of_work
from tests.commands.incidents.test_heartbeats import beat, config
from tests.conftest import Harness, HarnessFactory
from tests.fakes.alertmanager import alert, notification

pytestmark = pytest.mark.usefixtures("database_url")


async def alertmanager(
    h: Harness, name: str, *, status: str = "firing", expect: str = "ok"
) -> dict[str, object]:
    body = notification(
        alert(
            name,
            status=status,
            service="web",
            severity="critical",
            ends_at="2026-11-23T01:30:00.000Z" if status == "resolved" else None,
        ),
        group_by=("alertname", "service"),
    )
    n = from_alertmanager(body)
    outcome = await h.app.dispatch(Inbound(ALERTMANAGER, KIND, n, n.event_id()))
    assert outcome.status == expect, outcome
    await h.app.settle()
    return dict(outcome.data)


def count(h: Harness, model: type[object]) -> int:
    with unit_of_work(h.app.engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def posts(h: Harness, channel: str = "#ops") -> list[str]:
    return [s.text for s in h.adapter.sent if s.kind == "post" and s.address == channel]


def paged(h: Harness) -> list[str]:
    return [s.text for s in h.adapter.sent if s.kind == "direct" and s.text.startswith("📟")]


async def ok(h: Harness, text: str, *, user: str = "bob", channel: str = "#ops") -> str:
    outcome = await h.say(text, user=user, channel=channel)
    assert outcome.status == "ok", h.reply_text(outcome)
    return h.reply_text(outcome)


async def test_alerts_during_a_window_page_nobody_and_its_end_says_what_came(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    started = await ok(h, '/maintenance start web 1h --reason "database upgrade"')
    assert started.startswith("🔧 Maintenance #1 of web from ")
    assert "page nobody meanwhile" in started
    assert "Releases are not affected." in started
    answer = await alertmanager(h, "CheckoutErrors")
    assert answer["action"] == "held"
    await alertmanager(h, "HighLatency")
    assert count(h, IncidentRow) == 0
    assert count(h, PageRow) == 0
    assert paged(h) == []
    listed = await ok(h, "/maintenance list", user="mallory")
    assert "#1 web" in listed
    assert "2 arrived" in listed
    await h.advance(minutes=59)
    assert not [p for p in posts(h) if "is over" in p]
    await h.advance(minutes=1)
    [ended] = [p for p in posts(h) if "is over" in p]
    assert ended.startswith("🔧 Maintenance #1 of web is over: alerts page again.")
    assert "What arrived during it (2):" in ended
    assert "CheckoutErrors: 1/1 firing" in ended
    assert "HighLatency: 1/1 firing" in ended
    await h.advance(hours=2)
    assert len([p for p in posts(h) if "is over" in p]) == 1
    # The two groups still firing then go to the intake: one incident (a storm), one page.
    assert count(h, IncidentRow) == 1
    assert count(h, PageRow) == 1


async def test_what_arrived_is_counted_and_its_list_capped(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    await ok(h, '/maintenance start web 30m --reason "rack move"')
    for n in range(14):
        await alertmanager(h, f"Alert{n}")
    ended = await ok(h, "/maintenance end 1")
    assert "What arrived during it (14):" in ended
    assert "Alert9: 1/1 firing" in ended
    assert "Alert10" not in ended
    assert "… and 4 more." in ended


async def test_an_open_incident_hears_of_alerts_during_a_window_without_a_page(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    await alertmanager(h, "CheckoutErrors")
    assert count(h, PageRow) == 1
    await ok(h, '/maintenance start web 1h --reason "fixing it"')
    sent = len(h.adapter.sent)
    await alertmanager(h, "HighLatency")
    assert count(h, IncidentRow) == 1
    assert count(h, PageRow) == 1
    assert h.adapter.sent[sent:] == []
    with unit_of_work(h.app.engine) as session:
        texts = [e.text for e in session.exec(select(IncidentEvent)).all()]
    assert any("HighLatency" in text and "(maintenance #1)" in text for text in texts)
    # The group's incident still resolves during the window (that pages nobody).
    await alertmanager(h, "CheckoutErrors", status="resolved")
    with unit_of_work(h.app.engine) as session:
        assert session.exec(select(IncidentRow.state)).one() == "resolved"


async def test_an_incident_opened_by_hand_during_a_window_still_pages(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    await ok(h, '/maintenance start web 2h --reason "failover test"')
    await ok(h, '/incident open "payments down" --sev P0 --service web')
    assert count(h, PageRow) == 1
    assert paged(h)


async def test_a_missed_heartbeat_during_a_window_pages_only_if_still_missing_after(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await make_harness(config_dir=config(tmp_path))
    await beat(h)
    await ok(h, '/maintenance start web 3h --reason "backup host rebuilt"')
    await h.advance(minutes=75)  # missed, held
    assert count(h, IncidentRow) == 0
    assert count(h, PageRow) == 0
    await h.advance(minutes=110)  # the window ends at 3h: still missing, so it opens now
    [ended] = [p for p in posts(h) if "is over" in p]
    assert "heartbeat:nightly-backup: 1/1 firing" in ended
    assert count(h, IncidentRow) == 1
    assert count(h, PageRow) == 1


async def test_a_heartbeat_back_during_the_window_opens_nothing_after_it(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await make_harness(config_dir=config(tmp_path))
    await beat(h)
    await ok(h, '/maintenance start web 2h --reason "backup host rebuilt"')
    await h.advance(minutes=75)
    await beat(h)
    await h.advance(minutes=50)
    assert count(h, IncidentRow) == 0
    assert count(h, PageRow) == 0


async def test_ending_early_posts_once_and_the_window_timer_stays_quiet(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    await ok(h, '/maintenance start web 1h --reason "deploy"', channel="#ops")
    await alertmanager(h, "CheckoutErrors")
    reply = await ok(h, "/maintenance end 1", user="carol", channel="#ops")
    assert reply.startswith("🔧 Maintenance #1 of web ended by @carol: alerts page again.")
    assert "CheckoutErrors" in reply
    assert not [p for p in posts(h) if "ended by" in p], "said once, as the reply"
    await h.advance(hours=2)
    assert not [p for p in posts(h) if "is over" in p]
    refused = await h.say("/maintenance end 1")
    assert refused.status == "refused"
    assert "is over already" in h.reply_text(refused)
    with unit_of_work(h.app.engine) as session:
        [timer] = session.exec(select(Timer).where(Timer.key == "maintenance:1:end")).all()
        assert timer.state == "cancelled"


async def test_a_planned_window_holds_nothing_before_it_starts(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    reply = await ok(h, '/maintenance start web 1h --at 2h --reason "db upgrade"')
    assert "planned from" in reply
    await alertmanager(h, "CheckoutErrors")
    assert count(h, IncidentRow) == 1
    await h.advance(hours=2)
    await alertmanager(h, "HighLatency")  # in the window now: noted, joins nothing
    assert count(h, PageRow) == 1
    await h.advance(hours=1)
    [ended] = [p for p in posts(h) if "is over" in p]
    assert "HighLatency" in ended
    planned = await ok(h, '/maintenance start web 1h --at 1h --reason "again"')
    assert "#2" in planned
    called_off = await ok(h, "/maintenance end 2")
    assert "called off before it began" in called_off


async def test_freeze_holds_the_services_releases_until_the_window_ends(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    await ok(h, '/maintenance start miniapp 1h --reason "db upgrade" --freeze')
    refused = await h.say("/release start miniapp 2.0.0", user="alice")
    assert refused.status == "refused"
    assert "maintenance #1 holds its releases until" in h.reply_text(refused)
    await h.advance(hours=1)
    started = await h.say("/release start miniapp 2.0.0", user="alice")
    assert started.status == "ok", h.reply_text(started)


async def test_freeze_holds_a_release_under_way_from_moving_on(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    assert (await h.say("/release start web 2.0.0", user="alice")).status == "ok"
    await ok(h, '/maintenance start web 1h --reason "db upgrade" --freeze')
    refused = await h.say("/release promote web", user="alice")
    assert refused.status == "refused"
    assert "maintenance #1 holds releases until" in h.reply_text(refused)


async def test_without_freeze_releases_go_on(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    await ok(h, '/maintenance start miniapp 1h --reason "db upgrade"')
    started = await h.say("/release start miniapp 2.0.0", user="alice")
    assert started.status == "ok", h.reply_text(started)


@pytest.mark.parametrize(
    ("line", "sentence"),
    [
        (
            '/maintenance start web 2026-11-23T08:00 --at 2026-11-23T09:30 --reason "x"',
            "is not after the start",
        ),
        ('/maintenance start nosuch 1h --reason "x"', "nosuch"),
        ('/maintenance start web 0m --reason "x"', "is no time at all"),
        ('/maintenance start web 30d --reason "x"', "is too long; keep it to 7d"),
        ('/maintenance start web 1h --at 2026-11-22T09:00 --reason "x"', "has passed"),
        ("/maintenance start web 1h", "Say why, with --reason"),
        ("/maintenance end 9", "There is no maintenance window #9"),
    ],
)
async def test_bad_input_gets_one_sentence_and_stores_nothing(
    make_harness: HarnessFactory, line: str, sentence: str
) -> None:
    h = await make_harness()
    outcome = await h.say(line, user="bob")
    assert outcome.status in ("usage", "refused"), h.reply_text(outcome)
    text = h.reply_text(outcome)
    assert sentence in text
    assert "Traceback" not in text
    assert count(h, MaintenanceWindow) == 0
    with unit_of_work(h.app.engine) as session:
        keys = session.exec(select(Timer.key)).all()
    assert not [key for key in keys if key.startswith("maintenance:")]


async def test_only_responders_start_or_end_windows(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    denied = await h.say('/maintenance start web 1h --reason "x"', user="mallory")
    assert denied.status == "denied"
    assert count(h, MaintenanceWindow) == 0


async def test_maintenance_speaks_chinese(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    await h.say("/config locale zh", user="alice")
    reply = await ok(h, '/maintenance start web 1h --reason "升级数据库"')
    assert "维护 #1（web）" in reply
    bad = await h.say('/maintenance start web 30d --reason "x"')
    assert "太长" in h.reply_text(bad)


async def test_an_alert_still_firing_when_the_window_ends_pages_then(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    await ok(h, '/maintenance start web 1h --reason "database upgrade"')
    await alertmanager(h, "CheckoutErrors")  # still firing at the end
    await alertmanager(h, "HighLatency")
    await alertmanager(h, "HighLatency", status="resolved")  # over before the end
    assert count(h, IncidentRow) == 0
    await h.advance(hours=1, seconds=1)
    with unit_of_work(h.app.engine) as session:
        [row] = session.exec(select(IncidentRow)).all()
    assert row.title.startswith("CheckoutErrors")
    assert count(h, PageRow) == 1
    # Alertmanager repeats the unchanged group: the same event, changing nothing.
    await alertmanager(h, "CheckoutErrors", expect="duplicate")
    assert count(h, IncidentRow) == 1
    assert count(h, PageRow) == 1


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_two_replicas_post_a_windows_end_once(make_harness: HarnessFactory) -> None:
    one = await make_harness()
    two = await make_harness()
    await ok(one, '/maintenance start web 1h --reason "db upgrade"')
    await alertmanager(two, "CheckoutErrors")
    await asyncio.gather(one.advance(hours=1, seconds=5), two.advance(hours=1, seconds=5))
    await asyncio.gather(one.app.settle(), two.app.settle())
    ended = [p for h in (one, two) for p in posts(h) if "is over" in p]
    assert len(ended) == 1
    assert count(one, IncidentRow) == 1  # the group still firing, handed on once
    assert count(one, PageRow) == 1
