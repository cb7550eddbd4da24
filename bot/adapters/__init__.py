"""Chat platform adapters, built for every platform whose settings are present.

Each platform's module is imported only when it is configured, so a console-only
Shipwatch never pays for an SDK it does not use.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from bot.adapters.base import Adapter
from bot.config_dir import Config
from bot.settings import Settings

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
    return adapters


def _robot_platforms(settings: Settings, config: Config) -> dict[str, Adapter]:
    """DingTalk (robots, or the app secret for callbacks) and Feishu (robots)."""
    dingtalk_secret = settings.dingtalk_app_secret
    wanted_dingtalk = bool(config.robots.dingtalk) or dingtalk_secret is not None
    if not wanted_dingtalk and not config.robots.feishu:
        return {}
    from bot.action_links import signer_from
    from bot.clock import WallClock
    from bot.config_robots import MissingRobotSecret, robots
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
    try:
        if wanted_dingtalk:
            from bot.adapters.dingtalk import DingTalkAdapter

            built["dingtalk"] = DingTalkAdapter(
                robots=robots(config.robots.dingtalk, platform="dingtalk"),
                app_secret=dingtalk_secret.get_secret_value() if dingtalk_secret else None,
                api_url=settings.dingtalk_api_url,
                http=HttpClient(),
                clock=WallClock(),
                signer=signer,
                directory=config.directory,
            )
        if config.robots.feishu:
            from bot.adapters.feishu import FeishuAdapter

            built["feishu"] = FeishuAdapter(
                robots=robots(config.robots.feishu, platform="feishu"),
                api_url=settings.feishu_api_url,
                http=HttpClient(),
                clock=WallClock(),
                signer=signer,
                directory=config.directory,
            )
    except MissingRobotSecret as error:
        raise StartupError(str(error)) from None
    return built
