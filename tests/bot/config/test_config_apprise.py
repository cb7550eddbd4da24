"""Ways through Apprise in the config: an escalation step's ``via``, a person's Apprise
URL kept as a secret reference, and ``shipwatch check`` naming what cannot be used
without ever printing a URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import adapters
from bot.adapters.apprise_targets import resolve, targets
from bot.cli import main
from bot.config.directory import load
from bot.errors import StartupError
from bot.settings import Settings
from tests.bot.config.test_config_teams import TEAM, own_people
from tests.support import only_problem, write

SECRET = "s3cret-app-password"
PEOPLE = f"""
people:
  - handle: alice
    name: Alice Chen
    identities: {{console: alice, email: env:ALICE_EMAIL_URL}}
  - handle: bob
    name: Bob Li
    identities:
      push: "ntfy://ntfy.example.com/bob-pages"
      sms: "file:{{secrets}}/bob-sms"
      email: "mailto://bob:{SECRET}@example.com"
"""
ROLES = "roles:\n  admin: [alice]\n"


def via_team(via: str) -> str:
    return TEAM.format(manager="alice", target="'@bob'").replace(
        "- {notify: primary}", f"- {{notify: primary, via: {via}}}"
    )


@pytest.mark.parametrize(
    ("via", "said"),
    [
        ("[slack, sms]", None),
        ("every", None),
        ("[slack, smss]", "via names 'smss', which is not a way to reach someone; use console"),
        ("[every, sms]", "via: every means every way they have; write it alone"),
        ("[]", "via lists the ways to reach them, like [slack, sms], or says every"),
        ("[sms, sms]", "via names a way twice"),
    ],
)
def test_a_steps_ways_are_checked(tmp_path: Path, via: str, said: str | None) -> None:
    own_people(tmp_path)
    write(tmp_path, "teams.yaml", via_team(via))
    if said is None:
        step = load(tmp_path).teams["api"].policy.steps[0]
        assert step.via == (("slack", "sms") if via != "every" else ("every",))
        return
    problem = only_problem(tmp_path)
    assert problem.field == "teams.api.escalation.steps[0].via"
    assert said in problem.problem
    assert problem.line == 10


def test_a_reference_is_resolved_and_a_credential_is_never_inline(tmp_path: Path) -> None:
    (tmp_path / "bob-sms").write_text("twilio://AC1:tok@+15559990000/+15550001111\n")
    environ = {"ALICE_EMAIL_URL": "mailtos://alice:pw@smtp.example.com?to=alice@example.com"}
    email, problem = resolve("env:ALICE_EMAIL_URL", environ=environ)
    assert problem is None
    assert email is not None
    assert email.service == "E-Mail"
    sms, _ = resolve(f"file:{tmp_path}/bob-sms", environ={})
    assert sms is not None
    assert sms.url.startswith("twilio://")
    push, _ = resolve("ntfy://ntfy.example.com/bob-pages", environ={})
    assert push is not None, "nothing to hide: inline is fine"
    _, problem = resolve(f"mailto://bob:{SECRET}@example.com", environ={})
    assert problem is not None
    assert problem.key == "apprise.inline_secret"
    _, problem = resolve("env:NOBODY_SET_THIS", environ={})
    assert problem is not None
    assert problem.key == "apprise.missing_env"
    _, problem = resolve("U0123", environ={})
    assert problem is not None
    assert problem.key == "apprise.bad_url"
    _, problem = resolve("env:BAD", environ={"BAD": "nonsense://x"})
    assert problem is not None
    assert problem.key == "apprise.bad_url_in"


def test_check_names_every_target_that_cannot_be_used_and_no_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    write(tmp_path, "people.yaml", PEOPLE.replace("{secrets}", str(secrets)))
    write(tmp_path, "roles.yaml", ROLES)
    write(tmp_path, "channels.yaml", 'email:\n  "#ops": env:OPS_LIST_URL\n')
    monkeypatch.delenv("ALICE_EMAIL_URL", raising=False)
    monkeypatch.setenv(
        "OPS_LIST_URL", "mailto://relay.example.com?from=shipwatch@example.com&to=ops@example.com"
    )
    code = main(["check", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    lines = [line.strip() for line in err.splitlines()]
    assert lines == [
        "shipwatch: 3 Apprise target(s) cannot be used:",
        "people.yaml: alice: identities.email: the environment variable ALICE_EMAIL_URL it "
        "names is not set",
        f"people.yaml: bob: identities.sms: the file {secrets}/bob-sms it names cannot be "
        "read, or is empty",
        "people.yaml: bob: identities.email: this E-Mail URL carries a credential; keep it in "
        "an environment variable or a file and write env:NAME or file:/path here instead",
    ]
    assert SECRET not in err

    monkeypatch.setenv("ALICE_EMAIL_URL", "mailtos://alice:pw@smtp.example.com")
    (secrets / "bob-sms").write_text("twilio://AC1:tok@+15559990000/+15550001111\n")
    relay = "mailto://relay.example.com?from=pager@example.com&to=bob@example.com"
    people = PEOPLE.replace("{secrets}", str(secrets))
    write(tmp_path, "people.yaml", people.replace(f"mailto://bob:{SECRET}@example.com", relay))
    assert main(["check", str(tmp_path)]) == 0
    found = targets(load(tmp_path))
    assert found.ways() == ["email", "sms", "push"]


def test_start_refuses_a_target_it_cannot_use_and_runs_a_lane_per_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "people.yaml", PEOPLE.replace("{secrets}", str(tmp_path)))
    write(tmp_path, "roles.yaml", ROLES)
    monkeypatch.delenv("ALICE_EMAIL_URL", raising=False)
    settings = Settings(action_link_secret="link-secret-for-tests")  # type: ignore[arg-type]
    with pytest.raises(StartupError) as refused:
        adapters.build(settings, load(tmp_path))
    said = str(refused.value)
    assert "people.yaml: alice: identities.email: the environment variable ALICE_EMAIL_URL" in said
    assert SECRET not in said

    monkeypatch.setenv("ALICE_EMAIL_URL", f"mailtos://alice:{SECRET}@smtp.example.com")
    (tmp_path / "bob-sms").write_text("twilio://AC1:tok@+15559990000/+15550001111\n")
    people = PEOPLE.replace("{secrets}", str(tmp_path)).replace(f"bob:{SECRET}@", "")
    relay = "mailto://example.com?from=p@example.com&to=bob@example.com"
    write(tmp_path, "people.yaml", people.replace('"mailto://example.com"', f'"{relay}"'))
    built = adapters.build(settings, load(tmp_path))
    assert list(built) == ["email", "sms", "push"]
    assert not built["email"].capabilities.callback_buttons
