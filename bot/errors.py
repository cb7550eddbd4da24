"""Errors of the runtime itself, raised before anyone is talking to Shipwatch."""

from __future__ import annotations


class StartupError(Exception):
    """Shipwatch cannot start; the message says why and what to do."""
