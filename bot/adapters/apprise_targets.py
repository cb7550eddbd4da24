"""Where Apprise delivers: the people's ways (``identities: {email: env:CAROL_EMAIL_URL}``)
and the channels (``channels.yaml``'s ``email:`` or ``apprise:``), each an Apprise URL
given by reference or inline.

The rule: an Apprise URL that carries a credential (a password, a token, an API key: what
Apprise itself hides when it prints the URL privately) is never written in the config.
The config names where it is kept, ``env:NAME`` (an environment variable) or
``file:/path`` (a file, a mounted secret, say), and it is read when Shipwatch starts. A URL
with nothing to hide (``mailto://smtp.example.com?to=carol@example.com`` on a relay that
needs no login, a self-hosted ``ntfy://`` topic) may be written inline.

Nothing here ever says or logs a URL: only the way, who it is for, and its service's
name ("E-Mail", "ntfy").
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playbooks.messages import Text, t
from playbooks.people import APPRISE_WAYS

if TYPE_CHECKING:
    from bot.config.directory import Config


MAX_FILE_BYTES = 8 * 1024  # a file: holding a URL; anything longer is something else


@dataclass(frozen=True, slots=True)
class Found:
    """One target as resolved: the URL (never shown), what it may be called, and Apprise's
    plugin for it, parsed once (sends reuse it: one conversation sends one at a time)."""

    url: str
    service: str  # Apprise's name for the service: "E-Mail", "ntfy", "Form"
    plugin: Any = field(default=None, compare=False, repr=False)

    def secrets(self) -> list[str]:
        """What no log line may show: the URL, and its password as Apprise parsed it."""
        password = getattr(self.plugin, "password", None)
        return [self.url, *([str(password)] if password else [])]


@dataclass(slots=True)
class Targets:
    """Every Apprise target of the config, by (way, reference as written), and the
    problems of those that could not be resolved."""

    found: dict[tuple[str, str], Found] = field(default_factory=dict)
    problems: list[Text] = field(default_factory=list)

    def ways(self) -> list[str]:
        """The ways with at least one target, in the order Shipwatch knows them."""
        used = {way for way, _ in self.found}
        return [way for way in APPRISE_WAYS if way in used]


def plugin_of(url: str) -> Any | None:
    """Apprise's plugin for ``url`` (parsed and checked, nothing sent), or None. Apprise's
    own complaints are kept quiet: the sentence saying what is wrong is ours."""
    import apprise

    quiet = logging.getLogger("apprise")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # at start and in `shipwatch check`: nothing is sending
    try:
        return apprise.Apprise.instantiate(url)
    except Exception:
        return None
    finally:
        quiet.setLevel(level)


def service_of(url: str) -> str | None:
    plugin = plugin_of(url)
    return str(plugin.service_name) if plugin is not None else None


def _hides_something(plugin: Any) -> bool:
    """Whether Apprise hides part of the URL when it prints it privately: a credential."""
    return bool(plugin.url(privacy=True) != plugin.url(privacy=False))


def resolve(ref: str, *, environ: Mapping[str, str]) -> tuple[Found | None, Text | None]:
    """The target ``ref`` names, or the sentence saying why it cannot be used."""
    ref = ref.strip()
    if ref.startswith("env:"):
        name = ref.removeprefix("env:").strip()
        if not name:
            return None, t("apprise.names_nothing", example="env:CAROL_EMAIL_URL")
        url = environ.get(name, "").strip()
        if not url:
            return None, t("apprise.missing_env", name=name)
    elif ref.startswith("file:"):
        path = ref.removeprefix("file:").strip()
        if not path:
            return None, t("apprise.names_nothing", example="file:/run/secrets/carol-email")
        try:
            # At most a little more than any URL: file:/dev/zero must not read forever.
            with Path(path).open("rb") as kept:
                raw = kept.read(MAX_FILE_BYTES + 1)
            if len(raw) > MAX_FILE_BYTES:
                return None, t("apprise.file_too_large", path=path, limit=MAX_FILE_BYTES)
            url = raw.decode("utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return None, t("apprise.unreadable_file", path=path)
        if not url:
            return None, t("apprise.unreadable_file", path=path)
    else:
        plugin = plugin_of(ref) if "://" in ref else None
        if plugin is None:
            return None, t("apprise.bad_url")
        if _hides_something(plugin):
            return None, t("apprise.inline_secret", service=str(plugin.service_name))
        return Found(ref, str(plugin.service_name), plugin), None
    plugin = plugin_of(url)
    if plugin is None:
        return None, t("apprise.bad_url_in", ref=ref)
    return Found(url, str(plugin.service_name), plugin), None


def _written(config: Config) -> Iterator[tuple[str, str, Text]]:
    """(way, reference, where it is written) for every Apprise target of the config."""
    for person in config.directory.people.values():
        for way, ref in person.identities.items():
            if way in APPRISE_WAYS:
                yield way, ref, t("apprise.where_person", handle=person.handle, way=way)
    for way in APPRISE_WAYS:
        for name, ref in config.channels.of(way).items():
            yield way, ref, t("apprise.where_channel", way=way, channel=name)


def targets(config: Config, *, environ: Mapping[str, str] | None = None) -> Targets:
    """Resolve every target once (at start, and for ``shipwatch check``)."""
    env = os.environ if environ is None else environ
    resolved = Targets()
    for way, ref, where in _written(config):
        if (way, ref) in resolved.found:
            continue
        found, problem = resolve(ref, environ=env)
        if found is not None:
            resolved.found[(way, ref)] = found
        elif problem is not None:
            resolved.problems.append(t("apprise.problem", where=where, problem=problem))
    return resolved


def scheme_of(ref: str, *, environ: Mapping[str, str] | None = None) -> str | None:
    """The service a person's way goes to, as ``/me`` shows it ("E-Mail"), never the URL;
    None when it cannot be resolved here."""
    found, _ = resolve(ref, environ=os.environ if environ is None else environ)
    return found.service if found is not None else None
