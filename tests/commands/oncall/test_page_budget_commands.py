"""A page storm through the pipeline, on SQLite and PostgreSQL: each person gets at most
the budget's notifications per window; the rest arrive folded into one notification with
the count and the list when the window ends, and the timeline records each hold."""

from __future__ import annotations

import pytest

from storage.models import PageBudgetRow
from storage.unit_of_work import unit_of_work
from tests.conftest import HarnessFactory
from tests.support import dms_to

pytestmark = pytest.mark.usefixtures("database_url")


async def test_a_storm_is_folded_into_one_notification_and_none_is_dropped(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    replies = [h.reply_text(await h.say(f'/page web "storm {i}"')) for i in range(1, 9)]
    assert "Held for" not in replies[4]
    assert "Held for @bob: over the page budget" in replies[5]
    assert len(dms_to(h, "bob")) == 5  # the default budget: 5 per 10 minutes
    await h.advance(minutes=9)
    assert len(dms_to(h, "bob")) == 5
    await h.advance(minutes=1)
    folded = dms_to(h, "bob")[5:]
    assert len(folded) == 1
    assert "3 more pages for you while over your page budget (5 per 10m)" in folded[0]
    for i in (6, 7, 8):
        assert f"#{i} (web): storm {i} — open" in folded[0]
    with unit_of_work(h.app.engine) as session:
        row = session.get(PageBudgetRow, "bob")
        assert row is not None
        assert row.held == []
    timeline = h.reply_text(await h.say("/pages --id 8"))
    assert "held for @bob: over the page budget" in timeline
    # The fold opened a new window: four more fit, the fifth is held again.
    await h.advance(minutes=1)
    for i in range(9, 14):
        await h.say(f'/page @bob "after {i}"')
    assert len(dms_to(h, "bob")) == 6 + 4
