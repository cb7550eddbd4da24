"""A per-person page budget: at most ``count`` page notifications and ack reminders per
``window``. Pure.

Past the budget a notification is held, never dropped: when the window ends every held
page still unresolved is folded into one notification with a count and the list, which
opens the next window as its first notification.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from playbooks.effects import ArmTimer
from playbooks.lists import capped
from playbooks.messages import Button, ButtonStyle, Message, Severity, Text, t

KIND = "page.budget"
DEFAULT_COUNT = 5
DEFAULT_WINDOW = timedelta(minutes=10)
MAX_BUTTONS = 5  # acknowledge buttons on a folded notification: the first few still open


@dataclass(frozen=True, slots=True)
class Budget:
    count: int = DEFAULT_COUNT
    window: timedelta = DEFAULT_WINDOW


@dataclass(frozen=True, slots=True)
class Spent:
    """One person's window: when it opened, notifications sent in it, pages held."""

    window_start: datetime
    sent: int = 0
    held: tuple[int, ...] = ()


def key(person: str) -> str:
    return f"budget:{person}"


@dataclass(frozen=True, slots=True)
class Admission:
    spent: Spent
    admitted: bool
    arm: ArmTimer | None = None  # the fold at the window's end, when the first is held


def admit(
    spent: Spent | None, *, person: str, page_id: int, budget: Budget, now: datetime
) -> Admission:
    """Send this page's notification now, or hold it for the fold."""
    if spent is None or (now >= spent.window_start + budget.window and not spent.held):
        return Admission(Spent(now, 1), admitted=True)
    if spent.sent < budget.count and not spent.held:
        return Admission(replace(spent, sent=spent.sent + 1), admitted=True)
    if page_id in spent.held:
        return Admission(spent, admitted=False)
    held = Spent(spent.window_start, spent.sent, (*spent.held, page_id))
    arm = None
    if not spent.held:
        ends = max(spent.window_start + budget.window, now)
        arm = ArmTimer(key(person), KIND, ends, {"person": person})
    return Admission(held, admitted=False, arm=arm)


@dataclass(frozen=True, slots=True)
class HeldPage:
    id: int
    title: str
    team: str | None
    state: str
    severity: str | None = None
    acked_by: str | None = None


def fold(
    held: Sequence[HeldPage], *, person: str, budget: Budget, now: datetime
) -> tuple[Spent, Message | None]:
    """The one notification for what is held and still news to ``person``: pages still
    open, and the pages they acknowledged themselves whose ack reminders were held (a page
    resolved meanwhile, or one someone else acknowledged, asks nothing more of them); the
    next window opens with it."""
    held = [
        p for p in held if p.state == "open" or (p.state == "acknowledged" and p.acked_by == person)
    ]
    if not held:
        return Spent(now, 0), None
    shown, rest = capped(held)
    lines: list[Text] = [
        t("budget.folded", count=len(held), limit=budget.count, window=budget.window)
    ]
    lines += [
        t(
            "budget.line",
            id=p.id,
            severity=f"{p.severity} " if p.severity else "",
            title=p.title,
            team=p.team or "-",
            state=t(f"page.state.{p.state}"),
        )
        for p in shown
    ]
    if rest is not None:
        lines.append(rest)
    buttons = tuple(
        Button(t("budget.ack", id=p.id), f"/ack {p.id}", ButtonStyle.PRIMARY) for p in shown
    )[:MAX_BUTTONS]
    message = Message(blocks=tuple(lines), buttons=buttons, severity=Severity.DANGER)
    return Spent(now, 1), message
