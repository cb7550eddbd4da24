"""One hop from a command's name to its handler: each room's docstring names the module
that holds each command, and, where a command's verbs are spread over several modules,
the module of each verb."""

from __future__ import annotations

import importlib
from collections import defaultdict

from commands.table import build_table


def _said_of(doc: str, module: str) -> str:
    """What the room's docstring says of one module: its entry, to the next entry."""
    if f"``{module}``" not in doc:
        return ""
    return doc.split(f"``{module}``", 1)[1].split("\n- ")[0].split("``;")[0]


def test_each_room_names_the_module_of_every_command_and_verb() -> None:
    where: dict[str, dict[str, dict[str, set[str]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(set))
    )
    for spec in build_table().specs():
        room, _, module = spec.handler.__module__.rpartition(".")
        family, _, verb = spec.name.partition(" ")
        where[room][family][module].add(verb or family)
    unsaid = []
    for room, families in where.items():
        doc = importlib.import_module(room).__doc__ or ""
        for family, modules in families.items():
            for module, verbs in modules.items():
                said = _said_of(doc, module)
                if len(modules) == 1:
                    if family not in said and module != family:
                        unsaid.append(f"{room}: /{family} is in {module}")
                    continue
                unsaid += [f"{room}: /{family} {v} is in {module}" for v in verbs if v not in said]
    assert unsaid == []
