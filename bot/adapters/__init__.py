"""Chat platform adapters, built for every platform whose settings are present.

Each platform's module is imported only when it is configured, so a console-only
Shipwatch never pays for an SDK it does not use.
"""

from __future__ import annotations

from bot.adapters.base import Adapter
from bot.config_dir import Config
from bot.settings import Settings


def build(settings: Settings, config: Config) -> dict[str, Adapter]:
    """The chat adapters to run, by platform name, in the order they were configured."""
    adapters: dict[str, Adapter] = {}
    if settings.telegram_token is not None:
        from bot.adapters import telegram

        adapters["telegram"] = telegram.from_settings(settings)
    return adapters
