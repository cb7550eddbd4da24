"""Mattermost's rendering: what people typed shown as typed (no markdown, no @channel),
people mentioned by username, buttons sealed for their channel and reader, and a message
too long for one post fitted with a note."""

from __future__ import annotations

from datetime import UTC

from bot.action_links import LinkSigner
from bot.adapters.mattermost_render import MESSAGE_CHARS, Seal, escape, render, seal, unseal
from bot.i18n import Translator
from playbooks.messages import Button, ButtonStyle, Message, Severity, raw

TR = Translator("en", UTC)
SIGNER = LinkSigner("secret", public_url="https://shipwatch.example.com")


def test_typed_text_is_shown_as_typed() -> None:
    text = "[Ack](https://evil.example) **bold** `code` @channel @all\n# heading\n1. one\n- item"
    shown = escape(text)
    assert "](https" not in shown.replace("\\]", "")
    assert "@channel" not in shown
    assert "@all" not in shown
    assert shown.splitlines()[1].startswith("\\#")
    assert shown.splitlines()[2].startswith("1\\.")
    assert shown.splitlines()[3].startswith("\\-")


def test_people_are_mentioned_by_username_and_others_are_not() -> None:
    message = Message.of(raw("@bob is paged; @stranger is not a person here; asked by @bob."))
    post = render(message, TR, usernames={"bob": "bob.smith"}.get, seal_with=None)
    assert post["message"].startswith("@bob.smith is paged")
    assert post["message"].endswith("asked by @bob.smith.")
    assert "@stranger" not in post["message"]


def test_buttons_carry_a_context_sealed_for_their_channel_and_reader() -> None:
    message = Message(
        blocks=(raw("Page #1"),),
        buttons=(Button(raw("Acknowledge"), "/ack 1", ButtonStyle.PRIMARY, "tok123"),),
        severity=Severity.DANGER,
    )
    where = Seal("https://shipwatch.example.com/mattermost/actions", SIGNER, "bobid", "dmid")
    post = render(message, TR, usernames=lambda _: None, seal_with=where)
    [action] = post["props"]["attachments"][0]["actions"]
    assert (action["name"], action["style"], action["type"]) == ("Acknowledge", "primary", "button")
    sealed = action["integration"]["context"]["action"]
    assert unseal(SIGNER, sealed) == ("bobid", "dmid", "tok123")
    # Sealed for Mattermost's buttons only: an action link's payload is not a context, and
    # another secret's seal is refused.
    link_payload = SIGNER.link("tok123", platform="mattermost", user_id="bobid").rsplit("/", 1)[1]
    assert unseal(SIGNER, link_payload) is None
    other = LinkSigner("another", public_url="https://x")
    assert unseal(SIGNER, seal(other, token="tok123", recipient="", channel_id="c")) is None


def test_without_a_secret_buttons_are_the_commands_to_type() -> None:
    message = Message(blocks=(raw("Page #1"),), buttons=(Button(raw("Acknowledge"), "/ack 1"),))
    post = render(message, TR, usernames=lambda _: None, seal_with=None)
    assert "Acknowledge: send /ack 1" in post["message"]
    assert "props" not in post


def test_a_long_message_is_fitted_with_a_note() -> None:
    body = tuple(raw(f"line {n} " + "x" * 80) for n in range(400))
    post = render(
        Message(blocks=(raw("Report"), *body)), TR, usernames=lambda _: None, seal_with=None
    )
    assert len(post["message"]) <= MESSAGE_CHARS
    assert post["message"].startswith("Report")
    assert "more line(s) not shown" in post["message"]
