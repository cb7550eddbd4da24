"""Each person's page budget applied to a page's notifications; the fold at a window's end."""

from __future__ import annotations

from commands.core.context import CommandContext, SystemContext
from playbooks.effects import DirectMessage, Effect
from playbooks.oncall import budget as page_budget
from playbooks.oncall.budget import Budget, HeldPage, Spent
from playbooks.oncall.paging import Event, Result
from playbooks.oncall.teams import Team
from storage.models import PageBudgetRow, Timer
from storage.repositories import page_budgets as repo
from storage.repositories import pages as page_repo

Context = CommandContext | SystemContext


def _spent(row: PageBudgetRow | None) -> Spent | None:
    if row is None:
        return None
    return Spent(row.window_start, row.sent, tuple(row.held))


def _store(ctx: Context, row: PageBudgetRow | None, person: str, spent: Spent) -> None:
    row = row or PageBudgetRow(person=person, window_start=spent.window_start)
    row.window_start, row.sent, row.held = spent.window_start, spent.sent, list(spent.held)
    repo.put(ctx.session, row)


def throttle(ctx: Context, team: Team | None, result: Result) -> Result:
    """Hold the direct messages that spend the page budget (a page's notifications, its
    ack reminders: ``DirectMessage.spends_page_budget``) of anyone over budget; they are
    folded later."""
    budget = team.page_budget if team is not None else Budget()
    kept: list[Effect] = []
    for effect in result.effects:
        if not (isinstance(effect, DirectMessage) and effect.spends_page_budget):
            kept.append(effect)
            continue
        row, created = repo.lock(ctx.session, person=effect.person, now=ctx.now)
        admission = page_budget.admit(
            None if created else _spent(row),
            person=effect.person,
            page_id=result.page.id,
            budget=budget,
            now=ctx.now,
        )
        _store(ctx, row, effect.person, admission.spent)
        if admission.admitted:
            kept.append(effect)
            continue
        result.events.append(Event(ctx.now, "held", effect.person))
        if admission.arm is not None:
            kept.append(admission.arm)
    result.effects = kept
    return result


def on_fold(ctx: SystemContext, timer: Timer) -> None:
    person = str(timer.payload["person"])
    row = repo.get(ctx.session, person=person)
    if row is None or not row.held:
        return
    held = []
    for page_id in row.held:
        page = page_repo.get(ctx.session, page_id=page_id)
        if page is not None:
            held.append(
                HeldPage(page_id, page.title, page.team, page.state, page.severity, page.acked_by)
            )
    team = ctx.teams.get(held[0].team or "") if held else None
    budget = team.page_budget if team is not None else Budget()
    spent, message = page_budget.fold(held, person=person, budget=budget, now=ctx.now)
    _store(ctx, row, person, spent)
    if message is not None:
        ctx.effects.append(DirectMessage(person, message))


TIMER_HANDLERS = {page_budget.KIND: on_fold}
