"""People, their chat identities and their roles: who may do what."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from enum import StrEnum

BOT = "shipwatch"  # the actor of automatic moves, and the commander nobody has taken over

# The ways a person can be reached: chat platforms, whose buttons call back (or become
# links), and ways delivered through Apprise (email, SMS gateways, push services, anything
# else Apprise speaks), which cannot call back: their buttons are one-time links.
CHAT_PLATFORMS = ("console", "slack", "telegram", "dingtalk", "feishu", "discord", "mattermost")
APPRISE_WAYS = ("email", "sms", "push", "apprise")
WAYS = CHAT_PLATFORMS + APPRISE_WAYS
EVERY_WAY = "every"  # an escalation step's ``via: every``: all of a person's ways at once


class Role(StrEnum):
    ADMIN = "admin"
    RELEASE_MANAGER = "release-manager"
    INCIDENT_COMMANDER = "incident-commander"
    RESPONDER = "responder"
    VIEWER = "viewer"


# A role also grants the roles it implies: an admin may do anything, a release
# manager or incident commander may do what a responder does, and so on down.
_IMPLIES: Mapping[Role, frozenset[Role]] = {
    Role.ADMIN: frozenset(Role),
    Role.RELEASE_MANAGER: frozenset({Role.RELEASE_MANAGER, Role.RESPONDER, Role.VIEWER}),
    Role.INCIDENT_COMMANDER: frozenset({Role.INCIDENT_COMMANDER, Role.RESPONDER, Role.VIEWER}),
    Role.RESPONDER: frozenset({Role.RESPONDER, Role.VIEWER}),
    Role.VIEWER: frozenset({Role.VIEWER}),
}


@dataclass(frozen=True, slots=True)
class Person:
    handle: str
    name: str
    roles: frozenset[Role] = frozenset()
    # platform → that platform's user id, in the person's preferred order
    identities: Mapping[str, str] = field(default_factory=dict)
    locale: str | None = None
    tz: tzinfo | None = None  # where their direct messages show times; None: the default
    # Channels (by name) people.yaml says they are in: where a platform cannot tell.
    channels: frozenset[str] = frozenset()

    def has_role(self, needed: Role) -> bool:
        return any(needed in _IMPLIES[role] for role in self.roles)


@dataclass(frozen=True, slots=True)
class Directory:
    """Everyone Shipwatch knows, looked up by handle or by platform identity."""

    people: Mapping[str, Person]
    # The plans' named duties (devops, dba, qa, pm…) → who holds each: owners of
    # runbook and playbook steps. Unlike roles they grant nothing.
    duties: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def of(
        cls, people: Iterable[Person], duties: Mapping[str, tuple[str, ...]] | None = None
    ) -> Directory:
        return cls({p.handle: p for p in people}, dict(duties or {}))

    def get(self, handle: str) -> Person | None:
        return self.people.get(handle.lstrip("@").lower())

    def by_identity(self, platform: str, user_id: str) -> Person | None:
        for person in self.people.values():
            if person.identities.get(platform) == user_id:
                return person
        return None


def guest(platform: str, user_id: str) -> Person:
    """Someone talking to the bot who is not in the directory: no roles at all."""
    return Person(handle=f"{platform}:{user_id}", name=user_id, identities={platform: user_id})
