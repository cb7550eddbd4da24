"""What a handler is given: the session, the time, who is asking, where, and an effect list."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Protocol

from sqlmodel import Session

from commands.core.registry import CommandTable
from playbooks.effects import Conversation, Effect
from playbooks.incidents.policy import IncidentSettings, default_settings
from playbooks.oncall.teams import Team
from playbooks.people import APPRISE_WAYS, Directory, Person
from playbooks.releases.plan import ReleaseCatalog, made_up
from playbooks.reports.metrics import SummarySettings

WEB = "web"  # the web console's platform: a person's page, never a channel


class SignInLinks(Protocol):
    """Issues the web console's one-time sign-in links (the bot signs them with its
    secret; a command only asks for one)."""

    @property
    def minutes(self) -> int:
        """How long a link works."""
        ...

    def link(self, handle: str, now: datetime) -> str:
        """A link that signs ``handle`` in once, until ``minutes`` after ``now``."""
        ...


@dataclass(slots=True)
class CommandContext:
    """One command's world. Handlers read state through ``session`` and append to
    ``effects``; the pipeline writes the effects in the same transaction and commits once.

    Handlers are synchronous on purpose: they run while the transaction holds the
    database, and nothing may be awaited while it does.
    """

    session: Session
    now: datetime
    actor: Person
    conversation: Conversation
    directory: Directory
    table: CommandTable
    tz: tzinfo
    releases: ReleaseCatalog = field(default_factory=ReleaseCatalog)
    incidents: IncidentSettings = field(default_factory=default_settings)
    teams: Mapping[str, Team] = field(default_factory=dict)
    effects: list[Effect] = field(default_factory=list)
    audit_detail: str = ""
    summaries: SummarySettings = field(default_factory=SummarySettings)
    reachable: frozenset[str] = frozenset({"console"})  # platforms with a running adapter
    drill: bool = False
    sign_in: SignInLinks | None = None  # None: no action-link secret, no web sign-in
    home_platform: str = "console"  # where the bot's own channels are

    def simulated(self, source: str) -> bool:
        """Are numbers read from ``source`` made up, and not in a drill? Then say so."""
        return made_up(source, drill=self.drill)

    @property
    def channels_platform(self) -> str:
        """The platform of a channel named without one (``#web``): the conversation's,
        or the home platform for a command from the web console, which has no channels,
        and for a link opened from an email, SMS or push (its button's command runs in
        the recipient's conversation there, and a team's "#web" is not a mailing list)."""
        platform = self.conversation.platform
        return self.home_platform if platform == WEB or platform in APPRISE_WAYS else platform


@dataclass(slots=True)
class SystemContext:
    """A timer firing or an observation arriving: like a command, without a person.
    ``late_by`` is set when a timer fires well after its due time (the bot was down)."""

    session: Session
    now: datetime
    directory: Directory
    # where policies read their days and hours when no plan or team names a timezone
    # (SHIPWATCH_TIMEZONE), as for a command: never UTC by omission
    tz: tzinfo
    late_by: timedelta | None = None
    releases: ReleaseCatalog = field(default_factory=ReleaseCatalog)
    incidents: IncidentSettings = field(default_factory=default_settings)
    teams: Mapping[str, Team] = field(default_factory=dict)
    effects: list[Effect] = field(default_factory=list)
    home_platform: str = "console"
    default_locale: str = "en"  # SHIPWATCH_LOCALE: a channel's language unless it chose one
    summaries: SummarySettings = field(default_factory=SummarySettings)
    drill: bool = False

    def simulated(self, source: str) -> bool:
        """Are numbers read from ``source`` made up, and not in a drill? Then say so."""
        return made_up(source, drill=self.drill)


TimerContext = SystemContext
