"""/help and /whoami: generated from the command declarations and the directory."""

from __future__ import annotations

from commands.core.context import CommandContext
from commands.core.grammar import Word
from commands.core.registry import Arg, CommandSpec, ParsedCommand, did_you_mean
from playbooks.errors import NotFound
from playbooks.messages import Message, MessageField, Text, raw, t


def show_help(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    topic = cmd.args.get("topic")
    if topic is None:
        lines = [t("help.intro")]
        for family in dict.fromkeys(spec.family for spec in ctx.table.specs()):
            lines += _overview(list(ctx.table.specs(family)))
        lines.append(t("help.more"))
        return Message(blocks=tuple(lines))
    family = str(topic).lstrip("/").lower()
    if family not in ctx.table.families:
        raise NotFound(did_you_mean("help.unknown_topic", family, ctx.table.families))
    lines = [t("help.topic", family=family)]
    for spec in ctx.table.specs(family):
        lines.append(_line(spec))
        if spec.role is not None:
            lines.append(t("help.needs_role", role=spec.role.value))
    return Message(blocks=tuple(lines))


# A family with more verbs than this is one line in /help, its verbs listed: the whole list
# of usages would be longer than a chat message holds (DingTalk cuts it).
FULL_UP_TO = 3


def _overview(specs: list[CommandSpec]) -> list[Text]:
    if len(specs) <= FULL_UP_TO:
        return [_line(spec) for spec in specs]
    verbs = "|".join(spec.verb or "" for spec in specs)
    return [t("help.family", family=specs[0].family, verbs=raw(verbs))]


def _line(spec: CommandSpec) -> Text:
    return t("help.line", usage=spec.usage(), summary=t(spec.summary))


def whoami(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    person = ctx.actor
    known = ctx.directory.get(person.handle) is not None
    roles = ", ".join(sorted(r.value for r in person.roles)) if person.roles else None
    identities = ", ".join(f"{p}:{uid}" for p, uid in person.identities.items())
    return Message(
        blocks=(
            t("whoami.known" if known else "whoami.guest", handle=person.handle, name=person.name),
        ),
        fields=(
            MessageField(t("whoami.roles"), raw(roles) if roles else t("whoami.no_roles")),
            MessageField(t("whoami.identities"), raw(identities)),
            MessageField(t("whoami.here"), raw(str(ctx.conversation))),
        ),
    )


SPECS = (
    CommandSpec(
        family="help",
        verb=None,
        handler=show_help,
        summary="help.help.summary",
        args=(Arg("topic", Word(), required=False),),
    ),
    CommandSpec(family="whoami", verb=None, handler=whoami, summary="help.whoami.summary"),
)
