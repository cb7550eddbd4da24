"""Signing in to the web console with a one-time link, the session cookie, the form token
on every POST, and signing out: on both databases, through the real HTTP server."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from sqlmodel import select

from bot.config.directory import DEFAULTS
from bot.sign_in_links import SignInLinkSigner
from bot.web.console.sessions import current_viewer
from bot.web.console.viewer import Viewer
from commands.core.invocations import CommandInvocation
from playbooks.effects import Conversation
from storage.models import AuditEntry, WebSession
from storage.unit_of_work import unit_of_work
from tests.bot.web.console.support import (
    HOME,
    SECRET,
    SignedIn,
    sign_in_link,
    signed_in,
    web_client,
)
from tests.conftest import Harness, HarnessFactory


async def _harness(make_harness: HarnessFactory, **settings: object) -> Harness:
    h: Harness = await make_harness(action_link_secret=SECRET, **settings)
    return h


def _sessions(h: Harness) -> list[WebSession]:
    with unit_of_work(h.app.engine) as session:
        return list(session.exec(select(WebSession)).all())


def _audit(h: Harness) -> list[AuditEntry]:
    with unit_of_work(h.app.engine) as session:
        return list(session.exec(select(AuditEntry)).all())


async def test_a_person_signs_in_through_the_link_and_lands_on_the_incidents_page(
    make_harness: HarnessFactory,
) -> None:
    h = await _harness(make_harness)
    alice = await signed_in(h, "alice")
    page = await alice.client.get(HOME)
    assert page.status == 200
    body = await page.text()
    assert "Alice Chen" in body
    assert '<html lang="en">' in body
    assert '<script src="/web/static/console.js" defer></script>' in body
    [row] = _sessions(h)
    # Only a hash of the session id is stored.
    assert row.handle == "alice"
    assert row.id_hash != alice.session_cookie
    assert alice.session_cookie not in row.id_hash
    assert len(row.id_hash) == 64
    assert row.csrf == alice.csrf
    # /web itself leads to the same page.
    home = await alice.client.get("/web", allow_redirects=False)
    assert (home.status, home.headers["Location"]) == (303, HOME)


async def test_the_link_page_names_the_person_and_a_preview_robot_does_not_spend_it(
    make_harness: HarnessFactory,
) -> None:
    h = await _harness(make_harness)
    client = await web_client(h)
    link = await sign_in_link(h, "bob")
    for _ in range(3):  # Slack's unfurler, a mail scanner, the person
        shown = await client.get(link)
        assert shown.status == 200
        body = await shown.text()
        assert "Sign in as Bob Li" in body
        assert '<form method="post">' in body
    assert _sessions(h) == []
    confirmed = await client.post(link, allow_redirects=False)
    assert confirmed.status == 303
    assert [s.handle for s in _sessions(h)] == ["bob"]


async def test_a_link_works_once(make_harness: HarnessFactory) -> None:
    h = await _harness(make_harness)
    first, second = await web_client(h), await web_client(h)
    link = await sign_in_link(h, "alice")
    assert (await first.post(link, allow_redirects=False)).status == 303
    again = await second.post(link, allow_redirects=False)
    assert again.status == 409
    assert "used already" in await again.text()
    assert "shipwatch_session" not in again.cookies
    assert (await second.get(link)).status == 409
    assert len(_sessions(h)) == 1


async def test_an_expired_link_signs_nobody_in(make_harness: HarnessFactory) -> None:
    h = await _harness(make_harness, web_link_minutes=15)
    client = await web_client(h)
    link = await sign_in_link(h, "alice")
    await h.advance(minutes=15, seconds=1)
    for response in (await client.get(link), await client.post(link, allow_redirects=False)):
        assert response.status == 410
        assert "expired" in await response.text()
    assert _sessions(h) == []


async def test_a_forged_or_altered_link_signs_nobody_in(make_harness: HarnessFactory) -> None:
    h = await _harness(make_harness)
    client = await web_client(h)
    link = await sign_in_link(h, "mallory")
    payload, _, signature = link.rsplit("/", 1)[1].partition(".")
    # Alice's link, signed with another secret; mallory's payload with a changed letter;
    # and no signature at all.
    elsewhere = SignInLinkSigner("another secret", public_url="http://x", minutes=15)
    forged = "/web/signin/" + elsewhere.link("alice", h.clock.now()).rsplit("/", 1)[1]
    altered = f"/web/signin/{payload[:-1]}{'A' if payload[-1] != 'A' else 'B'}.{signature}"
    for path in (forged, altered, f"/web/signin/{payload}", "/web/signin/%ff%fe.x"):
        for response in (await client.get(path), await client.post(path)):
            assert response.status == 403, path
            assert "not one Shipwatch issued" in await response.text()
    assert _sessions(h) == []


async def test_a_link_signs_in_only_the_person_it_was_issued_to(
    make_harness: HarnessFactory,
) -> None:
    h = await _harness(make_harness)
    bob = await signed_in(h, "bob")
    # Alice's link opened in Bob's browser names Alice, and signing in makes it Alice's.
    link = await sign_in_link(h, "alice")
    shown = await (await bob.client.get(link)).text()
    assert "Sign in as Alice Chen" in shown
    assert "Bob Li" not in shown
    # A genuine signature over someone Shipwatch does not know (a handle since removed).
    signer = SignInLinkSigner(SECRET, public_url="http://x", minutes=15)
    nobody = "/web/signin/" + signer.link("eve", h.clock.now()).rsplit("/", 1)[1]
    refused = await bob.client.post(nobody)
    assert refused.status == 403
    assert "no longer knows" in await refused.text()
    assert sorted(s.handle for s in _sessions(h)) == ["bob"]


async def test_another_site_cannot_post_a_link_into_the_browser(
    make_harness: HarnessFactory,
) -> None:
    h = await _harness(make_harness)
    client = await web_client(h)
    link = await sign_in_link(h, "mallory")
    for headers in (
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site", "Origin": "null"},
        {"Sec-Fetch-Site": "same-site"},
    ):
        refused = await client.post(link, headers=headers)
        assert refused.status == 403
        assert "did not come from your current Shipwatch page" in await refused.text()
    assert _sessions(h) == []
    own = f"http://{client.host}:{client.port}"
    assert (await client.post(link, headers={"Origin": own}, allow_redirects=False)).status == 303


async def test_without_a_session_a_page_leads_to_sign_in_and_a_post_is_refused(
    make_harness: HarnessFactory,
) -> None:
    h = await _harness(make_harness)
    client = await web_client(h)
    for path in ("/web/incidents", "/web/releases/3", "/web/events", "/web"):
        response = await client.get(path, allow_redirects=False)
        assert (response.status, response.headers["Location"]) == (303, "/web/signin"), path
    how = await client.get("/web/signin")
    assert how.status == 200
    text = await how.text()
    assert "type /web in chat" in text
    assert '<p lang="zh-CN" class="other">如需登录，请在聊天中输入 /web' in text
    zh = await (await client.get("/web/signin", headers={"Accept-Language": "zh-CN"})).text()
    assert '<html lang="zh-CN">' in zh
    refused = await client.post("/web/signout", data={"csrf": "x"})
    assert refused.status == 403
    assert "You are not signed in" in await refused.text()
    # A cookie that names no session is no session.
    client.session.cookie_jar.update_cookies({"shipwatch_session": "made-up"})
    response = await client.get("/web/incidents", allow_redirects=False)
    assert response.status == 303
    # The script is open: it holds nothing but code.
    script = await client.get("/web/static/console.js")
    assert script.status == 200
    assert script.content_type == "text/javascript"
    assert "EventSource" in await script.text()
    assert (await client.get("/web/static/nothing.js")).status == 404


async def test_a_post_without_the_form_token_is_refused_and_does_nothing(
    make_harness: HarnessFactory,
) -> None:
    h = await _harness(make_harness)
    alice = await signed_in(h, "alice")
    for data, headers in (
        ({}, {}),
        ({"csrf": "not-it"}, {}),
        ({"csrf": alice.csrf[:-1]}, {}),
        ({"csrf": alice.csrf}, {"X-CSRF-Token": "not-it"}),
    ):
        refused = await alice.client.post("/web/signout", data=data, headers=headers)
        assert refused.status == 403
        assert "did not come from your current Shipwatch page" in await refused.text()
    assert [s.revoked for s in _sessions(h)] == [False]
    assert (await alice.client.get(HOME)).status == 200
    # The token as a header will do (a script's POST).
    done = await alice.client.post(
        "/web/signout", headers={"X-CSRF-Token": alice.csrf}, allow_redirects=False
    )
    assert done.status == 303


async def test_signing_out_ends_all_of_the_persons_sessions_and_is_audited_as_web(
    make_harness: HarnessFactory,
) -> None:
    h = await _harness(make_harness)
    laptop, phone = await signed_in(h, "alice"), await signed_in(h, "alice")
    bob = await signed_in(h, "bob")
    out = await laptop.client.post("/web/signout", data=laptop.form(), allow_redirects=False)
    assert (out.status, out.headers["Location"]) == (303, "/web/signin?out=1")
    assert out.cookies["shipwatch_session"].value == ""
    for client in (laptop.client, phone.client):
        assert (await client.get(HOME, allow_redirects=False)).status == 303
    assert (await bob.client.get(HOME)).status == 200
    said = await (await laptop.client.get("/web/signin?out=1")).text()
    assert "You are signed out" in said
    [entry] = [e for e in _audit(h) if e.command == "web signout"]
    assert (entry.actor, entry.platform, entry.outcome) == ("alice", "web", "ok")
    assert entry.detail == "sessions=2"


async def test_web_signout_in_chat_ends_the_sessions_too(make_harness: HarnessFactory) -> None:
    h = await _harness(make_harness)
    alice = await signed_in(h, "alice")
    outcome = await h.say("/web signout", user="alice")
    assert h.reply_text(outcome) == "Signed out of the web console: your session ended."
    assert (await alice.client.get(HOME, allow_redirects=False)).status == 303
    again = await h.say("/web signout", user="alice")
    assert h.reply_text(again) == "You had no web console session open."


async def test_the_session_ends_when_its_time_is_up(make_harness: HarnessFactory) -> None:
    h = await _harness(make_harness, web_session_hours=2)
    alice = await signed_in(h, "alice")
    await h.advance(hours=1, minutes=59)
    assert (await alice.client.get(HOME)).status == 200
    await h.advance(minutes=1)
    assert (await alice.client.get(HOME, allow_redirects=False)).status == 303


async def test_the_cookie_is_http_only_same_site_lax_under_web_and_secure_over_https(
    make_harness: HarnessFactory,
) -> None:
    for public_url, secure in (("http://127.0.0.1:8080", False), ("https://sw.example", True)):
        h = await _harness(make_harness, public_url=public_url, web_session_hours=12)
        client = await web_client(h)
        link = await sign_in_link(h, "alice")
        response = await client.post(link, allow_redirects=False)
        assert response.status == 303
        [header] = response.headers.getall("Set-Cookie")
        attributes = {part.strip().split("=")[0].lower() for part in header.split(";")}
        assert {"httponly", "path", "max-age", "samesite"} <= attributes
        assert "Path=/web" in header
        assert "SameSite=Lax" in header
        assert "Max-Age=43200" in header
        assert ("secure" in attributes) is secure


async def test_the_language_follows_the_switch_for_the_session_else_the_browser(
    make_harness: HarnessFactory,
) -> None:
    h = await _harness(make_harness)
    alice = await signed_in(h, "alice")
    zh = {"Accept-Language": "zh-CN,zh;q=0.9"}
    assert '<html lang="zh-CN">' in await (await alice.client.get(HOME, headers=zh)).text()
    assert '<html lang="en">' in await (await alice.client.get(HOME)).text()
    switched = await (await alice.client.get(HOME + "?lang=zh")).text()
    assert '<html lang="zh-CN">' in switched
    assert "退出登录" in switched
    # Remembered for the session, whatever the browser says, until switched back.
    assert '<html lang="zh-CN">' in await (await alice.client.get(HOME)).text()
    assert '<html lang="en">' in await (await alice.client.get(HOME + "?lang=en")).text()
    assert '<html lang="en">' in await (await alice.client.get(HOME, headers=zh)).text()
    # Anything else is ignored.
    assert '<html lang="en">' in await (await alice.client.get(HOME + "?lang=fr")).text()


async def test_web_in_chat_sends_the_link_by_direct_message_not_into_the_channel(
    make_harness: HarnessFactory,
) -> None:
    h = await _harness(make_harness, web_link_minutes=10)
    # Typed anywhere but the terminal console (here: the web console itself).
    outcome = await h.app.dispatch(
        CommandInvocation(
            "web", "alice", Conversation("web", "@alice"), "/web", f"web:{uuid.uuid4().hex}"
        )
    )
    await h.app.settle()
    reply = h.reply_text(outcome)
    assert reply == "I sent you a sign-in link by direct message; it works once, within 10 minutes."
    [letter] = [s for s in h.adapter.sent if "/web/signin/" in s.text]
    assert (letter.kind, letter.address) == ("direct", "alice")
    assert "within 10 minutes" in letter.text


async def test_web_says_what_to_set_without_a_secret_and_refuses_strangers(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    outcome = await h.say("/web", user="alice")
    assert h.reply_text(outcome) == (
        "The web console cannot sign anyone in yet: set SHIPWATCH_ACTION_LINK_SECRET on the server."
    )
    client = await web_client(h)
    assert (await client.get("/web/signin/abc.def")).status == 404
    h = await _harness(make_harness)
    stranger = await h.say("/web", user="zed")
    assert "Only people in Shipwatch’s directory" in h.reply_text(stranger)
    assert "/web/signin/" not in h.reply_text(stranger)


async def test_mallory_signs_in_and_has_no_roles(make_harness: HarnessFactory) -> None:
    from playbooks.people import Role

    h = await _harness(make_harness)
    mallory = await signed_in(h, "mallory")
    assert not mallory.person.roles
    body = await (await mallory.client.get(HOME)).text()
    assert "Mallory Xu" in body
    assert 'href="/web/audit"' not in body  # the admins' page is not offered
    alice = h.app.config.directory.get("alice")
    assert alice is not None
    assert alice.has_role(Role.ADMIN)
    assert 'href="/web/audit"' in await (await (await signed_in(h)).client.get(HOME)).text()


async def test_a_persons_own_language_and_timezone_come_before_the_browsers(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    for name in ("roles.yaml", "teams.yaml"):
        shutil.copy(DEFAULTS / name, tmp_path / name)
    people = (DEFAULTS / "people.yaml").read_text(encoding="utf-8")
    people = people.replace(
        "    name: Carol Wang\n",
        "    name: Carol Wang\n    locale: zh\n    timezone: Asia/Shanghai\n",
    )
    (tmp_path / "people.yaml").write_text(people, encoding="utf-8")
    h = await _harness(make_harness, config_dir=tmp_path)
    client = await web_client(h)
    link = await sign_in_link(h, "carol")
    shown = await (await client.get(link, headers={"Accept-Language": "en"})).text()
    assert '<html lang="zh-CN">' in shown
    assert "以 Carol Wang 的身份登录" in shown
    carol = await signed_in(h, "carol")
    page = await (await carol.client.get(HOME, headers={"Accept-Language": "en"})).text()
    assert '<html lang="zh-CN">' in page
    request_viewer = await _viewer_of(h, carol)
    assert str(request_viewer.tz) == "Asia/Shanghai"
    assert request_viewer.locale == "zh"
    # The switch still wins, for the session.
    assert '<html lang="en">' in await (await carol.client.get(HOME + "?lang=en")).text()


async def _viewer_of(h: Harness, person: SignedIn) -> Viewer:
    """The Viewer the middleware makes for this person's cookie."""
    from aiohttp.test_utils import make_mocked_request

    request = make_mocked_request(
        "GET",
        HOME,
        headers={"Cookie": f"shipwatch_session={person.session_cookie}"},
        app=person.client.server.app,
    )
    viewer = await current_viewer(request)
    assert viewer is not None
    return viewer
