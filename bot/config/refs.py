"""The references between config files: a service's team, a step's owner, a channel.

Each file on its own may be well formed and still name a team, a person or a platform
that does not exist; such a name pages nobody or posts nowhere. These checks read what
the files say (their YAML, valid or not) so they run whatever else is wrong, and leave
values of the wrong type to the file's own validation.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.config.procedures import NOTIFY, OWNER
from bot.config.releases import plan_files
from playbooks.messages import Text, raw, t
from playbooks.people import WAYS

PLATFORMS = WAYS
Found = tuple[Path, tuple[Any, ...], Text]


@dataclass(frozen=True, slots=True)
class References:
    """The names the files give, each a thing another file may name; ``None`` where the
    file that gives them is past reading, so nothing is checked against it."""

    handles: set[str] | None
    roles: frozenset[str]
    duties: set[str] | None
    teams: set[str] | None
    services: set[str] | None
    shipped: Path  # the folder of the shipped files


def reference_problems(
    config_dir: Path | None, sources: Mapping[str, Path], refs: References
) -> list[Found]:
    """Every name in the config that names nothing, as (file, location, sentence)."""
    found: list[Found] = []
    for name, check in (
        ("people.yaml", _people),
        ("services.yaml", _services),
        ("teams.yaml", _teams),
        ("severity.yaml", _severity),
        ("alerts.yaml", _alerts),
        ("summaries.yaml", _summaries),
        ("playbooks.yaml", _playbooks),
        ("heartbeats.yaml", _heartbeats),
        ("status.yaml", _status),
    ):
        path = sources[name]
        data = _data(path)
        if isinstance(data, dict):
            found += [(path, loc, problem) for loc, problem in check(data, path, refs)]
    if config_dir is not None and (config_dir / "channels.yaml").is_file():
        path = config_dir / "channels.yaml"
        data = _data(path)
        if isinstance(data, dict):
            found += [(path, (str(p),), problem) for p in data for problem in _platform(str(p))]
    return found + plan_references(list(plan_files(config_dir, refs.shipped).values()), refs)


def _platform(name: str) -> list[Text]:
    if name in PLATFORMS:
        return []
    return [
        t(
            "config.unknown_platform",
            platform=repr(name),
            known=", ".join(PLATFORMS),
            hint=_suggest(name, PLATFORMS),
        )
    ]


def plan_references(paths: list[Path], refs: References) -> list[Found]:
    """The owners a plan's runbook, rollback runbook and decision name."""
    found: list[Found] = []
    for path in paths:
        data = _data(path)
        if not isinstance(data, dict) or _shipped(path, refs):
            continue
        items: list[tuple[tuple[Any, ...], Any]] = [
            (("decision", i), w) for i, w in _items(data.get("decision"))
        ]
        items += [
            (("runbook", i, "owner"), step.get("owner"))
            for i, step in _items(data.get("runbook"))
            if isinstance(step, dict)
        ]
        rollback = data.get("rollback_runbook")
        if isinstance(rollback, dict):
            items += [
                (("rollback_runbook", "steps", i, "owner"), step.get("owner"))
                for i, step in _items(rollback.get("steps"))
                if isinstance(step, dict)
            ]
        found += [(path, loc, p) for loc, word in items for p in _owner(word, refs)]
    return found


def _data(path: Path) -> Any:
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the same data, faster
        return yaml.load(path.read_text("utf-8"), Loader=loader)  # noqa: S506
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError):
        # already reported by the file's own reading (ValueError: a day that is no day)
        return None


def _items(value: Any) -> Iterator[tuple[int, Any]]:
    return enumerate(value) if isinstance(value, list) else iter(())


def _entries(value: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(value, dict):
        for name, entry in value.items():
            if isinstance(entry, dict):
                yield str(name), entry


def _shipped(path: Path, refs: References) -> bool:
    """The shipped files name each other's examples (and a shipped plan's duty need not be
    one of your roles.yaml); they are checked against each other by the tests."""
    return path.is_relative_to(refs.shipped)


def _suggest(word: str, known: Iterable[str]) -> Text:
    close = difflib.get_close_matches(word, sorted(known), n=1, cutoff=0.6)
    return t("config.did_you_mean", name=close[0]) if close else raw("")


def _people(data: dict[str, Any], path: Path, refs: References) -> Iterator[tuple[Any, Text]]:
    for index, person in _items(data.get("people")):
        if not isinstance(person, dict) or not isinstance(person.get("identities"), dict):
            continue
        for platform in person["identities"]:
            for problem in _platform(str(platform)):
                yield ("people", index, "identities", str(platform)), problem


def _services(data: dict[str, Any], path: Path, refs: References) -> Iterator[tuple[Any, Text]]:
    for name, service in _entries(data.get("services")):
        team = service.get("team")
        shipped = _shipped(path, refs)
        if (
            refs.teams is not None
            and isinstance(team, str)
            and team not in refs.teams
            and not shipped
        ):
            known = ", ".join(sorted(refs.teams)) or t("config.none")
            yield (
                ("services", name, "team"),
                t("config.no_team", team=repr(team), known=known, hint=_suggest(team, refs.teams)),
            )
        for key in ("release_channel", "incident_channel"):
            yield from _channel(service, key, ("services", name, key), path)


def _teams(data: dict[str, Any], path: Path, refs: References) -> Iterator[tuple[Any, Text]]:
    for name, team in _entries(data.get("teams")):
        yield from _channel(team, "channel", ("teams", name, "channel"), path)


def _severity(data: dict[str, Any], path: Path, refs: References) -> Iterator[tuple[Any, Text]]:
    yield from _channel(data, "tech_channel", ("tech_channel",), path)
    audiences = data.get("audiences")
    if isinstance(audiences, dict):
        for item in ("management", "public"):
            for index, entry in _items(audiences.get(item)):
                if isinstance(entry, str) and not entry.startswith("@"):
                    yield from _address(entry, ("audiences", item, index))


def _alerts(data: dict[str, Any], path: Path, refs: References) -> Iterator[tuple[Any, Text]]:
    yield from _channel(data, "channel", ("channel",), path)


def _summaries(data: dict[str, Any], path: Path, refs: References) -> Iterator[tuple[Any, Text]]:
    for index, entry in _items(data.get("subscriptions")):
        if not isinstance(entry, dict):
            continue
        yield from _channel(entry, "channel", ("subscriptions", index, "channel"), path)
        for i, service in _items(entry.get("services")):
            if refs.services is None:
                break
            if isinstance(service, str) and service not in refs.services:
                known = ", ".join(sorted(refs.services)) or t("config.none")
                yield (
                    ("subscriptions", index, "services", i),
                    t("config.no_service", service=repr(service), known=known),
                )
    notes = data.get("notes")
    if isinstance(notes, dict) and not _shipped(path, refs):
        for index, who in _items(notes.get("ask")):
            if isinstance(who, str) and who.startswith("@"):
                yield from _person(who[1:], ("notes", "ask", index), refs)
            elif isinstance(who, str):
                yield from _address(who, ("notes", "ask", index))


def _heartbeats(data: dict[str, Any], path: Path, refs: References) -> Iterator[tuple[Any, Text]]:
    for index, entry in _items(data.get("heartbeats")):
        service = entry.get("service") if isinstance(entry, dict) else None
        if refs.services is None:
            break
        if isinstance(service, str) and service not in refs.services:
            known = ", ".join(sorted(refs.services)) or t("config.none")
            yield (
                ("heartbeats", index, "service"),
                t("config.no_service", service=repr(service), known=known),
            )


def _status(data: dict[str, Any], path: Path, refs: References) -> Iterator[tuple[Any, Text]]:
    """Each public component is a service of services.yaml, listed once; so is each
    service under maintenance."""
    if _shipped(path, refs) or refs.services is None:
        return
    known = ", ".join(sorted(refs.services)) or t("config.none")
    seen: set[str] = set()
    named: list[tuple[tuple[Any, ...], Any]] = []
    for index, entry in _items(data.get("components")):
        if isinstance(entry, dict):
            service = entry.get("service")
            if isinstance(service, str) and service in seen:
                yield (
                    ("components", index, "service"),
                    t("config.status_listed_twice", service=repr(service)),
                )
            named.append((("components", index, "service"), service))
            seen.add(str(service))
    for index, entry in _items(data.get("maintenance")):
        if isinstance(entry, dict):
            named += [
                (("maintenance", index, "services", i), s) for i, s in _items(entry.get("services"))
            ]
    for loc, service in named:
        if isinstance(service, str) and service not in refs.services:
            yield loc, t("config.no_service", service=repr(service), known=known)


def _playbooks(data: dict[str, Any], path: Path, refs: References) -> Iterator[tuple[Any, Text]]:
    if _shipped(path, refs):
        return
    for name, book in _entries(data.get("playbooks")):
        where = ("playbooks", name)
        for index, word in _items(book.get("decision")):
            for problem in _owner(word, refs):
                yield (*where, "decision", index), problem
        for index, step in _items(book.get("steps")):
            if isinstance(step, dict):
                for problem in _owner(step.get("owner"), refs):
                    yield (*where, "steps", index, "owner"), problem
        for index, word in _items(book.get("notify")):
            if not isinstance(word, str) or not re.fullmatch(NOTIFY, word):
                continue  # named by the file's own check
            if word.startswith("#") or ":" in word:
                yield from _address(word, (*where, "notify", index))
            else:
                for problem in _owner(word, refs):
                    yield (*where, "notify", index), problem


def _owner(word: Any, refs: References) -> list[Text]:
    """``owner``, a role, a duty, ``@person`` or a person's handle."""
    if not isinstance(word, str) or word == "owner" or not re.fullmatch(OWNER, word):
        return []  # the file's own check names a word that is not written as an owner
    if word.startswith("@"):
        return [p for _, p in _person(word[1:], (), refs)]
    if refs.duties is None or refs.handles is None:
        return []
    if word in refs.roles or word in refs.duties or word in refs.handles:
        return []
    known = refs.roles | refs.duties | refs.handles
    return [t("config.nobody", word=repr(word), hint=_suggest(word, known))]


def _person(handle: str, loc: tuple[Any, ...], refs: References) -> Iterator[tuple[Any, Text]]:
    if refs.handles is not None and handle.lower() not in refs.handles:
        hint = _suggest(handle.lower(), refs.handles)
        yield loc, t("config.not_in_people", handle=repr(handle), hint=hint)


def _channel(
    entry: dict[str, Any], key: str, loc: tuple[Any, ...], path: Path
) -> Iterator[tuple[Any, Text]]:
    if key not in entry:
        return
    value = entry[key]
    written = _comment_after(path, key) if value is None else None
    if written:
        yield loc, t("config.channel_comment", setting=key, channel=written)
    elif isinstance(value, str):
        yield from _address(value, loc)


def _address(value: str, loc: tuple[Any, ...]) -> Iterator[tuple[Any, Text]]:
    """``#name`` on whichever platform, or ``platform:id`` on one."""
    if re.fullmatch(r"#\S+", value):
        return
    platform, sep, rest = value.partition(":")
    if sep and platform in PLATFORMS and rest:
        return
    if sep and platform and not platform.startswith("#"):
        yield from ((loc, problem) for problem in _platform(platform) or _no_channel(value))
        return
    yield from ((loc, problem) for problem in _no_channel(value))


def _no_channel(value: str) -> list[Text]:
    return [t("config.not_a_channel", value=repr(value))]


def _comment_after(path: Path, key: str) -> str | None:
    """The ``#channel`` of ``key: #channel``, an unquoted channel YAML reads as a comment."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    found = re.search(rf"^\s*(?:-\s+)?{re.escape(key)}:\s+(#\S+)", text, re.MULTILINE)
    return found.group(1) if found else None
