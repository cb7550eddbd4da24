"""Block Kit rendering of a Message: escaping, mentions, fields, buttons and colour."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.adapters.slack_blocks import FIELDS_PER_SECTION, render, unescape
from bot.i18n import Translator
from playbooks.messages import Button, ButtonStyle, Message, MessageField, Severity, raw
from tests.fakes.slack_api import block_error

TR = Translator("en", ZoneInfo("UTC"))
IDS = {"bob": "U0BOB"}


def test_text_is_escaped_and_known_handles_become_mentions() -> None:
    message = Message.of(raw("@bob: p99 <100 ms & rising; @zed is unknown"))
    out = render(message, TR, mention=IDS.get)
    [section] = out["blocks"]
    assert section["text"]["text"] == "<@U0BOB>: p99 &lt;100 ms &amp; rising; @zed is unknown"
    assert out["text"] == "@bob: p99 <100 ms & rising; @zed is unknown"


def test_a_handle_at_the_end_of_a_sentence_is_a_mention() -> None:
    out = render(Message.of(raw("Page #3 acknowledged by @bob.")), TR, mention=IDS.get)
    assert out["blocks"][0]["text"]["text"] == "Page #3 acknowledged by <@U0BOB>."


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


def _all_blocks(out: dict[str, object]) -> list[dict[str, object]]:
    if "attachments" in out:
        return out["attachments"][0]["blocks"]  # type: ignore[index,no-any-return]
    return out["blocks"]  # type: ignore[return-value]


def test_sections_are_measured_after_escaping_and_never_cut_inside_an_entity() -> None:
    # 1,000 "<>" pairs grow to 8,000 characters once escaped.
    message = Message.of(raw("@bob " + "<>" * 1000))
    out = render(message, TR, mention=IDS.get)
    texts = [b["text"]["text"] for b in _all_blocks(out)]
    assert all(len(text) <= 3000 for text in texts)
    joined = "".join(texts)
    assert joined == "<@U0BOB> " + "&lt;&gt;" * 1000
    for text in texts:
        assert not text.endswith(("&", "&l", "&lt", "&g", "&gt", "&a", "&am", "&amp"))
    assert block_error(out) is None


def test_a_600_line_listing_keeps_its_mention_and_buttons_and_says_what_it_left_out() -> None:
    lines = [f"@bob 2026-11-23 10:{i % 60:02d} event {i}: " + "detail " * 8 for i in range(600)]
    blocks = (raw("@bob: timeline of incident #1"), *(raw(line) for line in lines))
    buttons = (Button(raw("Acknowledge"), "/ack 1", ButtonStyle.PRIMARY, "tokack"),)
    out = render(Message(blocks, (), buttons), TR, mention=IDS.get)
    rendered = _all_blocks(out)
    assert len(rendered) <= 50
    assert block_error(out) is None, "Slack would refuse it"
    assert rendered[0]["text"]["text"].startswith("<@U0BOB>: timeline of incident #1")
    assert rendered[-1]["type"] == "actions"
    assert rendered[-1]["elements"][0]["action_id"] == "tokack"
    [note] = [b for b in rendered if b["type"] == "context"]
    shown = sum(1 for b in rendered if b["type"] == "section")
    left_out = 601 - shown
    assert note["elements"][0]["text"].startswith(f"… and {left_out} more line(s) not shown")


def test_a_long_field_is_shortened_with_a_note_not_silently() -> None:
    field = MessageField(raw("Timeline"), raw("\n".join(f"entry {i}" for i in range(600))))
    out = render(Message((raw("Incident"),), (field,)), TR, mention=IDS.get)
    [_, fields_block] = _all_blocks(out)
    [text] = [f["text"] for f in fields_block["fields"]]
    assert len(text) <= 2000
    assert text.startswith("*Timeline*\nentry 0\n")
    assert text.endswith("… (shortened: the whole value is 5889 characters)")
    assert block_error(out) is None


def test_typed_entities_are_decoded_on_the_way_in() -> None:
    assert unescape("p99 &gt; 100 &amp;&amp; errors &lt; 1%") == "p99 > 100 && errors < 1%"
    assert unescape("&amp;gt;") == "&gt;", "decoded once, as Slack encoded it once"
