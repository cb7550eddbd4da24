"""The per-person page budget without a database: admitted up to the count, then held,
folded into one notification at the window's end (never dropped), the fold opening the
next window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playbooks.effects import ArmTimer
from playbooks.oncall.budget import KIND, Budget, HeldPage, Spent, admit, fold, key

T0 = datetime(2026, 11, 23, 1, tzinfo=UTC)
M = timedelta(minutes=1)
BUDGET = Budget(count=3, window=10 * M)


def storm(n: int, *, spent: Spent | None = None, at: datetime = T0) -> tuple[Spent, list[bool]]:
    admitted: list[bool] = []
    arms: list[ArmTimer] = []
    for page_id in range(1, n + 1):
        a = admit(spent, person="bob", page_id=page_id, budget=BUDGET, now=at)
        spent, admitted = a.spent, [*admitted, a.admitted]
        if a.arm is not None:
            arms.append(a.arm)
    assert spent is not None
    assert len(arms) == (1 if n > BUDGET.count else 0)  # one fold per window
    return spent, admitted


def test_up_to_the_count_is_sent_then_held() -> None:
    spent, admitted = storm(5)
    assert admitted == [True, True, True, False, False]
    assert spent.held == (4, 5)
    assert spent.sent == 3


def test_the_fold_is_armed_for_the_window_end() -> None:
    spent, _ = storm(3)
    held = admit(spent, person="bob", page_id=4, budget=BUDGET, now=T0 + 4 * M)
    assert held.arm == ArmTimer(key("bob"), KIND, T0 + 10 * M, {"person": "bob"})


def test_a_new_window_after_the_old_one_ends() -> None:
    spent, _ = storm(3)
    later = admit(spent, person="bob", page_id=9, budget=BUDGET, now=T0 + 10 * M)
    assert later.admitted
    assert later.spent == Spent(T0 + 10 * M, 1)


def test_while_pages_are_held_the_next_waits_for_the_fold_too() -> None:
    spent, _ = storm(4)
    late = admit(spent, person="bob", page_id=7, budget=BUDGET, now=T0 + 11 * M)
    assert not late.admitted
    assert late.spent.held == (4, 7)
    assert late.arm is None  # the fold already armed takes it


def test_the_fold_is_one_notification_with_the_count_and_every_page_still_open() -> None:
    held = [
        HeldPage(4, "db down", "web", "open", "P1"),
        HeldPage(5, "disk full", "web", "acknowledged"),
        HeldPage(6, "queue deep", "web", "open"),
    ]
    spent, message = fold(held, person="carol", budget=BUDGET, now=T0 + 10 * M)
    assert spent == Spent(T0 + 10 * M, 1)  # the fold is the next window's first
    assert message is not None
    assert message.blocks[0].key == "budget.folded"
    # #5 was acknowledged while held: no longer news, neither counted nor listed.
    assert message.blocks[0].params["count"] == 2
    assert [b.params["id"] for b in message.blocks[1:]] == [4, 6]
    assert [b.command for b in message.buttons] == ["/ack 4", "/ack 6"]
    assert fold([], person="carol", budget=BUDGET, now=T0)[1] is None


def test_a_fold_of_pages_all_acknowledged_meanwhile_says_nothing() -> None:
    held = [
        HeldPage(4, "db down", "web", "acknowledged", acked_by="bob"),
        HeldPage(5, "x", "web", "resolved"),
    ]
    spent, message = fold(held, person="carol", budget=BUDGET, now=T0 + 10 * M)
    assert message is None
    assert spent == Spent(T0 + 10 * M, 0)  # nothing sent: the new window is untouched


def test_a_fold_keeps_the_ack_reminders_of_ones_own_pages() -> None:
    # carol's reminder of page #4, which she acknowledged, was held with the budget spent.
    held = [
        HeldPage(4, "db down", "web", "acknowledged", acked_by="carol"),
        HeldPage(5, "disk full", "web", "acknowledged", acked_by="bob"),
    ]
    _, message = fold(held, person="carol", budget=BUDGET, now=T0 + 10 * M)
    assert message is not None
    assert [b.params["id"] for b in message.blocks[1:]] == [4]


def test_a_long_fold_lists_ten_pages_and_counts_the_rest() -> None:
    held = [HeldPage(n, f"queue {n}", "web", "open") for n in range(1, 1001)]
    _, message = fold(held, person="carol", budget=BUDGET, now=T0 + 10 * M)
    assert message is not None
    assert message.blocks[0].params["count"] == 1000
    assert [b.params.get("id") for b in message.blocks[1:11]] == list(range(1, 11))
    assert message.blocks[11].key == "list.more_lines"
    assert message.blocks[11].params["more"] == 990
    assert len(message.blocks) == 12
