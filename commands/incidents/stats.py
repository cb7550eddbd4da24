"""/incident stats: response figures over a window, read from the database; the weekly
report reads the same."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from commands.core.context import CommandContext, SystemContext
from commands.core.grammar import Duration, Word
from commands.core.registry import Flag, ParsedCommand, verb_of
from commands.incidents.rows import to_view
from commands.releases.lifecycle import service_named
from playbooks.incidents import stats as rules
from playbooks.incidents.stats import AlertGroupSeen, Figures
from playbooks.messages import Message
from storage.repositories import incident_stats as repo

DEFAULT_SINCE = timedelta(days=30)


def figures(
    ctx: CommandContext | SystemContext,
    *,
    since: datetime,
    until: datetime,
    services: Sequence[str] = (),
) -> Figures:
    """The figures of incidents opened in [since, until], of ``services`` (every one when
    empty)."""
    service = services[0] if len(services) == 1 else None
    rows = [
        row
        for row in repo.incidents_opened(ctx.session, since=since, until=until, service=service)
        if not services or row.service in services
    ]
    ids = [row.id for row in rows if row.id is not None]
    groups = [
        AlertGroupSeen(
            key=g.group_key, service=g.service, incident_id=g.incident_id, firing=g.firing
        )
        for g in repo.alert_groups_of(ctx.session, incident_ids=ids)
    ]
    return rules.compute(
        [to_view(row) for row in rows],
        paged=repo.pages_created(ctx.session, since=since, until=until),
        groups=groups,
        since=since,
        until=until,
        service=",".join(services) or None,
    )


def stats(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    window: timedelta = cmd.flags["since"] or DEFAULT_SINCE
    services: tuple[str, ...] = ()
    if cmd.flags["service"] is not None:
        services = (service_named(ctx, cmd.flags["service"]).name,)
    return rules.message(figures(ctx, since=ctx.now - window, until=ctx.now, services=services))


_spec = verb_of("incident")

SPECS = (
    _spec(
        "stats",
        stats,
        flags=(Flag("since", Duration()), Flag("service", Word(metavar="SERVICE"))),
    ),
)
