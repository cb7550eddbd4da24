"""Mattermost bodies of the wrong shape, with the right token: a text that is not text,
ids holding a NUL, a context of the wrong type. Each is refused with one sentence (or
answered with one), never a 500, never "something went wrong" for what the caller sent,
and nothing is run."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.bot.adapters.test_mattermost import CHANNELS, IDS, TOKENS, Rig, audit, rig

__all__ = ["rig"]
JSON = "application/json"


def command(**over: Any) -> str:
    fields = {
        "channel_id": CHANNELS["ops"],
        "command": "/help",
        "text": "",
        "trigger_id": "trigger1",
        "user_id": IDS["alice"],
        "token": TOKENS[1],
    }
    return json.dumps({**fields, **over})


def press(**over: Any) -> str:
    return json.dumps({"user_id": "u", "channel_id": "c", "context": {"action": "x"}, **over})


REFUSED = [
    ("text-object", "command", command(text={"a": 1}), 400),
    ("trigger-list", "command", command(trigger_id=["t"]), 400),
    ("trigger-nul", "command", command(trigger_id="t\x00"), 400),
    ("channel-nul", "command", command(channel_id="c\x00"), 400),
    ("user-nul", "command", command(user_id=IDS["alice"] + "\x00"), 400),
    ("user-number", "command", command(user_id=5), 400),
    ("token-list", "command", command(token=[TOKENS[1]]), 401),
    ("context-text", "actions", press(context="x"), 403),
    ("action-number", "actions", press(context={"action": 5}), 403),
    ("context-list", "actions", press(context=[1]), 403),
    ("post-id-object", "actions", press(post_id={}), 400),
    ("user-nul-press", "actions", press(user_id="u\x00"), 400),
    ("channel-null", "actions", press(channel_id=None), 400),
]


@pytest.mark.parametrize(
    ("path", "body", "status"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED]
)
async def test_a_body_of_the_wrong_shape_is_refused_and_runs_nothing(
    rig: Rig, path: str, body: str, status: int
) -> None:
    response = await rig.client.post(
        f"{rig.url}/mattermost/{path}", data=body, headers={"Content-Type": JSON}
    )
    answer = await response.json()
    await rig.app.settle()
    assert response.status == status, answer
    assert answer["error"]
    assert audit(rig.app) == []
    assert rig.fake.calls == []


async def test_a_nul_in_the_text_is_named(rig: Rig) -> None:
    status, answer = await rig.command("/remind", "10m a\x00b")
    assert status == 200
    assert "cannot hold a NUL character" in answer["text"]
    assert "went wrong" not in answer["text"]
