"""The error family: every error a person may see carries a translatable sentence."""

from __future__ import annotations

from playbooks.messages import Text, t


class ShipwatchError(Exception):
    """Root of every error Shipwatch raises on purpose.

    ``text`` is the sentence a person reads, in their language; ``str(error)`` is
    the English catalog key for logs.
    """

    def __init__(self, text: Text, *, details: tuple[Text, ...] = ()) -> None:
        super().__init__(text.key)
        self.text = text
        self.details = details  # further lines: every reason a command was refused, say


class UsageError(ShipwatchError):
    """The command line could not be understood; ``usage`` is the line to show."""

    def __init__(self, text: Text, *, usage: str | None = None) -> None:
        super().__init__(text)
        self.usage = usage


class PermissionDenied(ShipwatchError):
    """The person lacks the role a command needs."""

    def __init__(self, *, command: str, role: str) -> None:
        super().__init__(t("error.permission_denied", command=command, role=role))
        self.command = command
        self.role = role


class NotFound(ShipwatchError):
    """A thing named in a command does not exist (or is not yours to see)."""


class InvalidTransition(ShipwatchError):
    """A lifecycle move that the current state does not allow."""


class AdapterError(ShipwatchError):
    """A platform refused or failed a delivery.

    ``retry_after`` (seconds) is the platform's own wait; ``permanent`` errors are
    never retried.
    """

    def __init__(
        self, text: Text, *, retry_after: float | None = None, permanent: bool = False
    ) -> None:
        super().__init__(text)
        self.retry_after = retry_after
        self.permanent = permanent


class Throttled(AdapterError):
    """The platform (or Shipwatch's own send limit) asks to wait ``retry_after`` seconds.

    Waiting is not failing: a throttled delivery is tried again after the wait and never
    counts toward the outbox's attempts, however often it is held back.
    """

    def __init__(self, text: Text, *, retry_after: float) -> None:
        super().__init__(text, retry_after=retry_after)
