"""Declared commands and the parser that turns a line into one of them.

A command is declared once (family, verb, arguments, flags, the role it needs,
its help in both languages through catalog keys) and everything else, the
parser, ``/help`` and authorization, is derived from the declaration.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from commands.core.grammar import ParseContext, Token, ValueType, tokenize
from commands.core.untrusted import shown
from playbooks.errors import UsageError
from playbooks.messages import Message, Text, t
from playbooks.people import Role

if TYPE_CHECKING:
    from commands.core.context import CommandContext

MAX_LINE = 4000
MAX_FAMILY_USAGE = 240
_TEXT_METAVARS = frozenset({"TEXT", "TITLE", "WORD"})  # arguments that take free text

Handler = Callable[["CommandContext", "ParsedCommand"], Message]


@dataclass(frozen=True, slots=True)
class Arg:
    name: str
    kind: ValueType
    required: bool = True
    rest: bool = False  # takes every remaining word, joined by spaces

    def usage(self) -> str:
        metavar = f"<{self.name}…>" if self.rest else f"<{self.name}>"
        return metavar if self.required else f"[{metavar}]"


@dataclass(frozen=True, slots=True)
class Flag:
    name: str
    kind: ValueType | None = None  # None: a switch that takes no value
    default: Any = None
    # Shown without brackets in the usage. The handler refuses its absence, in words
    # that say why it is needed (a rollback's reason goes into the audit log).
    required: bool = False

    def usage(self) -> str:
        shown = f"--{self.name}" if self.kind is None else f"--{self.name} {self.kind.metavar}"
        return shown if self.required else f"[{shown}]"


@dataclass(frozen=True, slots=True)
class CommandSpec:
    family: str
    verb: str | None
    handler: Handler
    summary: str  # catalog key of the one-line help
    args: tuple[Arg, ...] = ()
    flags: tuple[Flag, ...] = ()
    role: Role | None = None
    changes_state: bool = False

    @property
    def name(self) -> str:
        return f"{self.family} {self.verb}" if self.verb else self.family

    def usage(self) -> str:
        parts = [f"/{self.name}", *(a.usage() for a in self.args), *(f.usage() for f in self.flags)]
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    spec: CommandSpec
    args: Mapping[str, Any] = field(default_factory=dict)
    flags: Mapping[str, Any] = field(default_factory=dict)
    text: str = ""


class CommandTable:
    """Every declared command, by family and verb."""

    def __init__(self, specs: Iterable[CommandSpec]) -> None:
        self._families: dict[str, dict[str | None, CommandSpec]] = {}
        for spec in specs:
            verbs = self._families.setdefault(spec.family, {})
            if spec.verb in verbs:
                raise ValueError(f"command /{spec.name} declared twice")
            verbs[spec.verb] = spec

    @property
    def families(self) -> list[str]:
        return sorted(self._families)

    def specs(self, family: str | None = None) -> list[CommandSpec]:
        names = [family] if family else self.families
        return [spec for name in names for spec in self._families.get(name, {}).values()]

    def parse(self, line: str, ctx: ParseContext) -> ParsedCommand:
        """Read ``line`` into a command; anything wrong is a ``UsageError`` that says what."""
        text = line.strip()
        if len(text) > MAX_LINE:
            raise UsageError(t("grammar.too_long", length=len(text), limit=MAX_LINE))
        if not text.startswith("/"):
            raise UsageError(t("grammar.not_a_command"))
        if "\x00" in text:
            # No database keeps one (PostgreSQL refuses it outright): said here, before
            # anything is written.
            raise UsageError(t("grammar.nul_character"))
        tokens = tokenize(text)
        family = tokens[0].text[1:].split("@", 1)[0].lower() if tokens else ""
        verbs = self._families.get(family)
        if verbs is None:
            raise UsageError(did_you_mean("grammar.unknown_command", family, self.families))
        spec, rest = self._pick_verb(family, verbs, tokens[1:])
        return _bind(spec, rest, ctx, text)

    def _pick_verb(
        self, family: str, verbs: Mapping[str | None, CommandSpec], tokens: list[Token]
    ) -> tuple[CommandSpec, list[Token]]:
        first = tokens[0] if tokens else None
        if first is not None and not first.quoted and first.text.lower() in verbs:
            return verbs[first.text.lower()], tokens[1:]
        default = verbs.get(None)
        takes_positionals = default is not None and bool(default.args)
        named_verbs = sorted(v for v in verbs if v)
        starts_with_word = first is not None and not first.quoted and not first.text.startswith("-")
        if default is not None and (takes_positionals or not starts_with_word):
            return default, tokens
        if not named_verbs and first is not None:
            # A command of one form with nothing to take (/me): no list of verbs to offer.
            usage = " | ".join(spec.usage() for spec in verbs.values())
            raise UsageError(
                t("grammar.takes_nothing", family=family, value=shown(first.text)), usage=usage
            )
        if first is None or not starts_with_word:
            raise UsageError(
                t("grammar.missing_verb", family=family, verbs=", ".join(named_verbs)),
                usage=_family_usage(verbs),
            )
        refusal = did_you_mean("grammar.unknown_verb", first.text, named_verbs, family=family)
        guess = refusal.params.get("suggestion")
        raise UsageError(
            refusal, usage=verbs[str(guess)].usage() if guess else _family_usage(verbs)
        )


def _family_usage(verbs: Mapping[str | None, CommandSpec]) -> str | None:
    """Every verb's usage when that is short; a big family's would be a wall of text
    (its verbs are named in the refusal, and /help FAMILY explains them)."""
    usage = " | ".join(spec.usage() for spec in verbs.values())
    return usage if len(usage) <= MAX_FAMILY_USAGE else None


def did_you_mean(key: str, word: str, known: list[str], **extra: Any) -> Text:
    """``key.suggest`` naming the closest known word, or ``key`` listing them all."""
    guesses = difflib.get_close_matches(word.lower(), known, n=1, cutoff=0.6)
    if guesses:
        return t(f"{key}.suggest", value=shown(word), suggestion=guesses[0], **extra)
    return t(key, value=shown(word), known=", ".join(known), **extra)


def _bind(spec: CommandSpec, tokens: list[Token], ctx: ParseContext, text: str) -> ParsedCommand:
    flags_by_name = {flag.name: flag for flag in spec.flags}
    positionals: list[Token] = []
    flags: dict[str, Any] = {}
    usage = spec.usage()
    i = 0
    only_positionals = False
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if only_positionals or token.quoted or not token.text.startswith("--"):
            positionals.append(token)
            continue
        if token.text == "--":
            only_positionals = True
            continue
        name, has_value, inline_value = token.text[2:].partition("=")
        flag = flags_by_name.get(name.lower())
        if flag is None and not flags_by_name:
            raise UsageError(
                t("grammar.no_flags", command=f"/{spec.name}", value=shown(f"--{name}")),
                usage=usage,
            )
        if flag is None:
            raise UsageError(
                did_you_mean(
                    "grammar.unknown_flag", f"--{name}", [f"--{f}" for f in flags_by_name]
                ),
                usage=usage,
            )
        if flag.name in flags:
            raise UsageError(t("grammar.repeated_flag", flag=f"--{flag.name}"), usage=usage)
        if flag.kind is None:
            if has_value:
                raise UsageError(t("grammar.switch_value", flag=f"--{flag.name}"), usage=usage)
            flags[flag.name] = True
            continue
        if has_value:
            raw_value = inline_value
        elif i < len(tokens) and (tokens[i].quoted or not tokens[i].text.startswith("--")):
            raw_value = tokens[i].text
            i += 1
        else:
            raise UsageError(
                t("grammar.flag_needs_value", flag=f"--{flag.name}", metavar=flag.kind.metavar),
                usage=usage,
            )
        flags[flag.name] = _convert(flag.kind, raw_value, ctx, usage)
    for flag in spec.flags:
        flags.setdefault(flag.name, flag.default if flag.kind is not None else False)
    return ParsedCommand(spec, _bind_positionals(spec, positionals, ctx, usage), flags, text)


def _bind_positionals(
    spec: CommandSpec, tokens: list[Token], ctx: ParseContext, usage: str
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    remaining = list(tokens)
    for arg in spec.args:
        if not remaining:
            if arg.required:
                raise UsageError(t("grammar.missing_arg", arg=arg.name), usage=usage)
            values[arg.name] = None
            continue
        if arg.rest:
            words, remaining = [tok.text for tok in remaining], []
            values[arg.name] = _convert(arg.kind, " ".join(words), ctx, usage)
        else:
            values[arg.name] = _convert(arg.kind, remaining.pop(0).text, ctx, usage)
    if remaining:
        extra = shown(" ".join(tok.text for tok in remaining))
        # Only where free text is taken could the extra words be meant as part of it.
        takes_text = any(arg.kind.metavar in _TEXT_METAVARS for arg in spec.args)
        key = "grammar.extra_args" if takes_text else "grammar.extra_args_plain"
        raise UsageError(t(key, extra=extra, command=f"/{spec.name}"), usage=usage)
    return values


def _convert(kind: ValueType, word: str, ctx: ParseContext, usage: str) -> Any:
    try:
        return kind.parse(word, ctx)
    except UsageError as error:
        raise UsageError(error.text, usage=usage) from None


def verb_of(
    family: str, *, default_role: Role | None = None, changes_state: bool = False
) -> Callable[..., CommandSpec]:
    """A declaration helper for one family: ``spec("start", start, args=…)`` with the help
    key ``help.FAMILY.VERB.summary`` and the family's usual role."""

    def spec(
        verb: str,
        handler: Handler,
        *,
        args: tuple[Arg, ...] = (),
        flags: tuple[Flag, ...] = (),
        role: Role | None = default_role,
        changes_state: bool = changes_state,
    ) -> CommandSpec:
        return CommandSpec(
            family=family,
            verb=verb,
            handler=handler,
            summary=f"help.{family}.{verb}.summary",
            args=args,
            flags=flags,
            role=role,
            changes_state=changes_state,
        )

    return spec
