"""Every command family Shipwatch knows, assembled into one table."""

from __future__ import annotations

from collections.abc import Mapping

from commands import admin, general, reminders
from commands.pipeline import TimerHandler
from commands.registry import CommandTable


def build_table() -> CommandTable:
    return CommandTable((*general.SPECS, *reminders.SPECS, *admin.SPECS))


def timer_handlers() -> Mapping[str, TimerHandler]:
    return {**reminders.TIMER_HANDLERS}
