"""Email, SMS and push through Apprise, against real local servers: a page by email is
acknowledged by following the link in the mail; an SMS reaches a Twilio-compatible API
and a push reaches ntfy; an escalation step's ``via`` picks the ways, a failing one is
written on the page's timeline and the next is tried."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.action_links import LinkSigner
from bot.adapters.apprise_adapter import AppriseAdapter
from bot.adapters.apprise_targets import resolve
from bot.i18n import Translator
from playbooks.errors import AdapterError
from playbooks.messages import Button, Message, raw
from storage.models import OutboxMessage
from tests.fakes.apprise_targets import SmtpInbox
from tests.fakes.apprise_world import LINK, AppriseWorld, make_apprise_world
from tests.fakes.robot_world import LINK_SECRET, PUBLIC_URL

pytestmark = pytest.mark.usefixtures("database_url")


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[AppriseWorld]:
    built = await make_apprise_world(database_url, tmp_path / "config")
    yield built
    await built.close()


async def test_a_page_by_email_is_acknowledged_from_the_link_in_the_mail(
    world: AppriseWorld,
) -> None:
    await world.say("/page @carol database down")
    [mail] = world.smtp.mails
    assert mail.to == ["carol@example.com"]
    assert "database down" in mail.subject
    assert "database down" in mail.text
    links = LINK.findall(mail.text)
    assert len(links) == 2, "Acknowledge and Escalate, each a one-time link"
    ack = next(line for line in mail.text.splitlines() if line.startswith("Acknowledge:"))
    link = LINK.findall(ack)[0]

    status, body = await world.open_link(link)
    assert (status, world.page().state) == (200, "open"), "opening the link changes nothing"
    assert "/ack 1" in body
    assert "Carol Wang" in body
    status, body = await world.open_link(link, method="POST")
    assert status == 200
    page = world.page()
    assert (page.state, page.acked_by) == ("acknowledged", "carol")
    status, _ = await world.open_link(link, method="POST")
    assert status == 409, "a link works once"
    assert ("way", "carol", "email") in world.timeline()
    assert world.twilio.received == [], "email is carol's first way: nothing else was sent"


async def test_an_sms_reaches_a_twilio_compatible_api(world: AppriseWorld) -> None:
    await world.say("/page @dave disk full")
    [sms] = world.twilio.received
    assert (sms["To"], sms["From"]) == ("+15550002222", "+15559990000")
    assert "disk full" in sms["Body"]
    assert LINK.search(sms["Body"]), "the SMS carries its acknowledge link"


async def test_a_step_names_its_ways_and_a_failing_one_hands_over_to_the_next(
    world: AppriseWorld, caplog: pytest.LogCaptureFixture
) -> None:
    world.twilio.failing = 500
    caplog.set_level(logging.DEBUG)
    await world.say("/page db replica lag")
    await world.app.settle()
    assert world.timeline()[:4] == [
        ("notify", "carol", "primary"),
        ("way", "carol", "sms"),
        ("way_failed", "carol", "sms: Form did not take the message"),
        ("way", "carol", "email"),
    ]
    [mail] = world.smtp.mails
    assert "replica lag" in mail.subject
    assert world.ntfy.received == [], "via names sms and email only"
    # The SMS gateway's token and the URL holding it are nowhere: not in the log, not
    # in the outbox's record of the failure.
    assert world.twilio.token not in caplog.text
    with Session(world.app.engine) as session:
        errors = [row.last_error or "" for row in session.exec(select(OutboxMessage))]
    assert any("Form did not take the message" in e for e in errors)
    assert not any(world.twilio.token in e for e in errors)

    # Five minutes on, the next step reaches carol every way she has, at once.
    world.twilio.failing = None
    await world.app.advance_to(world.clock.now() + timedelta(minutes=5))
    assert [e for e in world.timeline()[4:] if e[0] == "way"] == [
        ("way", "carol", "email"),
        ("way", "carol", "sms"),
        ("way", "carol", "push"),
    ]
    assert len(world.smtp.mails) == 2
    [sms] = world.twilio.received
    assert "replica lag" in sms["Body"]
    [push] = world.ntfy.received
    assert push["topic"] == "carol-pages"
    assert "replica lag" in push["title"]
    assert LINK.search(push["message"])


async def test_the_last_way_failing_is_retried_and_said_on_the_timeline(
    world: AppriseWorld,
) -> None:
    world.twilio.failing = 503
    await world.say("/page @dave disk full")
    assert world.timeline() == [("notify", "dave", "@dave")], "one way: nothing to choose"
    with Session(world.app.engine) as session:
        [row] = session.exec(select(OutboxMessage).where(OutboxMessage.platform == "sms")).all()
    assert (row.state, row.attempts) == ("pending", 1), "no other way: retried, not dropped"
    world.twilio.failing = None
    await world.app.advance_to(world.clock.now() + timedelta(minutes=2))
    assert len(world.twilio.received) == 1


async def test_a_channel_through_apprise_shows_commands_not_links(tmp_path: Path) -> None:
    """A mailing list is read by many: nobody can tell who opened a link, so a post's
    buttons are the commands to type."""
    smtp = await SmtpInbox().start()
    try:
        found = resolve(smtp.url("ops@example.com"), environ={})[0]
        assert found is not None
        signer = LinkSigner(LINK_SECRET, public_url=PUBLIC_URL)
        adapter = AppriseAdapter("email", targets={("email", "#ops-list"): found}, signer=signer)
        message = Message(
            blocks=(raw("Incident #4 opened: checkout 500s"),),
            buttons=(Button(raw("Acknowledge"), "/incident ack 4", action_id="tok"),),
        )
        await adapter.post("#ops-list", message, tr=Translator("en", UTC))
        [mail] = smtp.mails
        assert mail.subject == "Incident #4 opened: checkout 500s"
        assert "Acknowledge: send /incident ack 4" in mail.text
        assert not LINK.search(mail.text)
        with pytest.raises(AdapterError) as refused:
            await adapter.post("#nowhere", message, tr=Translator("en", UTC))
        assert refused.value.permanent
    finally:
        await smtp.stop()


async def test_a_target_that_does_not_answer_in_time_is_a_failure_to_retry() -> None:
    """An SMTP server that takes the connection and says nothing: Apprise stops waiting at
    the time limit (its sender thread, not the loop, is the one kept waiting)."""
    held: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    url = f"mailto://127.0.0.1:{port}?from=shipwatch@example.com&to=carol@example.com"
    found = resolve(url, environ={})[0]
    assert found is not None
    adapter = AppriseAdapter(
        "email", targets={("email", "env:CAROL"): found}, signer=None, timeout=0.5
    )
    loop_free = asyncio.Event()
    asyncio.get_running_loop().call_later(0.1, loop_free.set)
    try:
        with pytest.raises(AdapterError) as failed:
            await adapter.direct_message(
                "env:CAROL", Message.of(raw("Page #1")), tr=Translator("en", UTC)
            )
        assert loop_free.is_set(), "the loop ran while Apprise waited"
        assert not failed.value.permanent, "retried by the outbox"
        assert failed.value.text.params["reason"] == "E-Mail did not answer within 0.5s"
    finally:
        # Its sender thread, told the connection is gone, says so: heard before the test
        # ends, not into a closed log stream afterwards.
        said = threading.Event()
        heard = _Heard(said)
        logging.getLogger("apprise").addHandler(heard)
        try:
            for writer in held:
                writer.close()
            server.close()
            await server.wait_closed()
            assert await asyncio.to_thread(said.wait, 20)
        finally:
            logging.getLogger("apprise").removeHandler(heard)


class _Heard(logging.Handler):
    def __init__(self, said: threading.Event) -> None:
        super().__init__(logging.WARNING)
        self._said = said

    def emit(self, record: logging.LogRecord) -> None:
        self._said.set()
