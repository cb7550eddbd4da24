"""Report notes: the sections of seed 000's templates only people know (user feedback,
tomorrow's plan; NPS, improvements, next week's focus), asked for before the daily and
weekly reports and shown in them, "not given" when nobody answered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from playbooks.effects import ArmTimer, Conversation, DirectMessage, Effect, Post
from playbooks.messages import Message, Text, raw, t
from playbooks.reports.metrics import SummarySettings
from playbooks.reports.schedule import ReportKind

REMIND_KIND = "summary.notes_due"
SECTIONS: dict[ReportKind, tuple[str, ...]] = {
    ReportKind.EVENING: ("feedback", "plan"),
    ReportKind.WEEKLY: ("nps", "improvements", "focus"),
}
# A note counts for the next report of its kind: given since the one before.
SPAN = {ReportKind.EVENING: timedelta(days=1), ReportKind.WEEKLY: timedelta(days=7)}
# In the command, "daily" is the daily report (日报), posted in the evening.
REPORT_NAMES = {"daily": ReportKind.EVENING, "weekly": ReportKind.WEEKLY}
MAX_SHOWN = 10


@dataclass(frozen=True, slots=True)
class Note:
    section: str
    text: str
    author: str
    at: datetime


def since(kind: ReportKind, at: datetime) -> datetime:
    """Notes given after this count for the report of ``kind`` at ``at``."""
    return at - SPAN[kind]


def blocks(kind: ReportKind, notes: Sequence[Note]) -> list[Text]:
    """Each of the report's people-only sections, with its notes or "not given"."""
    shown: list[Text] = []
    for section in SECTIONS.get(kind, ()):
        given = [n for n in notes if n.section == section]
        shown.append(t("summary.note_heading", section=t(f"summary.note.{section}")))
        shown += [
            t("summary.note_line", text=raw(n.text), author=n.author) for n in given[:MAX_SHOWN]
        ] or [t("summary.note_missing")]
    return shown


def reminder_timer(
    subscription_id: int, kind: ReportKind, scheduled: datetime, *, settings: SummarySettings
) -> ArmTimer | None:
    """The ask for notes, ``notes_before`` the report, when someone is to be asked."""
    if kind not in SECTIONS or not settings.notes_ask:
        return None
    return ArmTimer(
        key=f"summary:{subscription_id}:notes",
        kind=REMIND_KIND,
        due_at=scheduled - settings.notes_before,
        payload={"subscription_id": subscription_id, "scheduled_at": scheduled.isoformat()},
    )


def reminder(
    kind: ReportKind,
    *,
    report_at: datetime,
    given: Sequence[str],
    ask: Sequence[str],
    platform: str,
) -> list[Effect]:
    """Ask for the sections nobody has given yet; nothing when every one is in."""
    missing = [s for s in SECTIONS[kind] if s not in given]
    if not missing:
        return []
    name = "daily" if kind is ReportKind.EVENING else "weekly"
    message = Message.of(
        t(
            "summary.notes_reminder",
            report=t(f"summary.kind.{kind.value}"),
            at=report_at,
            missing=", ".join(missing),
            example=f"/summary note {name} {missing[0]} …",
        )
    )
    effects: list[Effect] = []
    for who in ask:
        if who.startswith("@"):
            effects.append(DirectMessage(who[1:], message))
        else:
            effects.append(Post(Conversation.parse(who, default_platform=platform), message))
    return effects
