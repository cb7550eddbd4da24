"""/oncall: who is on call, the coming shifts, overrides and swaps."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from sqlalchemy import Engine
from sqlmodel import Session

from commands.core.context import CommandContext, SystemContext
from commands.core.grammar import Integer, Mention, Word, parse_time
from commands.core.named import person_named
from commands.core.registry import Arg, Flag, ParsedCommand, verb_of
from playbooks.effects import Conversation, Post
from playbooks.errors import NotFound, UsageError
from playbooks.messages import Message, MessageField, Text, raw, t, zoned
from playbooks.oncall import handoff
from playbooks.oncall.rotations import (
    LAYERS,
    Change,
    ChangeKind,
    Rotation,
    Schedule,
    Shift,
    Version,
)
from playbooks.oncall.teams import Team
from playbooks.people import Role
from storage.models import OncallChange, RotationVersion
from storage.repositories import oncall as repo
from storage.unit_of_work import unit_of_work

HORIZON = timedelta(days=90)  # how far ahead a shift's end is looked for
MAX_DAYS = 31


def team_named(ctx: CommandContext | SystemContext, name: str | None) -> Team:
    """The team of that name; with no name, the only team there is."""
    if name is None:
        if len(ctx.teams) == 1:
            return next(iter(ctx.teams.values()))
        known = ", ".join(sorted(ctx.teams)) or "-"
        raise UsageError(t("oncall.which_team", known=known))
    team = ctx.teams.get(name.lower())
    if team is None:
        known = ", ".join(sorted(ctx.teams)) or "-"
        raise NotFound(t("oncall.unknown_team", value=name, known=known))
    return team


def schedule_of(session: Session, team: Team, *, now: datetime) -> Schedule:
    """The team's layers (every stored version, else the configured rotation) and the
    overrides and swaps that still matter."""
    stored = repo.versions(session, team=team.name)
    layers: dict[str, list[Version]] = {}
    for layer, rotation in team.rotations.items():
        versions = [
            Version(row.since, Rotation.from_json(row.spec, team.tz))
            for row in stored
            if row.layer == layer
        ]
        layers[layer] = versions or [Version(rotation.start, rotation)]
    changes = tuple(
        Change(
            id=row.id or 0,
            kind=ChangeKind(row.kind),
            start=row.starts_at,
            end=row.ends_at,
            person=row.person,
            other=row.other,
            layer=row.layer,
        )
        for row in repo.changes(session, team=team.name, ending_after=now - HORIZON)
    )
    return Schedule(team.name, team.tz, layers, changes)


def sync_rotations(engine: Engine, teams: dict[str, Team] | None, *, now: datetime) -> int:
    """Record each layer's configured rotation as a new version when it differs from the
    stored one: an edit takes effect from now and never rewrites past shifts. Returns the
    number of versions written."""
    written = 0
    with unit_of_work(engine) as session:
        for team in (teams or {}).values():
            stored = repo.versions(session, team=team.name)
            for layer, rotation in team.rotations.items():
                mine = [row for row in stored if row.layer == layer]
                if mine and mine[-1].spec == rotation.to_json():
                    continue
                # The first version counts from its own start; an edit from now, or from
                # its start if later, so the old rotation runs until the new one begins.
                since = max(now, rotation.start) if mine else min(rotation.start, now)
                repo.add_version(
                    session,
                    RotationVersion(
                        team=team.name, layer=layer, spec=rotation.to_json(), since=since
                    ),
                )
                written += 1
    return written


def coming_shifts(
    engine: Engine, team: Team, *, now: datetime, since: datetime, until: datetime
) -> dict[str, list[Shift]]:
    """Each layer's shifts over [since, until), overrides and swaps applied (the calendar)."""
    with unit_of_work(engine) as session:
        plan = schedule_of(session, team, now=now)
        return {layer: plan.shifts(layer, since, until) for layer in _layers(team)}


def _shift_line(shift: Shift, tz: tzinfo) -> Text:
    who = f"@{shift.person}" if shift.person else "-"
    start, end = zoned(shift.start, tz), zoned(shift.end, tz)
    if shift.change is not None:
        return t(
            "oncall.shift_changed",
            person=who,
            start=start,
            end=end,
            kind=t(f"oncall.kind.{shift.change.kind}"),
        )
    return t("oncall.shift", person=who, start=start, end=end)


def who(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    team = team_named(ctx, cmd.args["team"])
    schedule = schedule_of(ctx.session, team, now=ctx.now)
    fields = []
    for layer in _layers(team):
        shift = schedule.current(layer, ctx.now, horizon=HORIZON)
        value = (
            t("oncall.nobody")
            if shift.person is None
            else t("oncall.until", person=shift.person, end=zoned(shift.end, team.tz))
        )
        if shift.change is not None:
            value = t(
                "oncall.until_changed",
                person=shift.person,
                end=zoned(shift.end, team.tz),
                kind=t(f"oncall.kind.{shift.change.kind}"),
            )
        fields.append(MessageField(t(f"oncall.layer.{layer}"), value))
    if team.manager:
        fields.append(MessageField(t("oncall.manager"), raw(f"@{team.manager}")))
    return Message(blocks=(t("oncall.who_header", team=team.name),), fields=tuple(fields))


def schedule(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    team = team_named(ctx, cmd.args["team"])
    days = cmd.flags["days"] or 7
    plan = schedule_of(ctx.session, team, now=ctx.now)
    end = ctx.now + timedelta(days=days)
    blocks: list[Text] = [t("oncall.schedule_header", team=team.name, days=days)]
    for layer in _layers(team):
        blocks.append(t(f"oncall.layer.{layer}"))
        blocks += [_shift_line(s, team.tz) for s in plan.shifts(layer, ctx.now, end)]
    return Message(blocks=tuple(blocks))


def _layers(team: Team) -> list[str]:
    return [layer for layer in LAYERS if layer in team.rotations]


def _local(word: str, team: Team) -> datetime:
    """A time as written, read in the team's timezone when it names no offset."""
    return parse_time(word, team.tz)


def override(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    team = team_named(ctx, cmd.args["team"])
    person = person_named(ctx, cmd.args["person"])
    start, end = _local(cmd.args["start"], team), _local(cmd.args["end"], team)
    layer: str = (cmd.flags["layer"] or "primary").lower()
    if layer not in team.rotations:
        raise UsageError(
            t("oncall.unknown_layer", value=layer, valid=", ".join(_layers(team))),
            usage=cmd.spec.usage(),
        )
    if end <= start:
        raise UsageError(
            t("oncall.ends_before_start", start=zoned(start, team.tz), end=zoned(end, team.tz))
        )
    if end <= ctx.now:
        raise UsageError(t("oncall.in_the_past", end=zoned(end, team.tz)))
    start = max(start, ctx.now)
    row = repo.add_change(
        ctx.session,
        OncallChange(
            team=team.name,
            kind=ChangeKind.OVERRIDE.value,
            layer=layer,
            person=person.handle,
            starts_at=start,
            ends_at=end,
            created_by=ctx.actor.handle,
            created_at=ctx.now,
        ),
    )
    text = t(
        "oncall.overridden",
        id=row.id,
        team=team.name,
        layer=t(f"oncall.layer.{layer}"),
        person=person.handle,
        start=zoned(start, team.tz),
        end=zoned(end, team.tz),
        actor=ctx.actor.handle,
    )
    _tell_team(ctx, team, text)
    ctx.audit_detail = f"override {team.name} {layer} @{person.handle} {start:%Y-%m-%dT%H:%M%z}"
    return Message.of(text)


def swap(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    team = team_named(ctx, cmd.args["team"])
    first = person_named(ctx, cmd.args["first"])
    second = person_named(ctx, cmd.args["second"])
    if first.handle == second.handle:
        raise UsageError(t("oncall.swap_self"), usage=cmd.spec.usage())
    day = _local(cmd.args["day"], team)
    start = day.replace(hour=0, minute=0, second=0, microsecond=0)
    end = (start.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=team.tz)
    if end <= ctx.now:
        raise UsageError(t("oncall.in_the_past", end=zoned(end, team.tz)))
    participants = schedule_of(ctx.session, team, now=ctx.now).participants(start)
    for person in (first, second):
        if person.handle not in participants:
            raise UsageError(
                t(
                    "oncall.not_in_rotation",
                    person=person.handle,
                    team=team.name,
                    participants=", ".join(f"@{p}" for p in sorted(participants)),
                )
            )
    row = repo.add_change(
        ctx.session,
        OncallChange(
            team=team.name,
            kind=ChangeKind.SWAP.value,
            person=first.handle,
            other=second.handle,
            starts_at=start,
            ends_at=end,
            created_by=ctx.actor.handle,
            created_at=ctx.now,
        ),
    )
    text = t(
        "oncall.swapped",
        id=row.id,
        team=team.name,
        first=first.handle,
        second=second.handle,
        start=zoned(start, team.tz),
        end=zoned(end, team.tz),
        actor=ctx.actor.handle,
    )
    _tell_team(ctx, team, text)
    ctx.audit_detail = f"swap {team.name} @{first.handle} @{second.handle} {start:%Y-%m-%d}"
    return Message.of(text)


def _tell_team(ctx: CommandContext, team: Team, text: Text) -> None:
    """Post the change to the team channel and move the team's next handoff to it."""
    arm = handoff.arm_next(schedule_of(ctx.session, team, now=ctx.now), team, after=ctx.now)
    if arm is not None:
        ctx.effects.append(arm)
    if team.channel:
        channel = Conversation.parse(team.channel, default_platform=ctx.channels_platform)
        if channel != ctx.conversation:
            ctx.effects.append(Post(channel, Message.of(text)))


_spec = verb_of("oncall", default_role=Role.RESPONDER, changes_state=True)
_TEAM = Arg("team", Word(metavar="TEAM"), required=False)

SPECS = (
    _spec("who", who, args=(_TEAM,), role=None, changes_state=False),
    _spec(
        "schedule",
        schedule,
        args=(_TEAM,),
        flags=(Flag("days", Integer(metavar="DAYS", maximum=MAX_DAYS)),),
        role=None,
        changes_state=False,
    ),
    _spec(
        "override",
        override,
        args=(
            Arg("team", Word(metavar="TEAM")),
            Arg("person", Mention()),
            Arg("start", Word(metavar="START")),
            Arg("end", Word(metavar="END")),
        ),
        flags=(Flag("layer", Word(metavar="|".join(LAYERS))),),
    ),
    _spec(
        "swap",
        swap,
        args=(
            Arg("team", Word(metavar="TEAM")),
            Arg("first", Mention()),
            Arg("second", Mention()),
            Arg("day", Word(metavar="DATE")),
        ),
    ),
)
