"""Hostile input to the web console over real HTTP: odd query values, ids no table can
hold, form bodies that are not forms, NUL characters, typed words that look like flags
or a second command. Each gets a status below 500 and one sentence in the person's
language, nothing is written by a refused form, and every answer under /web carries the
console's headers."""

from __future__ import annotations

import io
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import func, select

from bot.web.console import incidents, releases
from bot.web.console.render import HEADERS
from commands.table import build_table
from storage.models import AuditEntry
from storage.unit_of_work import unit_of_work
from tests.bot.web.console.support import SECRET, SignedIn, signed_in, web_client
from tests.conftest import Harness, HarnessFactory

pytestmark = pytest.mark.usefixtures("database_url")

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
async def harness(make_harness: HarnessFactory) -> Harness:
    h = await make_harness(action_link_secret=SECRET)
    outcome = await h.say("/incident open Checkout fails --sev P1", user="alice")
    assert outcome.status == "ok", h.reply_text(outcome)
    return h


@pytest.fixture
async def alice(harness: Harness) -> SignedIn:
    return await signed_in(harness, "alice")


def _audited(h: Harness) -> int:
    with unit_of_work(h.app.engine) as session:
        return int(session.exec(select(func.count()).select_from(AuditEntry)).one())


# Each: a query or path that once failed the request (500), and the status it gets now.
ODD_GETS = [
    ("/web/incidents?page=%C2%B2", 400),  # "²".isdigit(), but int("²") fails
    ("/web/incidents?page=" + "1" * 5000, 400),  # int() of 5,000 digits fails
    ("/web/incidents?page=-1", 400),
    ("/web/incidents?page=99999999999999999999", 400),
    ("/web/incidents?since=custom&to=9999-12-31", 400),  # the next midnight is no date
    ("/web/incidents?since=custom&from=0001-01-01", 400),
    ("/web/incidents?since=custom&from=%00&to=2026-13-01", 400),
    ("/web/incidents?sev=%ED%A0%80&state=%00&service=%3Cb%3E", 400),
    ("/web/incidents/%C2%B2", 404),
    ("/web/incidents/" + "1" * 5000, 404),
    ("/web/incidents/-1", 404),
    ("/web/incidents/" + "9" * 30, 404),
    ("/web/incidents/999999999999", 404),  # past PostgreSQL's integer
    ("/web/releases?page=x", 200),
    ("/web/releases?page=%C2%B2", 200),
    ("/web/releases/999999999999", 404),
    ("/web/reports?page=%C2%B2", 200),
    ("/web/reports?kind=%00", 200),
    ("/web/reports/999999999999", 404),
    ("/web/audit?page=%C2%B2", 200),
    ("/web/audit?page=" + "1" * 5000, 200),
    ("/web/audit?actor=%00&platform=%00web", 200),  # PostgreSQL refuses NUL in a query
    ("/web/oncall?lang=%00", 200),
    ("/web/incidents?lang=zh%ff", 200),
    ("/web/static/..%2F..%2Fapp.py", 404),
    ("/web/static/console.js%00.js", 404),
    ("/web/nothing-here", 404),
    ("/web/signin/%00", 403),
    ("/web/signin/" + "a" * 5000, 403),
    ("/web/signin/%ED%A0%80.%ED%A0%80", 403),
    ("/web/signin/.", 404),  # the client sends /web/signin/
]


@pytest.mark.parametrize(("path", "status"), ODD_GETS, ids=[p[:60] for p, _ in ODD_GETS])
async def test_an_odd_query_or_id_is_answered_never_a_500(
    alice: SignedIn, path: str, status: int
) -> None:
    r = await alice.client.get(path, allow_redirects=False)
    body = await r.text()
    assert r.status == status, body[:500]
    assert "Traceback" not in body
    for name, value in HEADERS.items():
        assert r.headers.get(name) == value, (name, path)


async def test_a_date_out_of_range_is_named_and_the_other_end_still_filters(
    alice: SignedIn,
) -> None:
    r = await alice.client.get("/web/incidents?since=custom&from=2026-01-01&to=9999-12-31")
    body = unescape(await r.text())
    assert r.status == 400
    assert '"9999-12-31" is outside the dates that can be searched' in body
    assert "Checkout fails" in body  # opened today: after 2026-01-01


async def test_every_console_answer_carries_its_headers(alice: SignedIn) -> None:
    answers = [
        await alice.client.get("/web", allow_redirects=False),  # a redirect
        await alice.client.post("/web/incidents/1/ack", data={}),  # no form token
        await alice.client.get("/web/signin/forged.link"),
        await alice.client.delete("/web/incidents"),  # aiohttp's own 405
    ]
    for r in answers:
        for name, value in HEADERS.items():
            assert r.headers.get(name) == value, (r.url, r.status, name)


# Bodies a browser never sends: each refused with one sentence, nothing run.
BAD_BODIES = [
    (b"TOKENtext=%ff%fe", FORM + "; charset=klingon", 400),
    (b"TOKENtext=ok", FORM + "; charset=utf-16", 400),
    (b"\xff\xfe\x00" + b"TOKEN", FORM + "; charset=utf-8", 400),
    (b"TOKEN", "multipart/form-data", 400),  # no boundary
    (b"--b\r\nbroken", "multipart/form-data; boundary=b", 400),
    (b"TOKENtext=a%00b", FORM, 400),
    (b"TOKENtext=" + b"x" * (2 * 1024 * 1024), FORM, 413),
]


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    BAD_BODIES,
    ids=["charset", "utf-16", "not-utf8", "no-boundary", "broken-part", "nul", "huge"],
)
async def test_a_form_that_cannot_be_read_is_refused_and_nothing_is_done(
    harness: Harness, alice: SignedIn, body: bytes, content_type: str, status: int
) -> None:
    h = harness
    before = _audited(h)
    data = body.replace(b"TOKEN", f"csrf={alice.csrf}&".encode())
    r = await alice.client.post(
        "/web/incidents/1/update",
        data=io.BytesIO(data),
        headers={"Content-Type": content_type, "X-CSRF-Token": alice.csrf},
        allow_redirects=False,
    )
    text = unescape(await r.text())
    assert r.status == status, text[:500]
    assert "nothing was done" in text
    assert "Traceback" not in text
    assert _audited(h) == before


async def test_the_refusal_is_in_the_persons_language(make_harness: HarnessFactory) -> None:
    h = await make_harness(action_link_secret=SECRET)
    zhang = await signed_in(h, "alice")
    await zhang.client.get("/web/incidents?lang=zh")  # kept for the session
    r = await zhang.client.post(
        "/web/incidents/1/update",
        data=f"csrf={zhang.csrf}&text=a%00b".encode(),
        headers={"Content-Type": FORM},
    )
    assert r.status == 400
    assert "无法读取这个表单" in await r.text()


async def test_a_field_sent_as_a_file_is_no_text(alice: SignedIn) -> None:
    multipart = (
        b'--b\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n'
        + alice.csrf.encode()
        + b'\r\n--b\r\nContent-Disposition: form-data; name="text"; filename="a.txt"\r\n\r\n'
        b"hello\r\n--b--\r\n"
    )
    r = await alice.client.post(
        "/web/incidents/1/update",
        data=multipart,
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    page = unescape(await r.text())
    assert "FileField" not in page
    assert "BufferedRandom" not in page


async def test_a_superscript_item_number_is_asked_for_again(make_harness: HarnessFactory) -> None:
    assert releases._command("check", "web", {"item": "²"}) == releases.t(
        "web.releases.item_needed"
    )
    assert releases._command("check", "web", {"item": "0012"}) == "/release check web 12"


# What a person may type in a form's text box, to the letter: never a flag, never a
# second command, never a broken quote.
TYPED = [
    "x --public",
    '"; /release promote web --force',
    'it\'s "fine" 「really」 “so” ‘yes’',
    "-- --note y",
    "line one\n/incident resolve 1\nline three",
    "'",
    '"',
    "「",
    "”",
]


class _Ctx:
    tz = ZoneInfo("UTC")


@pytest.mark.parametrize("typed", TYPED)
def test_typed_words_stay_one_argument_of_the_incident_forms(typed: str) -> None:
    table = build_table()
    form = {"text": typed, "severity": "P2"}
    for kind in ("update", "severity", "resolve"):
        line = incidents._command(kind, 1, form, _Request())
        parsed = table.parse(line, _Ctx())
        assert parsed.flags.get("public") in (None, False), line
        values = [*parsed.args.values(), *parsed.flags.values()]
        # The text survives whole (the fallback only swaps a straight quote for a curly one).
        assert typed.replace('"', "”") in values or typed in values, (line, parsed)


@pytest.mark.parametrize("typed", TYPED)
def test_typed_words_stay_one_argument_of_the_rollback_form(typed: str) -> None:
    table = build_table()
    line = releases._command("rollback", "web", {"reason": typed})
    assert isinstance(line, str)
    parsed = table.parse(line, _Ctx())
    assert parsed.spec.name.startswith("release")
    assert parsed.args.get("service") == "web"
    assert (
        " ".join(typed.split()).replace('"', "'") in parsed.flags.values()
        or " ".join(typed.split()) in parsed.flags.values()
    ), (line, parsed.flags)


class _Request:
    def __init__(self) -> None:
        self.match_info = {"page": "1"}


MARKUP = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'"


async def test_markup_typed_anywhere_is_shown_as_text(make_harness: HarnessFactory) -> None:
    h = await make_harness(action_link_secret=SECRET)
    outcome = await h.say(f"/incident open 「{MARKUP}」 --sev P2", user="alice")
    assert outcome.status == "ok", h.reply_text(outcome)
    alice = await signed_in(h, "alice")
    shown = await alice.client.post(
        "/web/incidents/1/update", data=alice.form(text=MARKUP)
    )  # the answer, shown once, quotes it too
    for r in (shown, await alice.client.get("/web/incidents/1")):
        body = await r.text()
        assert "<script>alert" not in body
        assert "<img src=x" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    listing = await alice.client.get("/web/incidents?service=" + "%3Cscript%3E")
    assert "<script>" not in await listing.text()
    audit_page = await alice.client.get("/web/audit?actor=%3Cscript%3Ex")
    assert "<script>x" not in await audit_page.text()


@pytest.mark.parametrize(
    "cookie",
    ["%ff%00", '"quoted"', "é€", "a;b", ""],
    ids=["nul", "quoted", "utf8", "semi", "empty"],
)
async def test_a_junk_session_cookie_is_no_session(
    make_harness: HarnessFactory, cookie: str
) -> None:
    h = await make_harness(action_link_secret=SECRET)
    client = await web_client(h)
    header = f"shipwatch_session={cookie}; shipwatch_said={cookie}".encode().decode("latin-1")
    for method, path, status in (
        ("GET", "/web/incidents", 303),
        ("POST", "/web/incidents/1/ack", 403),
        ("GET", "/web/events", 303),
    ):
        r = await client.request(method, path, headers={"Cookie": header}, allow_redirects=False)
        assert r.status == status, (method, path)
