"""/me: how Shipwatch reaches you, your roles, your teams and your next shifts."""

from __future__ import annotations

from datetime import timedelta

from commands.core.context import CommandContext
from commands.core.registry import CommandSpec, ParsedCommand
from commands.incidents import actions as incident_actions
from commands.oncall.rotations import schedule_of
from playbooks.incidents import actions as action_rules
from playbooks.messages import Message, Text, t, zoned
from playbooks.oncall.handoff import layers_of
from playbooks.oncall.rotations import Shift
from playbooks.oncall.teams import Team
from playbooks.people import APPRISE_WAYS

AHEAD = timedelta(days=28)  # how far ahead shifts are looked for
MAX_SHIFTS = 8
MAX_ACTIONS = 10


def me(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    person = ctx.actor
    known = ctx.directory.get(person.handle) is not None
    blocks: list[Text] = [
        t("whoami.known" if known else "whoami.guest", handle=person.handle, name=person.name),
        t("me.identities"),
    ]
    first = next((p for p in person.identities if p in ctx.reachable), None)
    for order, (platform, user_id) in enumerate(person.identities.items(), start=1):
        if platform == first:
            state = t("me.reached_first")
        elif platform in ctx.reachable:
            state = t("me.running")
        else:
            state = t("me.not_running")
        if platform in APPRISE_WAYS:
            # Its id names a secret (or is a URL): the way alone is said.
            blocks.append(t("me.identity_way", order=order, platform=platform, state=state))
            continue
        blocks.append(
            t("me.identity", order=order, platform=platform, user_id=user_id, state=state)
        )
    if first is None:
        blocks.append(t("me.unreachable"))
    roles = ", ".join(sorted(r.value for r in person.roles))
    blocks.append(t("me.roles", roles=roles) if roles else t("me.no_roles"))
    shifts: list[tuple[Team, Shift]] = []
    teams = 0
    for team in ctx.teams.values():
        plan = schedule_of(ctx.session, team, now=ctx.now)
        mine = [
            (team, s)
            for layer in layers_of(team)
            for s in plan.shifts(layer, ctx.now, ctx.now + AHEAD)
            if s.person == person.handle
        ]
        if mine or _part_of(team, person.handle):
            teams += 1
            blocks.append(t("me.team", team=team.name, parts=_parts(team, person.handle)))
            shifts += mine
    if not teams:
        blocks.append(t("me.no_teams"))
    else:
        blocks.append(t("me.shifts" if shifts else "me.no_shifts", days=AHEAD.days))
    for team, shift in sorted(shifts, key=lambda item: item[1].start)[:MAX_SHIFTS]:
        key = "me.shift_now" if shift.start <= ctx.now else "me.shift"
        blocks.append(
            t(
                key,
                team=team.name,
                layer=t(f"oncall.layer.{shift.layer}"),
                start=zoned(shift.start, team.tz),
                end=zoned(shift.end, team.tz),
            )
        )
    blocks += _actions(ctx)
    return Message(blocks=tuple(blocks))


def _actions(ctx: CommandContext) -> list[Text]:
    """The open follow-up actions the person owns, due soonest first."""
    mine = sorted(
        incident_actions.of_owner(ctx.session, ctx.actor.handle),
        key=lambda a: (a.due is None, a.due, a.id),
    )
    if not mine:
        return []
    today = incident_actions.today_for(ctx, ctx.actor.handle)
    return [
        t("me.actions", count=len(mine)),
        *(action_rules.line(a, today=today, with_incident=True) for a in mine[:MAX_ACTIONS]),
        *([t("list.more_lines", more=len(mine) - MAX_ACTIONS)] if len(mine) > MAX_ACTIONS else []),
    ]


def _parts(team: Team, handle: str) -> Text:
    """What the person is on the team (primary, secondary, manager…), as one text."""
    parts = [
        t(f"oncall.layer.{layer}")
        for layer in layers_of(team)
        if handle in team.rotations[layer].participants
    ]
    if team.manager == handle:
        parts.append(t("oncall.manager"))
    if any(step.value == handle for step in team.policy.steps):
        parts.append(t("me.in_escalation"))
    if not parts:
        parts.append(t("oncall.kind.override"))
    joined = parts[-1]
    for part in reversed(parts[:-1]):
        joined = t("me.and", first=part, rest=joined)
    return joined


def _part_of(team: Team, handle: str) -> bool:
    in_steps = any(step.value == handle for step in team.policy.steps)
    in_rotation = any(handle in r.participants for r in team.rotations.values())
    return in_rotation or team.manager == handle or in_steps


SPECS = (CommandSpec(family="me", verb=None, handler=me, summary="help.me.summary"),)
