"""After a maintenance window: the alert groups it held that were still firing at its end
go to the intake, and open, join or page as if they had just arrived."""

from __future__ import annotations

from commands.core.context import SystemContext
from commands.incidents import alerts as intake
from playbooks.incidents import maintenance as rules
from storage.models import Timer
from storage.repositories import maintenance as repo


def on_after(ctx: SystemContext, timer: Timer) -> None:
    row = repo.get(ctx.session, window_id=int(timer.payload["window"]))
    if row is None:
        return
    for n in rules.still_firing(row.held_groups):
        intake.on_notification(ctx, n)


TIMER_HANDLERS = {rules.AFTER_KIND: on_after}
