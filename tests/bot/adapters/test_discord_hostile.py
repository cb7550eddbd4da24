"""Properly signed Discord interactions of the wrong shape: valid JSON, but no ``data``,
options of the wrong type, a ``custom_id`` that is no text or holds a NUL, kinds Shipwatch
does not take. Each is refused (400, one sentence) or answered with one sentence; never a
500, never "something went wrong" for what the caller sent."""

from __future__ import annotations

import json
from typing import Any

import pytest

from storage.models import AuditEntry
from tests.bot.adapters.test_discord import (  # the signed rig and its fake Discord
    ALICE,
    OPS,
    Rig,
    nothing_happened,
    rig,
)
from tests.support import count

__all__ = ["rig"]
NUL_ARGS = "10m a\x00b"

REFUSED: list[tuple[str, dict[str, Any]]] = [
    ("no-data", {"type": 2}),
    ("data-null", {"type": 2, "data": None}),
    ("name-number", {"type": 2, "data": {"name": 5}}),
    ("type-99", {"type": 99, "data": {}}),
    ("type-modal", {"type": 5, "data": {"custom_id": "x"}}),
    ("type-text", {"type": "2", "data": {"name": "help"}}),
    ("type-float", {"type": 2.0, "data": {"name": "help"}}),
    ("select-menu", {"type": 3, "data": {"component_type": 3, "custom_id": "x"}}),
    ("custom-id-object", {"type": 3, "data": {"component_type": 2, "custom_id": {"a": 1}}}),
    ("custom-id-number", {"type": 3, "data": {"component_type": 2, "custom_id": 12}}),
    ("id-nul", {"type": 2, "data": {"name": "help"}, "id": "1\x00"}),
    ("channel-word", {"type": 2, "data": {"name": "help"}, "channel_id": "ops"}),
    ("token-nul", {"type": 2, "data": {"name": "help"}, "token": "t\x00"}),
]
REFUSED += [
    (f"value-{name}", {"type": 2, "data": {"name": "remind", "options": [o]}})
    for name, o in (
        ("object", {"name": "args", "value": {"a": 1}}),
        ("list", {"name": "args", "value": [1, 2]}),
        ("null", {"name": "args", "value": None}),
        ("number", {"name": "args", "value": 10}),
    )
]


def _body(rig: Rig, shape: dict[str, Any]) -> bytes:
    body = rig.interaction(2, {}, user=ALICE, channel=OPS)
    body.pop("data")
    body.update(shape)
    return json.dumps(body).encode()


@pytest.mark.parametrize(("label", "shape"), REFUSED, ids=[c[0] for c in REFUSED])
async def test_a_signed_body_of_the_wrong_shape_is_refused_and_runs_nothing(
    rig: Rig, label: str, shape: dict[str, Any]
) -> None:
    response = await rig.signed(_body(rig, shape))
    assert response.status == 400, label
    assert "not a Discord interaction Shipwatch takes" in (await response.json())["error"]
    nothing_happened(rig)


def _said(rig: Rig) -> str:
    """What the last call to the fake Discord showed the person."""
    body = rig.fake.calls[-1].body or {}
    return " ".join(e.get("description", "") for e in body.get("embeds", [])) + str(
        body.get("content", "")
    )


@pytest.mark.parametrize(
    "shape",
    [
        {
            "type": 2,
            "data": {"name": "remind", "options": [{"name": "args", "value": "10m a\x00b"}]},
        },
        {"type": 2, "data": {"name": "he\x00lp"}},
    ],
    ids=["nul-in-args", "nul-in-name"],
)
async def test_a_nul_in_a_command_is_named_and_nothing_is_kept(
    rig: Rig, shape: dict[str, Any]
) -> None:
    response = await rig.signed(_body(rig, shape))
    assert response.status == 200
    said = _said(rig)
    assert "cannot hold a NUL character" in said
    assert "went wrong" not in said
    assert count(rig, AuditEntry) == 0  # a usage refusal: nothing kept


@pytest.mark.parametrize(
    "custom_id",
    ["ack:\x00", "a" * 5000, "\u202e/release promote web"],
    ids=["nul", "too-long", "bidi-and-command"],
)
async def test_a_button_nobody_made_is_not_known(rig: Rig, custom_id: str) -> None:
    shape = {"type": 3, "data": {"component_type": 2, "custom_id": custom_id}}
    response = await rig.signed(_body(rig, shape))
    assert response.status == 200
    said = _said(rig)
    assert "That button is not known here" in said
    assert "went wrong" not in said
