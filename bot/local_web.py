"""The web console for someone at a terminal (``make run``, ``make console``, ``make
drill``): the HTTP server on a local port, links that point at it, and a key to sign
them with when none is configured, so that ``/web`` works on a laptop with nothing set.

The key made here lives as long as the process: a link or session from an earlier run
stops working, which is what a throwaway local run wants. A server with chat platforms
has its own ``SHIPWATCH_ACTION_LINK_SECRET`` (their buttons need it too)."""

from __future__ import annotations

import contextlib
import secrets
import socket

from pydantic import SecretStr

from bot.settings import Settings

LOOPBACK = "127.0.0.1"
# Addresses that listen everywhere: a browser on this machine reaches them on loopback.
ANY_ADDRESS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 (a name for it, not a bind)


def with_sign_in_key(settings: Settings) -> Settings:
    """``settings`` with a key for sign-in links: the configured one, else one made now."""
    if settings.action_link_secret is not None and settings.action_link_secret.get_secret_value():
        return settings
    return settings.model_copy(update={"action_link_secret": SecretStr(secrets.token_urlsafe(32))})


def for_this_terminal(settings: Settings) -> Settings:
    """Settings for a console that serves the web pages too: the configured port if it
    is free, else any free one; the public URL following the port unless it was set."""
    port = settings.http_port if _free(settings.http_host, settings.http_port) else 0
    if port == 0:
        port = _any_free_port(settings.http_host)
    update: dict[str, object] = {"http_port": port}
    if "public_url" not in settings.model_fields_set:
        host = LOOPBACK if settings.http_host in ANY_ADDRESS else settings.http_host
        update["public_url"] = f"http://{host}:{port}"
    return with_sign_in_key(settings.model_copy(update=update))


def _free(host: str, port: int) -> bool:
    if port == 0:
        return False
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _any_free_port(host: str) -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
