"""A NUL character in a command line: named in one sentence before anything is written
(PostgreSQL refuses one in any text, so it used to end in "something went wrong"), and a
button token holding one is simply not known."""

from __future__ import annotations

import pytest

from tests.conftest import HarnessFactory

pytestmark = pytest.mark.usefixtures("database_url")


@pytest.mark.parametrize(
    "line",
    ["/remind 10m a\x00b", "/incident open x\x00y --sev P2", "/he\x00lp"],
    ids=["reminder", "incident", "family"],
)
async def test_a_nul_in_a_command_is_a_usage_error(make_harness: HarnessFactory, line: str) -> None:
    h = await make_harness()
    outcome = await h.say(line, user="alice")
    assert outcome.status == "usage"
    assert "cannot hold a NUL character" in h.reply_text(outcome)


async def test_a_nul_in_a_command_is_said_in_chinese(make_harness: HarnessFactory) -> None:
    h = await make_harness(locale="zh")
    outcome = await h.say("/remind 10m a\x00b", user="alice")
    assert "NUL 字符" in h.reply_text(outcome)


async def test_a_pressed_token_holding_a_nul_is_not_known(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    outcome = await h.press("ab\x00cd", user="alice")
    assert outcome.status == "usage"
    assert "not known here" in h.reply_text(outcome)
