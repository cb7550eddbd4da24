"""/incident through the whole pipeline, on a virtual clock, on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.config.directory import DEFAULTS
from storage.models import AuditEntry, IncidentEvent, IncidentRow, OutboxMessage
from storage.unit_of_work import unit_of_work
from tests.conftest import Harness, HarnessFactory
from tests.support import incident_row, posts

pytestmark = pytest.mark.usefixtures("database_url")


def kinds(h: Harness, incident_id: int = 1) -> list[tuple[str, str]]:
    with unit_of_work(h.app.engine) as session:
        events = session.exec(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident_id)
            .order_by(col(IncidentEvent.id))
        ).all()
        return [(e.actor, e.kind) for e in events]


def stored(h: Harness) -> tuple[int, int, int]:
    """Incidents, timeline lines and outbox rows: what a refused command must not add to."""
    with unit_of_work(h.app.engine) as session:
        return (
            len(session.exec(select(IncidentRow)).all()),
            len(session.exec(select(IncidentEvent)).all()),
            len(session.exec(select(OutboxMessage)).all()),
        )


async def test_open_for_a_service_goes_to_its_channel_and_p1_to_tech(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    out = await h.say('/incident open "checkout returns 500" --sev P1 --service web', user="bob")
    assert out.status == "ok", h.reply_text(out)
    assert "Incident #1 [P1] opened by @bob" in h.reply_text(out)
    incident = incident_row(h)
    assert (incident.channel, incident.commander, incident.service) == (
        "console:#incidents",
        "bob",
        "web",
    )
    assert len(posts(h, "#incidents")) == 1
    assert len(posts(h, "#tech")) == 1
    # P2 stays with the team: no word to the tech channel.
    await h.say('/incident open "slow avatar uploads" --sev P2 --service web', user="bob")
    assert len(posts(h, "#tech")) == 1


async def test_the_whole_life_is_in_the_timeline_and_the_audit_log(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    await h.say('/incident open "checkout returns 500" --sev P1 --service web', user="bob")
    await h.say("/incident ack 1", user="carol")
    await h.say("/incident assign 1 comms @dave", user="carol")
    await h.say('/incident update 1 "rolled back the config"', user="carol")
    await h.say('/incident note 1 "error rate falling"', user="dave")
    await h.say("/incident mitigate 1", user="carol")
    await h.say('/incident resolve 1 --note "config fixed"', user="carol")
    out = await h.say("/incident close 1", user="carol")
    assert out.status == "ok", h.reply_text(out)
    assert kinds(h) == [
        ("bob", "open"),
        ("carol", "ack"),
        ("carol", "assign"),
        ("carol", "update"),
        ("dave", "note"),
        ("carol", "mitigate"),
        ("carol", "resolve"),
        ("carol", "close"),
    ]
    assert incident_row(h).state == "closed"
    with unit_of_work(h.app.engine) as session:
        audited = session.exec(select(AuditEntry.command).where(AuditEntry.outcome == "ok")).all()
    assert len(audited) == 8
    postmortem = h.reply_text(await h.say("/incident postmortem 1"))
    assert "rolled back the config" in postmortem
    assert "error rate falling" in postmortem


async def test_raising_to_p0_tells_the_tech_channel_once(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    await h.say('/incident open "search is slow" --sev P2 --service web', user="bob")
    assert posts(h, "#tech") == []
    out = await h.say('/incident sev 1 P0 --reason "checkout down too"', user="bob")
    assert out.status == "ok", h.reply_text(out)
    [tech] = posts(h, "#tech")
    assert "now P0 (was P2)" in tech
    await h.say('/incident sev 1 P1 --reason "checkout back"', user="bob")
    assert len(posts(h, "#tech")) == 1  # already told: P1 is no news there


async def test_resolve_before_ack_is_allowed_and_recorded(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    await h.say('/incident open "blip" --sev P3', user="bob")
    out = await h.say("/incident resolve 1", user="bob")
    assert out.status == "ok", h.reply_text(out)
    incident = incident_row(h)
    assert incident.state == "resolved"
    assert incident.acked_at == incident.resolved_at  # resolving answered it too
    assert kinds(h)[-1] == ("bob", "resolve")


@pytest.mark.parametrize(
    ("line", "user", "status", "fragment"),
    [
        ("/incident ack 99", "bob", "refused", "There is no incident #99"),
        ('/incident sev 1 P7 --reason "x"', "bob", "usage", "use one of P0, P1, P2, P3"),
        ("/incident sev 1 P0", "bob", "usage", "needs --reason"),
        ("/incident list --sev P1,PX", "bob", "usage", "“PX” is not a severity"),
        ("/incident ack 1", "mallory", "denied", "responder"),
        ("/incident close 1", "bob", "denied", "incident-commander"),
        ("/incident open " + "x" * 201, "bob", "usage", "keep it to 200"),
        ("/incident notify 1 public", "bob", "usage", "The text is missing."),
        ("/incident open x --policy nope", "bob", "usage", "There is no severity policy “nope”"),
        ("/incident start 1 now", "bob", "usage", "now"),
    ],
)
async def test_bad_input_gets_a_sentence_and_changes_nothing(
    make_harness: HarnessFactory, line: str, user: str, status: str, fragment: str
) -> None:
    h = await make_harness()
    await h.say('/incident open "blip" --sev P3', user="bob")
    before = stored(h)
    out = await h.say(line, user=user)
    assert out.status == status
    assert fragment in h.reply_text(out)
    assert stored(h) == before


async def test_an_update_to_a_closed_incident_is_refused(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    await h.say('/incident open "blip" --sev P3', user="carol")
    await h.say("/incident resolve 1", user="carol")
    await h.say("/incident close 1", user="carol")
    before = stored(h)
    out = await h.say('/incident update 1 "still here?"', user="carol")
    assert out.status == "refused"
    assert "closed" in h.reply_text(out)
    assert stored(h) == before


async def test_notices_reach_their_audiences_ahead_of_the_deadline(
    make_harness: HarnessFactory,
) -> None:
    # Seed 001 §5.3: management within 15 minutes, a notice to users within the hour.
    h = await make_harness()
    await h.say('/incident open "checkout returns 500" --sev P0 --service web', user="bob")
    await h.advance(minutes=12)
    [ahead] = [p for p in posts(h, "#incidents") if "Management notified" in p]
    assert "is due by 2026-11-23 01:15 UTC, in 3m" in ahead
    out = await h.say(
        '/incident notify 1 management "checkout down since 09:00, rollback under way"',
        user="bob",
    )
    assert out.status == "ok", h.reply_text(out)
    assert "sent to @dave by @bob" in h.reply_text(out)
    [told] = [s.text for s in h.adapter.sent if s.kind == "direct" and "For management" in s.text]
    assert "checkout down since 09:00, rollback under way" in told
    await h.advance(minutes=10)  # past 15m: no overdue reminder for a step done
    assert not any("was due at" in p and "Management" in p for p in posts(h, "#incidents"))
    assert kinds(h)[-1] == ("bob", "notice")


async def test_a_p2_may_publish_a_notice(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    await h.say('/incident open "search is slow" --sev P2', user="bob")
    out = await h.say('/incident notify 1 public "Search is slower than usual."', user="bob")
    assert out.status == "ok", h.reply_text(out)
    assert posts(h, "#status") == ["📣 Service notice: Search is slower than usual."]
    assert incident_row(h).checklist == {"public": "bob"}


async def test_a_notice_with_no_audience_is_refused_in_one_sentence(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    for source in DEFAULTS.glob("*.yaml"):
        shutil.copy(source, tmp_path / source.name)
    severity = (tmp_path / "severity.yaml").read_text(encoding="utf-8")
    (tmp_path / "severity.yaml").write_text(
        severity.replace('  public: ["#status"]\n', ""), encoding="utf-8"
    )
    h = await make_harness(config_dir=tmp_path)
    await h.say('/incident open "search is slow" --sev P2', user="bob")
    before = stored(h)
    out = await h.say('/incident notify 1 public "Search is slow."', user="bob")
    assert out.status == "usage"
    assert h.reply_text(out).startswith(
        "Nobody is set to receive the public notice: add audiences.public to severity.yaml"
    )
    assert stored(h) == before


@pytest.mark.parametrize("typed_in", ["#incidents", "#tech", "#web"])
async def test_a_p0_is_said_once_in_each_conversation(
    make_harness: HarnessFactory, typed_in: str
) -> None:
    h = await make_harness()
    out = await h.say('/incident open "checkout down" --sev P0 --service web', channel=typed_in)
    news = "🚨 Incident #1 [P0] opened by @alice: checkout down."
    assert h.reply_text(out).startswith(news)  # said where it was typed
    for channel in ("#incidents", "#tech"):
        posts = [s for s in h.adapter.sent if s.address == channel and news in s.text]
        assert len(posts) == (0 if channel == typed_in else 1), channel


async def test_list_open_shows_the_newest_unresolved_of_every_state_first(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    for n in range(1, 6):
        assert (await h.say(f"/incident open incident-{n} --sev P2", user="bob")).status == "ok"
    for said in ("/incident ack 2", "/incident ack 4", "/incident resolve 3"):
        assert (await h.say(said, user="bob")).status == "ok", said
    text = h.reply_text(await h.say("/incident list --open"))
    listed = [n for n in range(1, 6) if f"incident-{n}" in text]
    assert listed == [1, 2, 4, 5]
    assert [text.index(f"incident-{n}") for n in (5, 4, 2, 1)] == sorted(
        text.index(f"incident-{n}") for n in (5, 4, 2, 1)
    )
