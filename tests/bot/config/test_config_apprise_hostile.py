"""Junk where people.yaml names an Apprise target: ``env:`` or ``file:`` with nothing after
it, a ``file:`` that is a directory or far larger than a URL, a URL with spaces. ``shipwatch
check`` says one sentence for each and never prints a URL or its secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.adapters.apprise_targets import MAX_FILE_BYTES
from bot.cli import main
from tests.bot.config.test_config_apprise import ROLES
from tests.support import write

SECRET = "s3cret pw"
PEOPLE = """
people:
  - handle: alice
    name: Alice Chen
    identities:
      console: alice
      email: "env:"
      sms: "file:"
      push: "file:{folder}"
  - handle: bob
    name: Bob Li
    identities:
      email: "file:{big}"
      sms: "env:BOB_SMS_URL"
      push: "mailto://bob:{secret}@exa mple.com"
"""


def test_junk_references_each_get_one_sentence_and_no_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big"
    # A good URL, then far more than a URL: only the first few KiB are ever read.
    big.write_text("mailto://relay.example.com?to=bob@example.com\n" + "x" * MAX_FILE_BYTES * 4)
    people = PEOPLE.format(folder=tmp_path, big=big, secret=SECRET)
    write(tmp_path, "people.yaml", people)
    write(tmp_path, "roles.yaml", ROLES)
    monkeypatch.setenv("BOB_SMS_URL", f"twilio://AC1:{SECRET}@+1555 999/+1555")
    assert main(["check", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    lines = [line.strip() for line in err.splitlines()]
    assert lines[0] == "shipwatch: 6 Apprise target(s) cannot be used:"
    assert lines[1:] == [
        "people.yaml: alice: identities.email: names nothing after its prefix; write it like "
        "env:CAROL_EMAIL_URL",
        "people.yaml: alice: identities.sms: names nothing after its prefix; write it like "
        "file:/run/secrets/carol-email",
        f"people.yaml: alice: identities.push: the file {tmp_path} it names cannot be read, "
        "or is empty",
        f"people.yaml: bob: identities.email: the file {big} it names is larger than any URL "
        f"({MAX_FILE_BYTES} bytes at most); name the file that holds just the URL",
        "people.yaml: bob: identities.sms: env:BOB_SMS_URL does not hold an Apprise URL "
        "Shipwatch can send to; check its scheme and parts",
        "people.yaml: bob: identities.push: is not an Apprise URL Shipwatch can send to; "
        "write one like mailto://…, ntfy://… or twilio://… (see Apprise's list of services), "
        "or env:NAME / file:/path where it is kept",
    ]
    assert "s3cret" not in err
    assert out == ""
