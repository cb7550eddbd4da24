"""Block Kit rendering of a Message: escaping, mentions, fields, buttons and colour."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.adapters.slack_blocks import FIELDS_PER_SECTION, render
from bot.i18n import Translator
from playbooks.messages import Button, ButtonStyle, Message, MessageField, Severity, raw

TR = Translator("en", ZoneInfo("UTC"))
IDS = {"bob": "U0BOB"}


def test_text_is_escaped_and_known_handles_become_mentions() -> None:
    message = Message.of(raw("@bob: p99 <100 ms & rising; @zed is unknown"))
    out = render(message, TR, mention=IDS.get)
    [section] = out["blocks"]
    assert section["text"]["text"] == "<@U0BOB>: p99 &lt;100 ms &amp; rising; @zed is unknown"
    assert out["text"] == "@bob: p99 <100 ms & rising; @zed is unknown"


def test_fields_are_grouped_ten_to_a_section_and_buttons_carry_their_token() -> None:
    fields = tuple(MessageField(raw(f"k{i}"), raw(f"v{i}")) for i in range(12))
    buttons = (
        Button(raw("Promote"), "/release promote web", ButtonStyle.PRIMARY, "tok1"),
        Button(raw("Roll back"), "/release rollback web", ButtonStyle.DANGER, "tok2"),
        Button(raw("Status"), "/release status web", ButtonStyle.DEFAULT, "tok3"),
        Button(raw("Unissued"), "/release status web"),  # no token: never rendered
    )
    out = render(Message((raw("Release"),), fields, buttons), TR, mention=IDS.get)
    blocks = out["blocks"]
    assert [len(b.get("fields", [])) for b in blocks[1:3]] == [FIELDS_PER_SECTION, 2]
    assert blocks[1]["fields"][0]["text"] == "*k0*\nv0"
    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert [(e["action_id"], e.get("style")) for e in actions["elements"]] == [
        ("tok1", "primary"),
        ("tok2", "danger"),
        ("tok3", None),
    ]


def test_severity_colours_the_message_and_long_text_is_split_at_lines() -> None:
    long = "\n".join(f"line {i:04d} " + "x" * 40 for i in range(120))
    out = render(Message.of(raw(long), severity=Severity.DANGER), TR, mention=IDS.get)
    [attachment] = out["attachments"]
    assert attachment["color"] == "#e01e5a"
    parts = [b["text"]["text"] for b in attachment["blocks"]]
    assert len(parts) > 1
    assert all(len(p) <= 3000 for p in parts)
    assert "\n".join(parts) == long
