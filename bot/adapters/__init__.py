"""Chat platform adapters, built for every platform whose settings are present.

Each platform's module is imported only when it is configured, so a console-only
Shipwatch never pays for an SDK it does not use.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.adapters.base import Adapter
from bot.config.directory import Config
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.adapters.dingtalk_app import DingTalkApp
    from bot.adapters.feishu_app import FeishuApp
    from bot.clock import Clock
    from bot.http_client import HttpClient

log = logging.getLogger("shipwatch.adapters")


def build(settings: Settings, config: Config) -> dict[str, Adapter]:
    """The chat adapters to run, by platform name, in the order they were configured."""
    adapters: dict[str, Adapter] = {}
    if settings.slack_bot_token is not None:
        from bot.adapters.slack import SlackAdapter

        adapters["slack"] = SlackAdapter.from_settings(settings, directory=config.directory)
    if settings.telegram_token is not None:
        from bot.adapters import telegram

        adapters["telegram"] = telegram.from_settings(settings)
    adapters.update(_robot_platforms(settings, config))
    from bot.adapters import discord_setup

    if discord_setup.wanted(settings):
        from bot.errors import StartupError
        from bot.i18n import Translator

        tr = Translator("en", settings.tz)
        problems = discord_setup.problems(settings)
        if problems:
            raise StartupError(" ".join(tr(problem) for problem in problems))
        adapters["discord"] = discord_setup.adapter_from(settings, directory=config.directory)
    if settings.mattermost_wanted:
        adapters["mattermost"] = _mattermost(settings, config)
    adapters.update(_apprise_ways(settings, config))
    return adapters


def _mattermost(settings: Settings, config: Config) -> Adapter:
    """The bot account's REST API client and the slash commands' tokens; a missing piece
    stops the start with what to set (``shipwatch check`` says the same)."""
    from bot.action_links import signer_from
    from bot.adapters.mattermost import MattermostAdapter
    from bot.errors import StartupError

    missing = settings.mattermost_missing()
    needed = [m for m in missing if m != "SHIPWATCH_MATTERMOST_COMMAND_TOKENS"]
    if needed:
        raise StartupError(
            f"Mattermost is configured but {' and '.join(needed)} is not set; set it (the "
            "server's address and the bot account's personal access token), or unset the "
            "other SHIPWATCH_MATTERMOST_* settings"
        )
    if missing:
        log.warning(
            "SHIPWATCH_MATTERMOST_COMMAND_TOKENS is not set: slash commands are refused "
            "until it holds each command's token"
        )
    signer = signer_from(settings.action_link_secret, public_url=settings.public_url)
    if signer is None:
        log.warning(
            "SHIPWATCH_ACTION_LINK_SECRET is not set: Mattermost buttons show the command "
            "to type instead"
        )
    assert settings.mattermost_url is not None
    assert settings.mattermost_token is not None
    return MattermostAdapter(
        url=settings.mattermost_url,
        token=settings.mattermost_token.get_secret_value(),
        command_tokens=settings.mattermost_command_token_list(),
        team=settings.mattermost_team,
        room_type=settings.mattermost_room_type,
        signer=signer,
        public_url=settings.public_url,
        directory=config.directory,
        default_locale=settings.locale,
    )


def _apprise_ways(settings: Settings, config: Config) -> dict[str, Adapter]:
    """Email, SMS, push and the rest through Apprise, for every way people.yaml or
    channels.yaml gives a target; a target that cannot be resolved stops the start."""
    from datetime import UTC

    from bot.adapters.apprise_targets import targets
    from bot.i18n import Translator

    found = targets(config)
    if found.problems:
        from bot.errors import StartupError

        english = Translator("en", UTC)
        raise StartupError("; ".join(english(problem) for problem in found.problems))
    if not found.found:
        return {}
    from bot.action_links import signer_from
    from bot.logs import also_hide

    also_hide(secret for target in found.found.values() for secret in target.secrets())
    from bot.adapters.apprise_adapter import AppriseAdapter

    signer = signer_from(settings.action_link_secret, public_url=settings.public_url)
    if signer is None:
        log.warning(
            "SHIPWATCH_ACTION_LINK_SECRET is not set: pages by email, SMS and push show the "
            "command to type instead of a link to acknowledge them"
        )
    return {
        way: AppriseAdapter(
            way, targets=found.found, signer=signer, timeout=settings.apprise_timeout
        )
        for way in found.ways()
    }


def _robot_platforms(settings: Settings, config: Config) -> dict[str, Adapter]:
    """DingTalk (robots, or the app secret for callbacks) and Feishu (robots, or its app)."""
    _check_pairs(settings)
    dingtalk_secret = settings.dingtalk_app_secret
    wanted_dingtalk = bool(config.robots.dingtalk) or dingtalk_secret is not None
    feishu_app = settings.feishu_app_id is not None and settings.feishu_app_secret is not None
    feishu_token = settings.feishu_verification_token
    wanted_feishu = bool(config.robots.feishu) or feishu_app or feishu_token is not None
    if not wanted_dingtalk and not wanted_feishu:
        return {}
    from bot.action_links import signer_from
    from bot.clock import WallClock
    from bot.config.robots import MissingRobotSecret, robots
    from bot.errors import StartupError
    from bot.http_client import HttpClient

    signer = signer_from(settings.action_link_secret, public_url=settings.public_url)
    if signer is None:
        log.warning(
            "SHIPWATCH_ACTION_LINK_SECRET is not set: DingTalk and Feishu buttons show the "
            "command to type instead of a one-time link"
        )
    elif urlsplit(settings.public_url).hostname in ("127.0.0.1", "localhost", "::1"):
        log.warning(
            "SHIPWATCH_PUBLIC_URL is this machine's loopback address: action links in "
            "DingTalk and Feishu will not open on people's phones; set it to the public address"
        )
    built: dict[str, Adapter] = {}
    clock = WallClock()
    try:
        if wanted_dingtalk:
            from bot.adapters.dingtalk import DingTalkAdapter

            http = HttpClient()
            built["dingtalk"] = DingTalkAdapter(
                robots=robots(config.robots.dingtalk, platform="dingtalk"),
                app_secret=dingtalk_secret.get_secret_value() if dingtalk_secret else None,
                api_url=settings.dingtalk_api_url,
                http=http,
                clock=clock,
                signer=signer,
                directory=config.directory,
                app=_dingtalk_app(settings, http=http, clock=clock),
                default_locale=settings.locale,
            )
        if wanted_feishu:
            from bot.adapters.feishu import FeishuAdapter

            http = HttpClient()
            built["feishu"] = FeishuAdapter(
                robots=robots(config.robots.feishu, platform="feishu"),
                api_url=settings.feishu_api_url,
                http=http,
                clock=clock,
                signer=signer,
                directory=config.directory,
                app=_feishu_app(settings, http=http, clock=clock),
                verification_token=feishu_token.get_secret_value() if feishu_token else None,
                default_locale=settings.locale,
            )
    except MissingRobotSecret as error:
        raise StartupError(str(error)) from None
    return built


def _check_pairs(settings: Settings) -> None:
    """An app needs both halves of its credentials; one alone is a mistake worth a stop.
    (DingTalk's app secret alone is fine: it checks the callback.)"""
    from bot.errors import StartupError

    half = None
    if settings.dingtalk_app_key and settings.dingtalk_app_secret is None:
        half = ("SHIPWATCH_DINGTALK_APP_KEY", "SHIPWATCH_DINGTALK_APP_SECRET")
    elif settings.feishu_app_id and settings.feishu_app_secret is None:
        half = ("SHIPWATCH_FEISHU_APP_ID", "SHIPWATCH_FEISHU_APP_SECRET")
    elif settings.feishu_app_secret is not None and not settings.feishu_app_id:
        half = ("SHIPWATCH_FEISHU_APP_SECRET", "SHIPWATCH_FEISHU_APP_ID")
    if half is not None:
        raise StartupError(
            f"{half[0]} is set but {half[1]} is not; set both (from the app's credentials "
            "page in the developer console), or neither"
        )


def _dingtalk_app(settings: Settings, *, http: HttpClient, clock: Clock) -> DingTalkApp | None:
    """The app's robot for direct messages, when its key and secret are both set."""
    secret = settings.dingtalk_app_secret
    if not settings.dingtalk_app_key or secret is None:
        return None
    from bot.adapters.dingtalk_app import DingTalkApp

    return DingTalkApp(
        app_key=settings.dingtalk_app_key,
        app_secret=secret.get_secret_value(),
        robot_code=settings.dingtalk_robot_code or settings.dingtalk_app_key,
        api_url=settings.dingtalk_app_api_url,
        http=http,
        clock=clock,
    )


def _feishu_app(settings: Settings, *, http: HttpClient, clock: Clock) -> FeishuApp | None:
    secret = settings.feishu_app_secret
    if not settings.feishu_app_id or secret is None:
        return None
    from bot.adapters.feishu_app import FeishuApp

    return FeishuApp(
        app_id=settings.feishu_app_id,
        app_secret=secret.get_secret_value(),
        api_url=settings.feishu_api_url,
        http=http,
        clock=clock,
    )
