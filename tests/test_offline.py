"""The suite never reaches a real chat platform (or anything else off this machine): a
connection beyond loopback fails the test before a packet leaves."""

from __future__ import annotations

import socket

import pytest


def test_a_connection_beyond_this_machine_fails_the_test() -> None:
    # 203.0.113.0/24 is TEST-NET-3: reserved, never routed; the guard refuses it anyway.
    with socket.socket() as probe, pytest.raises(AssertionError, match="stay on this machine"):
        probe.connect(("203.0.113.7", 443))


def test_loopback_stays_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=1):
            pass
