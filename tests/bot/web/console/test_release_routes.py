"""The release pages over HTTP, signed in the way people sign in, on SQLite and
PostgreSQL: the list, one release with its charts, an unknown id, and the forms (promote
refused with its blockers, pause, tick, roll back without a reason) run through the
pipeline with its role checks; a form without its token does nothing."""

from __future__ import annotations

import html
import re

from sqlmodel import col, select

from storage.models import AuditEntry, ReleaseLaunch, ReleaseRow
from storage.unit_of_work import unit_of_work
from tests.bot.web.console.support import SECRET, SignedIn, signed_in
from tests.conftest import Harness, HarnessFactory
from tests.support import set_metrics

GOOD = {"error_rate_stop": 0.002, "error_rate": 0.002, "p99_latency_ms": 220}
PAGE = "/web/releases/1"


async def started(make_harness: HarnessFactory) -> Harness:
    """web 2.0.0 in its canary stage, five minutes in: 25 minutes of soak to go."""
    h = await make_harness(action_link_secret=SECRET)
    set_metrics(h, GOOD)
    out = await h.say("/release start web 2.0.0")
    assert out.status == "ok", h.reply_text(out)
    await h.advance(minutes=5)
    return h


def release(h: Harness) -> ReleaseRow:
    with unit_of_work(h.app.engine) as session:
        return session.exec(select(ReleaseRow)).one()


def web_audit(h: Harness) -> list[tuple[str, str, str]]:
    with unit_of_work(h.app.engine) as session:
        rows = session.exec(
            select(AuditEntry).where(AuditEntry.platform == "web").order_by(col(AuditEntry.id))
        ).all()
        return [(row.actor, row.command, row.outcome) for row in rows]


async def post(who: SignedIn, action: str, **fields: str) -> str:
    """Send a form of the release page; follow its redirect; the page it lands on."""
    sent = await who.client.post(f"{PAGE}/{action}", data=who.form(**fields), allow_redirects=False)
    assert sent.status == 303, await sent.text()
    assert sent.headers["Location"] == PAGE
    landed = await who.client.get(PAGE)
    assert landed.status == 200
    return await landed.text()


def said(body: str) -> str:
    """The reply a form left on the page (its text, tags dropped), or ""."""
    found = re.search(r'<div class="flash[^"]*" role="\w+" id="flash">(.*?)</div>', body, re.S)
    return re.sub(r"<[^>]+>", " ", found.group(1)) if found else ""


def words(text: str) -> list[str]:
    return html.unescape(text).split()


async def test_the_list_shows_the_live_release_and_the_history(
    make_harness: HarnessFactory,
) -> None:
    h = await started(make_harness)
    alice = await signed_in(h, "alice")
    page = await alice.client.get("/web/releases")
    body = await page.text()
    assert page.status == 200
    assert '<a href="/web/releases/1">web 2.0.0</a>' in body
    assert "<td>canary</td>" in body
    assert "<td>10%</td>" in body
    assert '<main id="main" data-topics="releases">' in body
    assert "No release has ended yet." in body
    aborted = await h.say('/release abort web --reason "wrong build"')
    assert aborted.status == "ok", h.reply_text(aborted)
    body = await (await alice.client.get("/web/releases?page=x")).text()
    assert "No release is live." in body
    assert "<td>aborted</td>" in body


async def test_a_release_page_draws_its_guards_against_their_limits_and_stages(
    make_harness: HarnessFactory,
) -> None:
    h = await started(make_harness)
    alice = await signed_in(h, "alice")
    page = await alice.client.get(PAGE)
    body = await page.text()
    assert page.status == 200
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert '<main id="main" data-topics="releases release:1">' in body
    assert body.count('<svg class="chart"') == 3  # standard's three guards
    assert body.count('<path class="readings" d="M') == 3
    assert ">limit 1%</text>" in body
    assert ">limit 5%</text>" in body
    assert ">limit 500</text>" in body
    assert body.count('class="stage-mark" data-move="start"') == 3
    assert re.search(r'<time data-countdown datetime="[^"]+">25m</time>', body), body
    assert "canary 10%" in body
    assert '<h2 id="blockers">What holds it</h2>' in body
    assert "Runbook" in body
    assert "Not assessed yet" in body


async def test_an_unknown_release_is_a_404_with_a_sentence(make_harness: HarnessFactory) -> None:
    h = await make_harness(action_link_secret=SECRET)
    alice = await signed_in(h, "alice")
    page = await alice.client.get("/web/releases/41")
    assert page.status == 404
    assert "There is no release 41." in await page.text()
    zh = await alice.client.get("/web/releases/41?lang=zh")
    assert "没有编号为 41 的发布。" in await zh.text()
    sent = await alice.client.post("/web/releases/41/pause", data=alice.form())
    assert sent.status == 404


async def test_a_refused_promote_shows_its_blockers_once_in_the_viewers_language(
    make_harness: HarnessFactory,
) -> None:
    h = await started(make_harness)
    alice = await signed_in(h, "alice")
    body = await post(alice, "promote")
    shown = said(body)
    assert 'class="flash refused" role="alert"' in body
    chat = await h.say("/release promote web", user="alice")
    assert chat.status == "refused"
    assert words(shown) == words(h.reply_text(chat))
    assert "soak" in shown
    assert (release(h).stage, release(h).percent) == (0, 10)
    assert web_audit(h) == [("alice", "release promote", "refused")]  # the chat's is console
    again = await alice.client.get(PAGE)
    assert said(await again.text()) == ""  # shown once
    await alice.client.get(f"{PAGE}?lang=zh")
    shown_zh = said(await post(alice, "promote"))
    assert "观察" in shown_zh, shown_zh
    assert "soak" not in shown_zh


async def test_pause_and_a_tick_go_through_the_pipeline_as_the_viewer(
    make_harness: HarnessFactory,
) -> None:
    h = await started(make_harness)
    bob = await signed_in(h, "bob")
    body = await post(bob, "check", item="2")
    assert 'class="flash" role="status"' in body
    with unit_of_work(h.app.engine) as session:
        launch = session.exec(select(ReleaseLaunch)).one()
    assert "2" in launch.state["checks"]
    assert "/web/releases/1/check" in body
    assert 'name="item" value="2"' not in body  # ticked: no form for it any more
    body = await post(bob, "pause")
    assert release(h).state == "paused"
    assert "paused" in said(body)
    assert "/web/releases/1/resume" in body
    assert web_audit(h) == [
        ("bob", "release check", "ok"),
        ("bob", "release pause", "ok"),
    ]


async def test_a_form_without_its_token_does_nothing(make_harness: HarnessFactory) -> None:
    h = await started(make_harness)
    alice = await signed_in(h, "alice")
    sent = await alice.client.post(f"{PAGE}/pause", data={}, allow_redirects=False)
    assert sent.status == 403
    forged = await alice.client.post(f"{PAGE}/pause", data={"csrf": "x" * 32})
    assert forged.status == 403
    assert release(h).state == "in_stage"
    assert web_audit(h) == []


async def test_a_person_without_the_role_is_refused_as_in_chat(
    make_harness: HarnessFactory,
) -> None:
    h = await started(make_harness)
    chat = await h.say("/release pause web", user="mallory")
    mallory = await signed_in(h, "mallory")
    shown = said(await post(mallory, "pause"))
    assert words(shown) == words(h.reply_text(chat))
    assert release(h).state == "in_stage"
    assert web_audit(h) == [("mallory", "release pause", "denied")]


async def test_a_roll_back_without_a_reason_is_a_sentence_and_nothing_more(
    make_harness: HarnessFactory,
) -> None:
    h = await started(make_harness)
    alice = await signed_in(h, "alice")
    shown = said(await post(alice, "rollback", reason="   "))
    assert "Give a reason to roll back" in shown
    assert release(h).state == "in_stage"
    shown = said(await post(alice, "rollback", reason='bad "build" 7'))
    assert release(h).state == "rolled_back"
    assert web_audit(h)[-1] == ("alice", "release rollback", "ok")
    assert shown
