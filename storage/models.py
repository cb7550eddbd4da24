"""The tables. Playbooks may import these types; nothing here imports the other rooms."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    Index,
    LargeBinary,
    Text,
    UniqueConstraint,
    event,
    false,
)
from sqlalchemy import text as sql
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelConfig

from storage.types import UTCDateTime


class _Table(SQLModel):
    """What every table is made from.

    The rows are read and written through SQLAlchemy, never validated by pydantic (a
    table model's constructor does not validate), so pydantic's validator and serializer
    for each table are built only if asked for (``defer_build``): not at every start,
    where building the 34 tables' would cost ~15 ms.
    """

    model_config = SQLModelConfig(defer_build=True)


def _utc(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


class Timer(_Table, table=True):
    """A durable timer: the database row is the truth, the scheduler only a cache of it."""

    __tablename__ = "timers"
    __table_args__ = (Index("ix_timers_state_due", "state", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=100)
    due_at: datetime = _utc()
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = Field(default="pending", max_length=20)  # pending | fired | cancelled | failed
    fired_at: datetime | None = _utc(default=None, nullable=True)
    fired_late: bool = False
    created_at: datetime = _utc()


class OutboxMessage(_Table, table=True):
    """A message committed with the state change that caused it, delivered later."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_state_next", "state", "next_attempt_at"),
        Index("ix_outbox_conversation", "conversation_key", "id"),
        Index("ix_outbox_edit_key", "edit_key", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=40)
    address: str = Field(max_length=200)
    conversation_key: str = Field(max_length=250)
    kind: str = Field(default="post", max_length=20)  # post | revise | direct | traffic
    message: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    # pending | sent | dead | covered (a direct message its reader had in a channel already)
    state: str = Field(default="pending", max_length=20)
    attempts: int = 0
    next_attempt_at: datetime = _utc()
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = _utc()
    sent_at: datetime | None = _utc(default=None, nullable=True)
    # A post that revises an earlier one (a progress report) names it by a key of its own;
    # where the platform can edit, the earlier message (its platform_ref) is edited.
    edit_key: str | None = Field(default=None, max_length=200)
    platform_ref: str | None = Field(default=None, max_length=200)
    # The process delivering it now (its instance id) and until when its claim holds; a
    # claim is kept short and renewed, so a dead process's messages go on within seconds.
    # Back-off lives in next_attempt_at alone.
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = _utc(default=None, nullable=True)
    # Among the conversations of a platform waiting for a turn, lower goes first: pages and
    # acknowledgements (0) before ordinary posts (1) before reports and progress (2).
    priority: int = Field(default=1, sa_column_kwargs={"server_default": sql("1")})
    # The language a reply handed over by an adapter is read in (the person's, not the chat's).
    locale: str | None = Field(default=None, max_length=10)
    # A direct message whose news is also posted in conversations: {"person": handle,
    # "in": [[platform, channel, the person's user id there or null], …]}. A member of one
    # of them (as the platform says when it is sent, else people.yaml) gets no copy.
    unless_member_of: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    # A page's notification: {"page": id, "person": handle, "way": platform, "next": [ways
    # left, in order]}. Its failure is written on the page's timeline and, while ways are
    # left, the next is tried at once instead of retrying this one.
    follow_up: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class SendHold(_Table, table=True):
    """A platform's "wait until" for one robot or chat (DingTalk's ten-minute block, a
    Telegram RetryAfter): kept here so a restarted process or another replica waits it out."""

    __tablename__ = "send_holds"

    key: str = Field(primary_key=True, max_length=300)  # platform:robot-or-chat
    until: datetime = _utc()
    reason: str = Field(default="", max_length=300)


class AuditEntry(_Table, table=True):
    """Who did what, with which arguments, and how it ended."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _utc(index=True)
    actor: str = Field(max_length=200, index=True)
    platform: str = Field(max_length=40)
    conversation: str = Field(max_length=250)
    command: str = Field(max_length=100)
    text: str = Field(sa_column=Column(Text, nullable=False))
    outcome: str = Field(max_length=20)  # ok | denied | usage | refused | error
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))


class SeenEvent(_Table, table=True):
    """The idempotency ledger: an inbound event id handled once."""

    __tablename__ = "seen_events"
    __table_args__ = (UniqueConstraint("source", "event_id", name="uq_seen_events_source_event"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=40)
    event_id: str = Field(max_length=200)
    seen_at: datetime = _utc()


class Reminder(_Table, table=True):
    __tablename__ = "reminders"
    __table_args__ = (Index("ix_reminders_conversation", "platform", "channel", "state", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=40)
    channel: str = Field(max_length=200)
    author: str = Field(max_length=200)
    text: str = Field(sa_column=Column(Text, nullable=False))
    due_at: datetime = _utc()
    state: str = Field(default="pending", max_length=20)
    created_at: datetime = _utc()
    cancelled_by: str | None = Field(default=None, max_length=200)


class ActionToken(_Table, table=True):
    """A button's short token and the command it stands for."""

    __tablename__ = "action_tokens"

    token: str = Field(primary_key=True, max_length=40)
    command: str = Field(max_length=500)
    platform: str = Field(max_length=40)
    channel: str = Field(max_length=200)
    created_at: datetime = _utc()
    expires_at: datetime = _utc()


class ChannelSetting(_Table, table=True):
    """Per-conversation preferences, such as the language of replies."""

    __tablename__ = "channel_settings"

    platform: str = Field(primary_key=True, max_length=40)
    channel: str = Field(primary_key=True, max_length=200)
    locale: str | None = Field(default=None, max_length=10)


# A release holds its service from its start (prepared, before any traffic) to its end.
ACTIVE_RELEASE = "state IN ('prepared', 'pending', 'in_stage', 'paused')"
# At most one live release per service, whatever races the commands run: a unique index
# over the live releases only.
ONE_ACTIVE_RELEASE = Index("uq_releases_one_active", "service", unique=True)


@event.listens_for(ONE_ACTIVE_RELEASE, "before_create")
def _only_active_releases(index: Index, connection: Connection, **_: Any) -> None:
    """The index's WHERE, in the words of the database it is created in.

    Given as ``sqlite_where=`` and ``postgresql_where=`` when the index is declared, each
    keyword would import its dialect at every start (PostgreSQL's costs ~20 ms on SQLite);
    given here, only the dialect in use is touched. The migrations write both (0017).
    """
    dialect = connection.dialect.name
    if dialect in ("sqlite", "postgresql"):
        index.dialect_kwargs[f"{dialect}_where"] = sql(ACTIVE_RELEASE)


class ReleaseRow(_Table, table=True):
    """A release of one version of a service, walking its plan's stages."""

    __tablename__ = "releases"
    __table_args__ = (
        Index("ix_releases_service", "service", "id"),
        ONE_ACTIVE_RELEASE,
    )

    id: int | None = Field(default=None, primary_key=True)
    service: str = Field(max_length=100)
    version: str = Field(max_length=100)
    plan: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))  # the plan's snapshot
    state: str = Field(max_length=20)
    stage: int = -1
    percent: float = 0.0
    owner: str = Field(max_length=200)
    attempt: int = 1
    channel: str = Field(max_length=250)
    traffic: str = Field(max_length=40)
    metrics: str = Field(max_length=100)
    stage_started_at: datetime | None = _utc(default=None, nullable=True)
    paused_reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    guards: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    approvals: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    started_at: datetime = _utc()
    updated_at: datetime = _utc()


class ReleaseEvent(_Table, table=True):
    """One transition of a release: who moved it, when, from where to where, and why."""

    __tablename__ = "release_events"
    __table_args__ = (Index("ix_release_events_release", "release_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    release_id: int = Field(foreign_key="releases.id")
    at: datetime = _utc()
    actor: str = Field(max_length=200)
    move: str = Field(max_length=20)
    from_state: str | None = Field(default=None, max_length=20)
    to_state: str = Field(max_length=20)
    from_percent: float = 0.0
    to_percent: float = 0.0
    stage: str = Field(max_length=100)
    attempt: int = 1
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))


class GuardReading(_Table, table=True):
    """One guard's reading of a release, as the release page draws it. ``at_second`` is the
    reading's time in whole seconds since the epoch (UTC): an integer, so the page's
    buckets are the same arithmetic in SQL on SQLite and PostgreSQL."""

    __tablename__ = "guard_readings"
    __table_args__ = (
        # Covering: a chart's read never touches the table itself.
        Index("ix_guard_readings_series", "release_id", "guard", "at_second", "value"),
    )

    id: int | None = Field(default=None, primary_key=True)
    release_id: int = Field(foreign_key="releases.id")
    guard: str = Field(max_length=100)
    at_second: int = Field(sa_type=BigInteger)
    value: float


class GuardRange(_Table, table=True):
    """A guard's lowest and highest reading of a release within one span of ``width``
    seconds (a minute, a quarter of an hour) starting at ``at_second``: what a chart of
    hours or days reads instead of every reading (a week at 5 s is 120,960 readings per
    guard; 10,080 minutes; 672 quarters)."""

    __tablename__ = "guard_ranges"

    release_id: int = Field(foreign_key="releases.id", primary_key=True)
    guard: str = Field(max_length=100, primary_key=True)
    width: int = Field(primary_key=True)
    at_second: int = Field(sa_type=BigInteger, primary_key=True)
    low: float
    high: float


class IncidentRow(_Table, table=True):
    """An incident: what is wrong, how bad, who leads, and its SLA clocks."""

    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_state", "state", "service"),
        Index("ix_incidents_state_id", "state", "id"),  # the newest of a state first
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(sa_column=Column(Text, nullable=False))
    severity: str = Field(max_length=2)
    state: str = Field(max_length=20)
    service: str | None = Field(default=None, max_length=100)
    channel: str = Field(max_length=250)
    policy: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))  # its snapshot
    opened_at: datetime = _utc()
    opened_by: str = Field(max_length=200)
    commander: str = Field(max_length=200)
    comms_lead: str | None = Field(default=None, max_length=200)
    scribe: str | None = Field(default=None, max_length=200)
    acked_at: datetime | None = _utc(default=None, nullable=True)
    resolved_at: datetime | None = _utc(default=None, nullable=True)
    reopened_at: datetime | None = _utc(default=None, nullable=True)
    respond_due: datetime | None = _utc(default=None, nullable=True)
    resolve_due: datetime | None = _utc(default=None, nullable=True)
    respond_breached: bool = False
    resolve_breached: bool = False
    # In the order of the columns a migrated database has (0014 added the start clock).
    checklist: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The start-handling clock (seed 002's 开始处理), between respond and resolve.
    started_at: datetime | None = _utc(default=None, nullable=True)
    start_due: datetime | None = _utc(default=None, nullable=True)
    start_breached: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # What the public status page calls it (``/incident public-title``); never the title.
    public_title: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class IncidentRoom(_Table, table=True):
    """An incident's own conversation: asked for when the incident opens, its platform id
    recorded once the platform made it. Posts addressed to the room (``#inc-42``) go to
    that id, or to ``fallback`` (the shared channel) where no room could be made."""

    __tablename__ = "incident_rooms"
    __table_args__ = (UniqueConstraint("platform", "address", name="uq_incident_rooms_address"),)

    incident_id: int = Field(foreign_key="incidents.id", primary_key=True)
    platform: str = Field(max_length=40)
    address: str = Field(max_length=200)  # Shipwatch's name for it: #inc-42
    name: str = Field(max_length=200)  # the platform's name for it: inc-42-checkout-returns-500
    fallback: str = Field(max_length=200)  # the shared channel, on the same platform
    # pending (asked for) | open | fallback (refused: news goes to the shared channel) | closed
    state: str = Field(default="pending", max_length=20)
    platform_id: str | None = Field(default=None, max_length=200)
    reason: str | None = Field(default=None, max_length=500)  # why it was refused
    close_after_seconds: int = 3600  # the grace between closing the incident and the room
    # Everyone asked in so far (handles): each is invited once, and counts as a member for
    # direct messages whose news is posted in the room.
    invited: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _utc()


class IncidentEvent(_Table, table=True):
    """One line of an incident's timeline."""

    __tablename__ = "incident_events"
    __table_args__ = (Index("ix_incident_events_incident", "incident_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id")
    at: datetime = _utc()
    actor: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    text: str = Field(default="", sa_column=Column(Text, nullable=False))


class IncidentAction(_Table, table=True):
    """A follow-up action of an incident: what was promised, by whom, by when."""

    __tablename__ = "incident_actions"
    __table_args__ = (
        Index("ix_incident_actions_incident", "incident_id", "id"),
        Index("ix_incident_actions_owner", "owner", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id")
    text: str = Field(sa_column=Column(Text, nullable=False))
    owner: str = Field(max_length=200)
    priority: str = Field(max_length=2)
    due: date | None = Field(default=None)
    state: str = Field(default="open", max_length=20)  # open | done | dropped
    created_at: datetime = _utc()
    created_by: str = Field(max_length=200)
    closed_at: datetime | None = _utc(default=None, nullable=True)
    closed_by: str | None = Field(default=None, max_length=200)
    note: str = Field(default="", sa_column=Column(Text, nullable=False))


class AlertGroup(_Table, table=True):
    """An alert group from monitoring (Alertmanager's groupKey, a hook's key) and the
    incident it feeds now."""

    __tablename__ = "alert_groups"
    __table_args__ = (Index("ix_alert_groups_service", "service", "joined_at"),)

    id: int | None = Field(default=None, primary_key=True)
    group_hash: str = Field(max_length=64, unique=True)  # sha256 of source and key
    source: str = Field(max_length=40)
    group_key: str = Field(sa_column=Column(Text, nullable=False))
    service: str | None = Field(default=None, max_length=100)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    status: str = Field(max_length=20)  # firing | resolved
    joined_at: datetime = _utc()  # when it (last) joined its incident
    last_seen: datetime = _utc()
    firing: int = 0  # alerts firing at the last notification


class RotationVersion(_Table, table=True):
    """A team layer's rotation as configured from ``since`` on: an edit is a new version,
    so shifts before it keep the rotation they were worked under."""

    __tablename__ = "rotation_versions"
    __table_args__ = (Index("ix_rotation_versions_layer", "team", "layer", "since"),)

    id: int | None = Field(default=None, primary_key=True)
    team: str = Field(max_length=100)
    layer: str = Field(max_length=40)
    spec: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    since: datetime = _utc()


class OncallChange(_Table, table=True):
    """An override (``person`` takes ``layer``, or every layer) or a swap (``person`` and
    ``other`` trade places) for [starts_at, ends_at)."""

    __tablename__ = "oncall_changes"
    __table_args__ = (Index("ix_oncall_changes_team", "team", "ends_at"),)

    id: int | None = Field(default=None, primary_key=True)
    team: str = Field(max_length=100)
    kind: str = Field(max_length=20)  # override | swap
    layer: str | None = Field(default=None, max_length=40)
    person: str = Field(max_length=200)
    other: str | None = Field(default=None, max_length=200)
    starts_at: datetime = _utc()
    ends_at: datetime = _utc()
    created_by: str = Field(max_length=200)
    created_at: datetime = _utc()


class PageRow(_Table, table=True):
    """A page: who is being reached for what, through which policy (its snapshot), how far."""

    __tablename__ = "pages"
    __table_args__ = (Index("ix_pages_state", "state", "team"),)

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(sa_column=Column(Text, nullable=False))
    state: str = Field(max_length=20)
    team: str | None = Field(default=None, max_length=100)
    severity: str | None = Field(default=None, max_length=2)
    incident_id: int | None = Field(default=None, foreign_key="incidents.id", index=True)
    policy: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    position: int = 0
    paged: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _utc()
    created_by: str = Field(max_length=200)
    acked_by: str | None = Field(default=None, max_length=200)
    acked_at: datetime | None = _utc(default=None, nullable=True)


class PageEvent(_Table, table=True):
    __tablename__ = "page_events"
    __table_args__ = (Index("ix_page_events_page", "page_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    page_id: int = Field(foreign_key="pages.id")
    at: datetime = _utc()
    kind: str = Field(max_length=20)
    person: str = Field(default="", max_length=200)
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    late: bool = False


class ReleaseLaunch(_Table, table=True):
    """A release's launch record: checklist ticks, runbook marks, the Go/No-Go assessment
    (``state``, JSON), and when it completed (follow-ups count from then)."""

    __tablename__ = "release_launches"

    release_id: int = Field(foreign_key="releases.id", primary_key=True)
    state: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _utc()


class DeployFreeze(_Table, table=True):
    """A day on which no release starts (``day`` is the service's local date)."""

    __tablename__ = "deploy_freezes"

    id: int | None = Field(default=None, primary_key=True)
    day: str = Field(max_length=10, index=True)  # ISO date
    reason: str = Field(sa_column=Column(Text, nullable=False))
    created_by: str = Field(max_length=200)
    created_at: datetime = _utc()


class SummarySubscription(_Table, table=True):
    """A conversation's standing order for a report: which, when (a wall-clock time in its
    timezone) and for which services (empty: all of them)."""

    __tablename__ = "summary_subscriptions"
    __table_args__ = (
        Index("ix_summary_subscriptions_conversation", "platform", "channel"),
        Index("ux_summary_subscriptions_origin", "origin", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=40)
    channel: str = Field(max_length=200)
    kind: str = Field(max_length=20)  # daily | evening | weekly
    at: str = Field(max_length=20)  # "09:00" or "fri 17:00"
    timezone: str = Field(max_length=64)
    services: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    state: str = Field(default="active", max_length=20)  # active | cancelled
    created_by: str = Field(max_length=200)
    created_at: datetime = _utc()
    next_run_at: datetime | None = _utc(default=None, nullable=True)
    # "config:evening:#ops" for one summaries.yaml asks for: created once, never again
    # after someone unsubscribes it; None for a /summary subscribe.
    origin: str | None = Field(default=None, max_length=250)


class SummaryNote(_Table, table=True):
    """What only people know, given for a report before it runs (seed 000's templates:
    user feedback, tomorrow's plan, NPS, improvements, next week's focus)."""

    __tablename__ = "summary_notes"
    __table_args__ = (Index("ix_summary_notes_report", "report", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    report: str = Field(max_length=20)  # evening | weekly
    section: str = Field(max_length=20)
    text: str = Field(sa_column=Column(Text, nullable=False))
    author: str = Field(max_length=200)
    created_at: datetime = _utc()


class SummaryRun(_Table, table=True):
    """One period's run of a subscription; the unique key makes a period post once."""

    __tablename__ = "summary_runs"
    __table_args__ = (UniqueConstraint("subscription_id", "period", name="uq_summary_runs_period"),)

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="summary_subscriptions.id")
    period: str = Field(max_length=20)  # 2026-11-23, or 2026-W48 for a weekly report
    scheduled_at: datetime = _utc()
    ran_at: datetime = _utc()
    late: bool = False
    outcome: str = Field(max_length=20)  # reading | posted | missed


class ChartImage(_Table, table=True):
    """A rendered report chart, served at ``GET /charts/<id>.png``."""

    __tablename__ = "charts"

    id: str = Field(primary_key=True, max_length=40)
    png: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    kind: str = Field(max_length=20)
    created_at: datetime = _utc(index=True)


class PageBudgetRow(_Table, table=True):
    """One person's page budget window: notifications sent in it and the pages held."""

    __tablename__ = "page_budgets"

    person: str = Field(primary_key=True, max_length=200)
    window_start: datetime = _utc()
    sent: int = 0
    held: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class DutyLease(_Table, table=True):
    """Who holds a duty that needs one owner at a time, until when, and in which tenure.

    ``token`` grows by one each time the holder changes: a fencing token, so a process can
    tell that its lease lapsed and was held by another since it last looked."""

    __tablename__ = "duty_leases"

    name: str = Field(primary_key=True, max_length=100)
    holder: str = Field(max_length=100)
    token: int = 1
    expires_at: datetime = _utc()


class ProcedureRun(_Table, table=True):
    """A rollback runbook or an emergency playbook being run: the procedure as it stood
    when it started (JSON), its step marks, and when its last step was marked."""

    __tablename__ = "procedure_runs"
    __table_args__ = (Index("ix_procedure_runs_open", "closed_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)  # rollback | playbook
    name: str = Field(max_length=64)
    service: str | None = Field(default=None, max_length=100)
    release_id: int | None = Field(default=None, foreign_key="releases.id", index=True)
    subject: str = Field(default="", max_length=200)
    channel: str = Field(max_length=200)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    procedure: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    marks: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    started_at: datetime = _utc()
    started_by: str = Field(max_length=200)
    closed_at: datetime | None = _utc(default=None, nullable=True)
    updated_at: datetime = _utc()


class HeartbeatRow(_Table, table=True):
    """The last beat of a heartbeat of ``heartbeats.yaml``, and since when it is missing
    (None while it beats on time). A heartbeat has a row from its first beat on."""

    __tablename__ = "heartbeats"

    name: str = Field(primary_key=True, max_length=100)
    last_beat_at: datetime = _utc()
    beats: int = 0
    missing_since: datetime | None = _utc(default=None, nullable=True)


class MaintenanceWindow(_Table, table=True):
    """A time when a service's alerts and missed heartbeats page nobody. What arrived
    meanwhile, with no incident open to note it on, is kept here (``arrivals``, the
    first few lines, and ``arrived``, how many in all) and said when the window ends."""

    __tablename__ = "maintenance_windows"
    __table_args__ = (Index("ix_maintenance_service", "service", "ends_at"),)

    id: int | None = Field(default=None, primary_key=True)
    service: str = Field(max_length=100)
    starts_at: datetime = _utc()
    ends_at: datetime = _utc()  # brought forward by /maintenance end
    reason: str = Field(sa_column=Column(Text, nullable=False))
    freeze: bool = False  # releases of the service are held while it lasts
    channel: str = Field(max_length=250)  # where it was declared; its end is posted there
    created_by: str = Field(max_length=200)
    created_at: datetime = _utc()
    ended_by: str | None = Field(default=None, max_length=200)  # who ended it early
    end_posted: bool = False
    arrived: int = 0
    arrivals: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The last notification of each alert group held (by group hash): those still firing
    # when the window ends go to the intake then, as if they had just arrived.
    held_groups: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )


class SentReport(_Table, table=True):
    """A report as it was posted (its message, catalog keys and parameters, so each reader
    sees it in their language), kept for the web console's list of past reports."""

    __tablename__ = "sent_reports"
    __table_args__ = (Index("ix_sent_reports_kind", "kind", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)  # daily | evening | weekly
    # the report's time and the period its figures cover
    at: datetime = _utc()
    period_start: datetime = _utc()
    period_end: datetime = _utc()
    timezone: str = Field(max_length=64)
    services: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    platform: str = Field(max_length=40)  # where it was posted
    channel: str = Field(max_length=200)
    message: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    chart_id: str | None = Field(default=None, max_length=40)
    run_id: int | None = Field(default=None, foreign_key="summary_runs.id")  # None: by hand
    late: bool = False
    created_at: datetime = _utc()


class WebSession(_Table, table=True):
    """A person signed in to the web console. The browser holds the session id in a
    cookie; only its SHA-256 is kept here, so a copy of this table signs nobody in.
    ``csrf`` is the form token every POST of the session carries; ``locale`` the language
    chosen with ``?lang=`` (None: the person's own, else the browser's)."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_handle", "handle", "revoked"),)

    id_hash: str = Field(primary_key=True, max_length=64)
    handle: str = Field(max_length=200)
    created_at: datetime = _utc()
    expires_at: datetime = _utc()
    csrf: str = Field(max_length=64)
    locale: str | None = Field(default=None, max_length=10)
    revoked: bool = False
