"""The story issue 19 asks for, told through real servers: a P0 on db-api pages its team;
carol, on call, is reached by email (her team's first step names it), opens the
Acknowledge link in the mail, confirms, and the page and its incident are acknowledged;
the escalation stops, so nothing more reaches her five minutes later."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from storage.models import IncidentRow
from tests.fakes.apprise_world import LINK, AppriseWorld, make_apprise_world

pytestmark = pytest.mark.usefixtures("database_url")


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[AppriseWorld]:
    built = await make_apprise_world(database_url, tmp_path / "config", first_via="[email]")
    yield built
    await built.close()


async def test_carol_acknowledges_a_p0_from_the_link_in_her_email(world: AppriseWorld) -> None:
    await world.say('/incident open "orders table locked" --sev P0 --service db-api')
    [mail] = world.smtp.mails
    assert mail.to == ["carol@example.com"]
    assert "orders table locked" in mail.subject
    ack = next(line for line in mail.text.splitlines() if line.startswith("Acknowledge:"))
    [link] = LINK.findall(ack)
    assert world.twilio.received == [], "the step names email alone"

    status, _ = await world.open_link(link, method="POST")
    assert status == 200
    page = world.page()
    assert (page.state, page.acked_by) == ("acknowledged", "carol")
    with Session(world.app.engine) as session:
        incident = session.get(IncidentRow, page.incident_id)
        assert incident is not None
        assert incident.state == "acknowledged"
    said = [sent.text for sent in world.console.sent if sent.address == "#ops"]
    # The team's channel is told on the chat platform, not as mail to an "#ops".
    assert "Page #1 (#1 orders table locked) acknowledged by @carol." in said, said

    await world.app.advance_to(world.clock.now() + timedelta(minutes=15))
    assert len(world.smtp.mails) == 1, "acknowledged: the escalation stopped"
    assert world.twilio.received == []
    assert world.ntfy.received == []
