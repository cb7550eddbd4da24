"""/incident show says who acknowledged an incident and when, however it was answered."""

from __future__ import annotations

from tests.conftest import HarnessFactory


async def test_show_names_who_acknowledged_and_when(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    await h.say('/incident open "checkout 500s" --sev P2', user="bob")
    before = h.reply_text(await h.say("/incident show 1"))
    assert "Acknowledged: not yet" in before
    await h.advance(minutes=3)
    assert (await h.say("/incident ack 1", user="carol")).status == "ok"
    await h.advance(minutes=5)
    await h.say("/incident start 1", user="dave")
    after = h.reply_text(await h.say("/incident show 1"))
    assert "Acknowledged: by @carol at 2026-11-23 " in after
    assert "@dave" not in after.split("Acknowledged:")[1].splitlines()[0]
    await h.say("/config locale zh")
    zh = h.reply_text(await h.say("/incident show 1"))
    assert "确认: @carol 于 2026-11-23 " in zh


async def test_the_first_to_act_is_who_answered_when_nobody_acked(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    await h.say('/incident open "slow search" --sev P3', user="bob")
    await h.say("/incident mitigate 1", user="dave")
    shown = h.reply_text(await h.say("/incident show 1"))
    assert "Acknowledged: by @dave at 2026-11-23 " in shown
