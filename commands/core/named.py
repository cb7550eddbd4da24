"""What a command names: a person (``@alice``, or a platform's own user id), a service."""

from __future__ import annotations

from commands.core.context import CommandContext
from commands.core.grammar import PersonRef
from playbooks.errors import NotFound
from playbooks.messages import t
from playbooks.people import Person
from playbooks.releases.plan import Service


def person_named(ctx: CommandContext, ref: PersonRef) -> Person:
    """The person ``ref`` names, or the sentence listing who is known."""
    person = (
        ctx.directory.by_identity(ctx.conversation.platform, ref.value)
        if ref.platform_id
        else ctx.directory.get(ref.value.lower())
    )
    if person is None:
        known = ", ".join(sorted(ctx.directory.people))
        raise NotFound(t("incident.unknown_person", value=ref.value, known=known))
    return person


def service_named(ctx: CommandContext, name: str) -> Service:
    """The service of that name, or the sentence listing the known ones."""
    service = ctx.releases.services.get(name.lower())
    if service is None:
        known = ", ".join(sorted(ctx.releases.services)) or "-"
        raise NotFound(t("release.unknown_service", value=name, known=known))
    return service
