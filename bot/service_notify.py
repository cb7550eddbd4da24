"""Tell systemd (``Type=notify``) when the bot is ready and when it is stopping."""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger("shipwatch.service")


def notify(state: str) -> bool:
    """Send ``state`` (``READY=1``, ``STOPPING=1``, ``STATUS=…`` lines) to ``$NOTIFY_SOCKET``.

    The sd_notify protocol: one datagram on a unix socket, an address starting with '@'
    in the abstract namespace. Without the variable (not started by systemd) nothing is
    sent; a socket that cannot be reached is logged, never fatal: the bot serves anyway
    and systemd's start timeout says the rest.
    """
    address = os.environ.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if not address.startswith(("/", "@")):
        log.warning("NOTIFY_SOCKET is not a unix socket; not notifying", extra={"to": address})
        return False
    target = "\0" + address[1:] if address.startswith("@") else address
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto(state.encode("utf-8"), target)
    except OSError as error:
        log.warning(
            "could not notify the service manager",
            extra={"to": address, "reason": error.strerror or str(error)},
        )
        return False
    return True
