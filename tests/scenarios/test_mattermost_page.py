"""On call over Mattermost, as the drill oncall-p0 rehearses it on the console: a P0 opened
with a slash command pages bob by direct message with real buttons; nobody answers for 5
minutes, so the escalation pages carol; bob acknowledges from his page's button, the
escalation stops and #web is told. The Mattermost server is the local fake; Shipwatch's
routes, outbox, timers and REST calls are the real ones."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.bot.adapters.test_mattermost import CHANNELS, IDS, Rig, audit, make_rig, people


@pytest.fixture
async def rig(tmp_path: Path, database_url: str) -> AsyncIterator[Rig]:
    async for made in make_rig(tmp_path, database_url, people(tmp_path / "config")):
        yield made


def dms(rig: Rig, handle: str) -> list[str]:
    return [p.text for p in rig.fake.posts_in(rig.fake.direct_channel_of(IDS[handle]))]


async def test_a_p0_pages_bob_on_mattermost_and_his_button_acknowledges_it(rig: Rig) -> None:
    status, opened = await rig.command(
        "/incident", 'open "checkout returns 500" --sev P0 --service web', channel="web"
    )
    assert (status, opened["response_type"]) == (200, "in_channel"), opened
    await rig.app.settle()
    [page] = rig.fake.posts_in(rig.fake.direct_channel_of(IDS["bob"]))
    assert "checkout returns 500" in page.text
    assert [a["name"] for a in page.actions][:2] == ["Acknowledge", "Escalate"]
    assert dms(rig, "carol") == []
    # Nobody answers: after 5 minutes the escalation reaches carol.
    await rig.app.advance_to(rig.clock.now() + timedelta(minutes=5))
    assert any("checkout returns 500" in text for text in dms(rig, "carol"))
    # bob presses Acknowledge in his direct message.
    status, _ = await rig.press(page, "Acknowledge", user="bob")
    assert status == 200
    await rig.app.settle()
    assert "You acknowledged page #1" in dms(rig, "bob")[-1]
    web = [p.text for p in rig.fake.posts_in(CHANNELS["web"])]
    assert any("acknowledged" in text and "@bob-mm" in text for text in web), web
    [ack] = [a for a in audit(rig.app) if a.command == "ack"]
    assert (ack.actor, ack.platform) == ("bob", "mattermost")
    # The escalation has stopped: half an hour on, nobody is paged again (bob is reminded
    # that the incident is acknowledged and not resolved).
    await rig.app.advance_to(rig.clock.now() + timedelta(minutes=30))
    pages = [t for h in ("bob", "carol", "dave") for t in dms(rig, h) if "📟 Page" in t]
    assert len(pages) == 2, pages
    assert "not resolved" in dms(rig, "bob")[-1]
