"""The ``manual`` traffic backend through the whole pipeline: Shipwatch asks a person to
move the traffic, waits for ``/release applied``, and only then starts the stage's soak."""

from __future__ import annotations

import textwrap
from pathlib import Path

from sqlmodel import select

from storage.models import OutboxMessage, ReleaseEvent, ReleaseRow
from storage.unit_of_work import unit_of_work
from tests.conftest import Harness, HarnessFactory
from tests.support import releases_posts, traffic

SERVICES = """
services:
  legacy:
    plan: small
    release_channel: "#releases"
    traffic:
      backend: manual
    metrics:
      source: simulated
"""

PLAN = """
name: small
description: "10% for 30m, then everything"
stages:
  - {name: canary, percent: 10%, soak: 30m}
  - {name: full, percent: 100%}
guards:
  - name: error_rate
    query: 'errors{service="{service}"}'
    max: 5%
    for: 5m
    action: rollback
"""

APPLY_10 = (
    "Please set legacy 1.0.0 to 10% (stage canary) by hand, then type /release applied legacy."
)
APPLY_100 = (
    "Please set legacy 1.0.0 to 100% (stage full) by hand, then type /release applied legacy."
)


def config_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    (folder / "plans").mkdir(parents=True)
    (folder / "services.yaml").write_text(textwrap.dedent(SERVICES).lstrip(), encoding="utf-8")
    (folder / "plans" / "small.yaml").write_text(textwrap.dedent(PLAN).lstrip(), encoding="utf-8")
    return folder


async def legacy(make_harness: HarnessFactory, tmp_path: Path) -> Harness:
    h: Harness = await make_harness(config_dir=config_dir(tmp_path))
    h.app.integrations.simulated_metrics.set("error_rate", 0.01)
    return h


def row(h: Harness) -> ReleaseRow:
    with unit_of_work(h.app.engine) as session:
        found = session.exec(select(ReleaseRow)).one()
        session.expunge(found)
        return found


def moves(h: Harness) -> list[tuple[str, str]]:
    with unit_of_work(h.app.engine) as session:
        return [
            (e.move, e.actor)
            for e in session.exec(select(ReleaseEvent).order_by(ReleaseEvent.id)).all()
        ]


async def status(h: Harness) -> str:
    out = await h.say("/release status legacy")
    assert out.status == "ok", h.reply_text(out)
    return h.reply_text(out)


# --- the whole walk --------------------------------------------------------------------------


async def test_start_asks_a_person_to_set_the_traffic_and_sends_nothing(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await legacy(make_harness, tmp_path)
    out = await h.say("/release start legacy 1.0.0")
    assert out.status == "ok", h.reply_text(out)
    assert "stage canary, 10% of traffic" in h.reply_text(out)
    assert APPLY_10 in releases_posts(h)
    assert traffic(h) == []
    with unit_of_work(h.app.engine) as session:
        assert (
            session.exec(select(OutboxMessage).where(OutboxMessage.kind == "traffic")).all() == []
        )
    r = row(h)
    assert (r.state, r.stage, r.percent, r.traffic) == ("pending", 0, 10, "manual")
    text = await status(h)
    assert "State: waiting for traffic to be applied" in text
    assert "canary, 10% (of 2 stages)" in text
    assert "Soak:" not in text  # the soak has not started: nobody confirmed the traffic yet


async def test_promote_before_applied_is_refused_however_long_it_waits(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await legacy(make_harness, tmp_path)
    await h.say("/release start legacy 1.0.0")
    await h.advance(hours=1)  # twice the soak: none of it counts before /release applied
    assert not any("soak of stage canary" in p for p in releases_posts(h))
    out = await h.say("/release promote legacy")
    assert out.status == "refused"
    assert "traffic change to 10% is not confirmed yet: /release applied legacy" in h.reply_text(
        out
    )
    r = row(h)
    assert (r.state, r.stage, r.percent) == ("pending", 0, 10)
    assert traffic(h) == []


async def test_the_soak_starts_when_a_responder_confirms_the_traffic(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await legacy(make_harness, tmp_path)
    await h.say("/release start legacy 1.0.0")
    await h.advance(minutes=20)
    out = await h.say("/release applied legacy", user="bob")
    assert out.status == "ok", h.reply_text(out)
    assert "bob confirmed legacy is at 10%; the stage's soak starts now." in h.reply_text(out)
    assert any("bob confirmed legacy is at 10%" in p for p in releases_posts(h))
    r = row(h)
    assert r.state == "in_stage"
    text = await status(h)
    assert "State: in stage" in text
    assert "Soak: 30m left" in text  # not 10m: the 20 minutes before it do not count
    await h.advance(minutes=1)
    assert "Soak: 29m left" in await status(h)
    early = await h.say("/release promote legacy")
    assert early.status == "refused"
    assert "soak: 29m left of 30m in stage canary" in h.reply_text(early)
    await h.advance(minutes=29)
    assert any("The soak of stage canary (10%) of legacy is over." in p for p in releases_posts(h))
    assert traffic(h) == []


async def test_a_manual_release_walks_to_completion(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await legacy(make_harness, tmp_path)
    await h.say("/release start legacy 1.0.0")
    await h.say("/release applied legacy", user="bob")
    await h.advance(minutes=30)
    out = await h.say("/release promote legacy")
    assert out.status == "ok", h.reply_text(out)
    assert "alice promoted legacy 1.0.0 from 10% to 100% (stage full)." in h.reply_text(out)
    assert APPLY_100 in releases_posts(h)
    r = row(h)
    assert (r.state, r.stage, r.percent) == ("pending", 1, 100)  # not completed: not applied
    assert "State: waiting for traffic to be applied" in await status(h)
    again = await h.say("/release promote legacy")
    assert again.status == "refused"
    assert "/release applied legacy" in h.reply_text(again)

    done = await h.say("/release applied legacy", user="bob")
    assert done.status == "ok", h.reply_text(done)
    assert "legacy 1.0.0 is fully released (100%). Done by bob." in h.reply_text(done)
    assert row(h).state == "completed"
    posts = releases_posts(h)
    assert any("legacy 1.0.0 is fully released (100%). Done by bob." in p for p in posts)
    assert any("legacy 1.0.0 is fully released (100%)" in p for p in posts)
    assert moves(h) == [
        ("start", "alice"),
        ("applied", "bob"),
        ("promote", "alice"),
        ("applied", "bob"),
        ("complete", "bob"),
    ]
    assert traffic(h) == []  # the simulated backend never moved anything for legacy
    assert "no release in progress" in h.reply_text(await h.say("/release applied legacy"))


# --- refusals --------------------------------------------------------------------------------


async def test_applied_with_no_release_is_refused(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await legacy(make_harness, tmp_path)
    out = await h.say("/release applied legacy", user="bob")
    assert out.status == "refused"
    assert (
        "legacy has no release in progress; start one with /release start legacy VERSION."
        in h.reply_text(out)
    )
    with unit_of_work(h.app.engine) as session:
        assert session.exec(select(ReleaseRow)).all() == []
    assert h.adapter.sent == []


async def test_applied_twice_is_refused_and_does_not_restart_the_soak(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await legacy(make_harness, tmp_path)
    await h.say("/release start legacy 1.0.0")
    await h.say("/release applied legacy", user="bob")
    await h.advance(minutes=10)
    sent = len(h.adapter.sent)
    before = row(h)
    out = await h.say("/release applied legacy", user="bob")
    assert out.status == "refused"
    text = h.reply_text(out)
    assert "legacy" in text
    assert "in stage" in text  # says what the release is doing instead
    after = row(h)
    assert (after.state, after.stage_started_at, after.updated_at) == (
        before.state,
        before.stage_started_at,
        before.updated_at,
    )
    assert "Soak: 20m left" in await status(h)
    assert len(h.adapter.sent) == sent
    assert moves(h) == [("start", "alice"), ("applied", "bob")]


async def test_someone_without_a_role_cannot_confirm_traffic(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await legacy(make_harness, tmp_path)
    await h.say("/release start legacy 1.0.0")
    out = await h.say("/release applied legacy", user="mallory")
    assert out.status == "denied"
    assert "needs the responder role" in h.reply_text(out)
    assert row(h).state == "pending"
    assert "Soak:" not in await status(h)
    assert moves(h) == [("start", "alice")]


# --- brakes ----------------------------------------------------------------------------------


async def test_rollback_asks_a_person_to_move_the_traffic_back(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await legacy(make_harness, tmp_path)
    await h.say("/release start legacy 1.0.0")
    await h.say("/release applied legacy", user="bob")
    out = await h.say('/release rollback legacy --reason "login broken"', user="bob")
    assert out.status == "ok", h.reply_text(out)
    assert "Please roll legacy back by hand now: send 0% of traffic to 1.0.0." in releases_posts(h)
    r = row(h)
    assert (r.state, r.percent) == ("rolled_back", 0)
    assert traffic(h) == []


async def test_a_release_paused_before_applied_still_waits_for_applied_after_resume(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await legacy(make_harness, tmp_path)
    await h.say("/release start legacy 1.0.0")
    assert (await h.say("/release pause legacy --reason wait", user="bob")).status == "ok"
    resumed = await h.say("/release resume legacy", user="bob")
    assert resumed.status == "ok", h.reply_text(resumed)
    assert row(h).state == "pending"
    text = await status(h)
    assert "State: waiting for traffic to be applied" in text
    assert "Soak:" not in text
    await h.advance(minutes=40)
    assert (await h.say("/release promote legacy")).status == "refused"


# --- wording that misleads (found while writing these tests) ---------------------------------


async def test_applied_twice_says_so_in_plain_words(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await legacy(make_harness, tmp_path)
    await h.say("/release start legacy 1.0.0")
    await h.say("/release applied legacy", user="bob")
    text = h.reply_text(await h.say("/release applied legacy", user="bob"))
    assert "cannot applied" not in text, text


async def test_resume_before_applied_does_not_promise_a_soak(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await legacy(make_harness, tmp_path)
    await h.say("/release start legacy 1.0.0")
    await h.say("/release pause legacy --reason wait", user="bob")
    text = h.reply_text(await h.say("/release resume legacy", user="bob"))
    assert "soak" not in text, text


async def test_applied_at_100_percent_does_not_announce_a_soak(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await legacy(make_harness, tmp_path)
    await h.say("/release start legacy 1.0.0")
    await h.say("/release applied legacy", user="bob")
    await h.advance(minutes=30)
    await h.say("/release promote legacy")
    await h.say("/release applied legacy", user="bob")
    posts = releases_posts(h)
    final = posts[posts.index(next(p for p in posts if "to 100%" in p)) :]
    assert any("fully released (100%)" in p for p in final), final
    assert not any("soak starts now" in p for p in final), final
