"""Setting Discord up: what its settings lack (said by ``shipwatch check`` and at start),
the adapter built from them, and the application commands ``shipwatch discord register``
puts on Discord, one per command family with a single text option, ``args``, that is the
rest of the command line (read by the same grammar as everywhere)."""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING, Any

from bot.clock import Clock, WallClock
from bot.http_client import HttpClient
from bot.i18n import Translator
from bot.settings import Settings
from commands.core.registry import CommandTable
from playbooks.messages import Text, t
from playbooks.people import Directory

if TYPE_CHECKING:
    from bot.adapters.discord_rest import DiscordRest

SETTINGS = (
    ("discord_bot_token", "SHIPWATCH_DISCORD_BOT_TOKEN"),
    ("discord_application_id", "SHIPWATCH_DISCORD_APPLICATION_ID"),
    ("discord_public_key", "SHIPWATCH_DISCORD_PUBLIC_KEY"),
)
UMBRELLA = "shipwatch"
ARGS = "args"  # the one option of every command: the rest of the command line
CHAT_INPUT, STRING = 1, 3
DESCRIPTION = 100  # Discord's limit on a command's or an option's description
# Discord's locale for Chinese as Shipwatch writes it.
LOCALES = {"zh": "zh-CN"}


def wanted(settings: Settings) -> bool:
    """Discord runs when any of its settings is given (and then needs all three)."""
    return any(getattr(settings, name) for name, _ in SETTINGS)


def problems(settings: Settings) -> list[Text]:
    """What keeps Discord from running, one sentence each; none when it is not set up at
    all. Said by ``shipwatch check``, and a reason not to start."""
    if not wanted(settings):
        return []
    found = [
        t("discord.setting_missing", setting=env)
        for name, env in SETTINGS
        if not getattr(settings, name)
    ]
    from bot.adapters.discord_interactions import public_key

    key = settings.discord_public_key
    if key and public_key(key) is None:
        found.append(t("discord.bad_public_key"))
    app_id = settings.discord_application_id
    if app_id and not app_id.isdigit():
        found.append(t("discord.bad_application_id"))
    return found


def rest_from(settings: Settings, *, clock: Clock | None = None) -> DiscordRest:
    from bot.adapters.discord_rest import DiscordRest

    assert settings.discord_bot_token is not None
    return DiscordRest(
        token=settings.discord_bot_token.get_secret_value(),
        api_url=settings.discord_api_url,
        http=HttpClient(),
        clock=clock or WallClock(),
    )


def adapter_from(settings: Settings, *, directory: Directory) -> Any:
    """The adapter, once ``problems`` is empty."""
    from bot.adapters.discord import DiscordAdapter
    from bot.adapters.discord_interactions import public_key

    assert settings.discord_application_id
    assert settings.discord_public_key
    clock = WallClock()
    return DiscordAdapter(
        rest=rest_from(settings, clock=clock),
        application_id=settings.discord_application_id,
        public_key=public_key(settings.discord_public_key),
        clock=clock,
        directory=directory,
        rooms_channel=settings.discord_rooms_channel,
        default_locale=settings.locale,
    )


def application_commands(table: CommandTable) -> list[dict[str, Any]]:
    """One chat input command per family, and ``/shipwatch`` for any command line."""
    commands = [_command(family, _verbs(table, family)) for family in table.families]
    commands.append(_command(UMBRELLA, ""))
    return commands


def _verbs(table: CommandTable, family: str) -> str:
    return ", ".join(sorted({s.verb for s in table.specs(family) if s.verb}))


def _command(name: str, verbs: str) -> dict[str, Any]:
    if name == UMBRELLA:
        about = t("discord.umbrella")
    elif verbs:
        about = t("discord.command", family=name, verbs=verbs)
    else:
        about = t("discord.command.plain", family=name)
    args = t("discord.args")

    def said(text: Text, locale: str) -> str:
        shown = Translator(locale, UTC)(text)
        return shown if len(shown) <= DESCRIPTION else shown[: DESCRIPTION - 1] + "…"

    def localized(text: Text) -> dict[str, str]:
        return {tag: said(text, locale) for locale, tag in LOCALES.items()}

    return {
        "name": name,
        "type": CHAT_INPUT,
        "description": said(about, "en"),
        "description_localizations": localized(about),
        "options": [
            {
                "name": ARGS,
                "type": STRING,
                "description": said(args, "en"),
                "description_localizations": localized(args),
                "required": False,
                "max_length": 1000,
            }
        ],
    }


async def register(
    rest: DiscordRest, application_id: str, commands: list[dict[str, Any]], *, guild: str | None
) -> list[str]:
    """Bulk overwrite: ``PUT /applications/{id}/commands`` (everywhere, may take a while
    to show) or ``…/guilds/{guild}/commands`` (one server, at once). The names registered."""
    if guild:
        path = f"/applications/{application_id}/guilds/{guild}/commands"
        template = "/applications/{application_id}/guilds/{guild_id}/commands"
    else:
        path = f"/applications/{application_id}/commands"
        template = "/applications/{application_id}/commands"
    from bot.adapters.discord_rest import Route

    answer = await rest.call(
        Route("PUT", template, path), commands, max_wait=10.0, what="the commands"
    )
    listed = answer if isinstance(answer, list) else []
    return [str(c.get("name")) for c in listed if isinstance(c, dict)]
