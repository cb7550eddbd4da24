"""What spends a person's page budget is said by the message itself
(``DirectMessage.spends_page_budget``), never guessed from its catalog key: renaming a key
cannot switch the budget off, and other news that reads like a page is never held."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from commands.core.context import SystemContext
from commands.oncall.budget import throttle
from playbooks.effects import DirectMessage
from playbooks.messages import Message, raw, t
from playbooks.oncall.budget import Budget
from playbooks.oncall.paging import Page, PageState, Result, direct_policy
from playbooks.oncall.teams import Team
from playbooks.people import Directory
from storage.unit_of_work import unit_of_work

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
ONE = Team("web", UTC, {}, page_budget=Budget(count=1, window=timedelta(minutes=10)))


def page(page_id: int) -> Page:
    return Page(page_id, "down", PageState.OPEN, direct_policy("bob"), T0, "alice")


def sent(engine: Engine, *messages: DirectMessage) -> list[DirectMessage]:
    """What of ``messages``, one page each, reaches bob within a budget of one."""
    kept: list[DirectMessage] = []
    with unit_of_work(engine) as session:
        ctx = SystemContext(session=session, now=T0, directory=Directory({}), tz=UTC)
        for page_id, message in enumerate(messages, start=1):
            result = throttle(ctx, ONE, Result(page(page_id), effects=[message]))
            kept += [e for e in result.effects if isinstance(e, DirectMessage)]
    return kept


def test_a_budgeted_message_under_any_key_spends_the_budget(engine: Engine) -> None:
    first = DirectMessage("bob", Message.of(raw("wake up")), spends_page_budget=True)
    second = DirectMessage("bob", Message.of(t("page.renamed", id=2)), spends_page_budget=True)
    assert sent(engine, first, second) == [first]


def test_news_in_a_pages_words_that_spends_nothing_is_never_held(engine: Engine) -> None:
    notify = t("page.notify", id=1, severity="", team="-", title="down", actor="alice")
    first = DirectMessage("bob", Message.of(notify), spends_page_budget=True)
    news = DirectMessage("bob", Message.of(notify))
    reminder = DirectMessage("bob", Message.of(t("page.remind", id=3)))
    assert sent(engine, first, news, reminder) == [first, news, reminder]
