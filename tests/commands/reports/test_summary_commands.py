"""/summary commands through the pipeline: subscriptions stored with their timer, bad input
refused with one sentence and nothing stored, jitter, and messages that carry a chart."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.config.directory import DEFAULTS
from playbooks.messages import Message, message_from_json, message_to_json, t
from storage.models import AuditEntry, ChartImage, SummarySubscription, Timer
from storage.unit_of_work import unit_of_work
from tests.conftest import START, Harness, HarnessFactory

pytestmark = pytest.mark.usefixtures("database_url")
SHANGHAI_NINE = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


@pytest.fixture
def quiet(tmp_path: Path) -> Path:
    """The shipped config with its report subscriptions turned off, as a team may: these
    tests subscribe by command."""
    for source in DEFAULTS.glob("*.yaml"):
        shutil.copy(source, tmp_path / source.name)
    summaries = (tmp_path / "summaries.yaml").read_text(encoding="utf-8")
    start = summaries.index("subscriptions:\n")
    end = summaries.index("# sla:")
    summaries = summaries[:start] + "subscriptions: []\n" + summaries[end:]
    (tmp_path / "summaries.yaml").write_text(summaries, encoding="utf-8")
    return tmp_path


def stored(h: object) -> tuple[list[SummarySubscription], list[Timer]]:
    with unit_of_work(h.app.engine) as session:  # type: ignore[attr-defined]
        subscriptions = list(session.exec(select(SummarySubscription)).all())
        timers = [
            row
            for row in session.exec(select(Timer)).all()
            if row.kind == "summary.due" and row.state == "pending"
        ]
        return subscriptions, timers


@pytest.mark.parametrize(
    ("line", "sentence"),
    [
        (
            "/summary subscribe daily --at 25:00",
            "“25:00” is not a time of day; write it as HH:MM on a 24-hour clock, "
            "like 09:00 or 17:30.",
        ),
        (
            "/summary subscribe daily --tz Asia/Shangai",
            "“Asia/Shangai” is not a timezone Shipwatch knows; use an IANA name like "
            "Asia/Shanghai, Europe/Berlin or UTC.",
        ),
        (
            "/summary subscribe daily --services web,wbe",
            "There is no service “wbe”. Did you mean web?",
        ),
        (
            '/summary subscribe weekly --at "fir 17:00"',
            '“fir” is not a day; use one of mon, tue, wed, thu, fri, sat, sun, like "fri 17:00".',
        ),
        (
            "/summary subscribe monthly",
            "“monthly” is not an option here; use one of daily, evening, weekly.",
        ),
    ],
)
async def test_bad_input_is_one_sentence_and_stores_nothing(
    make_harness: HarnessFactory, quiet: Path, line: str, sentence: str
) -> None:
    h = await make_harness(config_dir=quiet)
    outcome = await h.say(line)
    assert outcome.status == "usage"
    lines = h.reply_text(outcome).splitlines()
    assert lines[0] == sentence
    assert lines[1].startswith("Usage: /summary ")
    assert stored(h) == ([], [])


async def test_subscribe_list_and_unsubscribe(make_harness: HarnessFactory, quiet: Path) -> None:
    h = await make_harness(config_dir=quiet)
    reply = h.reply_text(
        await h.say("/summary subscribe daily --at 09:00 --tz Asia/Shanghai --services web")
    )
    assert reply.splitlines()[0] == (
        "📬 Subscription #1: the morning health post at 09:00 (Asia/Shanghai) for services web. "
        "Next: 2026-11-24 09:00 UTC+8."
    )
    [subscription], [timer] = stored(h)
    assert (subscription.kind, subscription.at, subscription.services) == (
        "daily",
        "09:00",
        ["web"],
    )
    assert timer.due_at == SHANGHAI_NINE
    assert timer.payload == {"subscription_id": 1, "scheduled_at": SHANGHAI_NINE.isoformat()}

    again = await h.say("/summary subscribe daily --at 9:00 --tz Asia/Shanghai --services web")
    assert h.reply_text(again).startswith("This conversation already gets the morning health post")

    listing = h.reply_text(await h.say("/summary list"))
    assert (
        "#1 morning health post at 09:00 (Asia/Shanghai), services web; next 2026-11-24" in listing
    )
    assert h.reply_text(await h.say("/summary list", channel="#elsewhere")).startswith("No reports")

    denied = await h.say("/summary unsubscribe 1", user="mallory")
    assert denied.status == "denied"
    elsewhere = h.reply_text(await h.say("/summary unsubscribe 1", channel="#elsewhere"))
    assert elsewhere.startswith("There is no active report subscription #1 here;")
    assert len(stored(h)[1]) == 1, "another conversation's subscription is left alone"
    done = await h.say("/summary unsubscribe 1")
    assert h.reply_text(done) == "Subscription #1 (morning health post) stopped."
    with unit_of_work(h.app.engine) as session:
        query = select(AuditEntry).where(AuditEntry.command == "summary unsubscribe")
        details = [(a.outcome, a.detail) for a in session.exec(query).all()]
    assert ("ok", "subscription 1 daily at 09:00") in details
    assert stored(h)[1] == []
    await h.advance(days=1)
    assert not [s for s in h.adapter.sent if "Morning health post" in s.text]


async def test_jitter_spreads_the_send_without_calling_it_late(
    make_harness: HarnessFactory,
    quiet: Path,
) -> None:
    h = await make_harness(config_dir=quiet, summary_jitter_minutes=5)
    await h.say("/summary subscribe daily --at 09:00 --tz Asia/Shanghai")
    [_], [timer] = stored(h)
    assert SHANGHAI_NINE < timer.due_at <= SHANGHAI_NINE + timedelta(minutes=5)
    await h.advance(hours=24, minutes=5)
    [post] = [s for s in h.adapter.sent if "Morning health post" in s.text]
    assert "late by" not in post.text


async def test_an_evening_subscription_posts_at_its_time_only(
    make_harness: HarnessFactory, quiet: Path
) -> None:
    h = await make_harness(config_dir=quiet, start=START)  # Monday 09:00 in Shanghai
    await h.say("/summary subscribe evening --at 17:00 --tz Asia/Shanghai")
    await h.advance(hours=7, minutes=59)
    assert not [s for s in h.adapter.sent if "Daily report" in s.text]
    await h.advance(minutes=1)
    [post] = [s for s in h.adapter.sent if "Daily report" in s.text]
    assert post.lines[0] == "📋 Daily report — 2026-11-23 (Asia/Shanghai)"
    assert post.address == "#ops"


def test_a_message_carries_its_chart_and_old_rows_still_load() -> None:
    message = Message(blocks=(t("summary.none"),), image="abc123")
    assert message_from_json(message_to_json(message)) == message
    old = message_to_json(Message.of(t("summary.none")))
    del old["image"]
    assert message_from_json(old).image is None


async def test_charts_older_than_ninety_days_are_pruned(
    make_harness: HarnessFactory, quiet: Path
) -> None:
    h = await make_harness(config_dir=quiet)
    with unit_of_work(h.app.engine) as session:
        for name, age in (("old", 91), ("recent", 89)):
            session.add(
                ChartImage(id=name, png=b"x", kind="daily", created_at=START - timedelta(days=age))
            )
    await h.say("/summary now")
    with unit_of_work(h.app.engine) as session:
        kept = sorted(row.id for row in session.exec(select(ChartImage)).all())
    assert len(kept) == 2
    assert "old" not in kept
    assert "recent" in kept


async def test_a_report_now_counts_what_happened_up_to_this_minute(
    make_harness: HarnessFactory,
    quiet: Path,
) -> None:
    h = await make_harness(config_dir=quiet)
    await h.say('/incident open "Payment callbacks failing" --sev P1 --service web')
    await h.say("/summary now weekly --service web")
    [post] = [s for s in h.adapter.sent if "Weekly report" in s.text]
    assert "Incidents: 1 opened (P0 0 · P1 1 · P2 0 · P3 0), 0 resolved" in post.text
    assert "  new [P1] #1 Payment callbacks failing" in post.text
    assert "Main problems:\n  1. [P1] #1 Payment callbacks failing — open" in post.text
    assert "web:" in post.text
    assert "miniapp:" not in post.text


def subscriptions(h: Harness) -> list[tuple[str | None, str, str]]:
    with unit_of_work(h.app.engine) as session:
        rows = session.exec(select(SummarySubscription).order_by(SummarySubscription.id)).all()
        return [(r.origin, r.kind, r.state) for r in rows]


async def test_the_shipped_reports_run_with_no_command_once_and_stay_off_when_stopped(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    # Seed 000: the 09:00 check, the 17:00 daily report and the Friday weekly report.
    h = await make_harness(start=START)  # Monday 09:00 in Shanghai
    assert subscriptions(h) == [
        ("config:daily:#ops", "daily", "active"),
        ("config:evening:#ops", "evening", "active"),
        ("config:weekly:#ops", "weekly", "active"),
    ]
    await h.advance(hours=8)  # 17:00: the daily report, with no command
    assert any(s.text.startswith("📋 Daily report") for s in h.adapter.sent if s.address == "#ops")
    # A second replica starting on the same database creates none again.
    again = await make_harness(start=START + timedelta(hours=8))
    assert len(subscriptions(again)) == 3
    # Stopped by a person: a restart does not bring it back.
    out = await h.say("/summary unsubscribe 2", user="bob")
    assert out.status == "ok", h.reply_text(out)
    restarted = await make_harness(start=START + timedelta(hours=9))
    assert subscriptions(restarted)[1] == ("config:evening:#ops", "evening", "cancelled")
    # Turned off in summaries.yaml: stopped at the next start.
    for source in DEFAULTS.glob("*.yaml"):
        shutil.copy(source, tmp_path / source.name)
    summaries = (tmp_path / "summaries.yaml").read_text(encoding="utf-8")
    (tmp_path / "summaries.yaml").write_text(
        summaries.replace('channel: "#ops", at: "09:00"', 'channel: "#ops", enabled: false'),
        encoding="utf-8",
    )
    off = await make_harness(start=START + timedelta(hours=10), config_dir=tmp_path)
    assert subscriptions(off)[0] == ("config:daily:#ops", "daily", "cancelled")
    with unit_of_work(off.app.engine) as session:
        pending = session.exec(
            select(Timer).where(Timer.key == "summary:1", Timer.state == "pending")
        ).all()
        assert pending == []
