"""One message per person per event: a direct message whose news is posted in a channel is
not sent to a member of it, as the platform says, else as people.yaml says."""

from __future__ import annotations

from sqlmodel import select

from storage.models import OutboxMessage
from storage.unit_of_work import unit_of_work
from tests.conftest import Harness, HarnessFactory
from tests.fakes.adapters import MemberAdapter
from tests.support import dms_to


def states(h: Harness) -> dict[str, str]:
    with unit_of_work(h.app.engine) as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "direct")).all()
        return {r.address: r.state for r in rows}


async def assign_alice_and_dave(h: Harness) -> None:
    await h.say('/incident open "checkout slow" --sev P3', user="carol", channel="#ops")
    await h.say("/incident assign 1 scribe @alice", user="carol", channel="#ops")
    await h.say("/incident assign 1 comms @dave", user="carol", channel="#ops")


async def test_people_yaml_answers_where_the_platform_cannot(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()  # the console's adapter cannot say who is in #ops
    await assign_alice_and_dave(h)
    # alice is in #ops (people.yaml): the post there is her one message; dave is not.
    assert dms_to(h, "alice") == []
    assert dms_to(h, "dave") == ["Incident #1: @dave is now communications lead (set by @carol)."]
    assert states(h) == {"alice": "covered", "dave": "sent"}
    outbox = h.reply_text(await h.say("/admin outbox", user="alice"))
    assert "1 not sent to people who had the news in a channel they are in" in outbox


async def test_the_platforms_word_comes_first_and_is_asked_when_it_is_sent(
    make_harness: HarnessFactory,
) -> None:
    adapter = MemberAdapter(members={"#ops": {"dave"}})  # alice left #ops; dave joined
    h = await make_harness(adapter=adapter)
    await assign_alice_and_dave(h)
    assert dms_to(h, "alice") == ["Incident #1: @alice is now scribe (set by @carol)."]
    assert dms_to(h, "dave") == []
    assert adapter.asked == [("#ops", "alice"), ("#ops", "dave")]


async def test_a_page_is_always_sent_directly(make_harness: HarnessFactory) -> None:
    adapter = MemberAdapter(members={"#web": {"bob", "carol", "dave"}})
    h = await make_harness(adapter=adapter)
    await h.say('/page web "payment callbacks failing" --sev P1', channel="#web")
    [page] = dms_to(h, "bob")
    assert page.startswith("📟 Page #1 P1 (web): payment callbacks failing")
    assert adapter.asked == []  # a page names no channel to be covered by
