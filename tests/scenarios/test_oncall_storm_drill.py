"""The shipped storm drill: the page budget folds a storm into one notification, the ack
reminders due together are one message, and a P3 in the evening waits for the next
working morning."""

from __future__ import annotations

from tests.fakes.drill import run_drill


def test_the_storm_drill() -> None:
    out = run_drill("oncall-storm.txt")
    bob_pages = [block for block in out.split(">>> ")[1:] if block.startswith("@bob\n📟 Page #")]
    assert len(bob_pages) >= 5
    fold = out.index(
        ">>> @bob\n📟 2 more pages for you while over your page budget (5 per 10m), "
        "held until now:\n"
        "  #6 (web): queue depth high 6 — open\n  #7 (web): queue depth high 7 — open"
    )
    assert fold < out.index("-- The clock is now 2026-11-23 01:10 UTC.")
    # carol's pages were held too, and bob acknowledged them all before her window ended:
    # no fold for her listing pages that are no longer open.
    assert ">>> @carol\n📟 2 more pages" not in out
    assert "— acknowledged\n" not in out
    # bob acknowledged in #web, where carol and dave are: said once there, no copies.
    assert out.count("Page #1 (queue depth high 1) acknowledged by @bob.") == 1
    assert ">>> @carol\nPage #1 (queue depth high 1) resolved by @bob." not in out
    assert "Held for @bob: over the page budget" in out
    assert "held for @bob: over the page budget, folded into one notification later" in out
    # The seven ack reminders, due together, are one message listing them all.
    assert out.count(">>> @bob\n⏳ 7 pages you acknowledged are not resolved yet:\n") == 1
    assert "  #7 (queue depth high 7): acknowledged for 30m; when it is over: /resolve 7" in out
    assert "is acknowledged, not resolved" not in out
    assert out.count(">>> @bob\n📟 2 more pages for you while over your page budget") == 1
    assert "Page #7 (queue depth high 7) resolved by @bob." in out
    assert "it waits until 2026-11-24 09:00 UTC+8, the next working morning" in out
    assert "2026-11-23 18:40 UTC+8 deferred to the next working morning" in out
    assert "2026-11-24 09:00 UTC+8 notified @bob (primary)" in out
    # Nothing reminds after resolving: the reminders all came before the resolves.
    assert out.rindex("not resolved yet") < out.index("resolved by @bob.")
