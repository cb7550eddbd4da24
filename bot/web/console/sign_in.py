"""Signing in and out of the web console.

``GET /web/signin`` says how to sign in (type ``/web`` in chat). ``GET /web/signin/<link>``
names whom a link signs in and does nothing else: link-preview robots (Slack's unfurler)
fetch links they see, and must not spend them. Its form's POST spends the link once (in
the idempotency ledger, in the transaction that makes the session) and sets the cookie.
``POST /web/signout`` runs ``/web signout`` as the person: every session of theirs ends,
and the audit log says it was done on the web."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from bot.hooks import APP_KEY
from bot.http_input import request_locale
from bot.i18n import LOCALES
from bot.sign_in_links import Grant, session_hash, sign_in_links
from bot.web.console.actions import run_command
from bot.web.console.render import HEADERS, lang_attr
from bot.web.console.sessions import COOKIE, COOKIE_PATH, NewSession, new_session, refusal
from bot.web.console.viewer import SIGN_IN_PATH
from bot.web.pages import render
from playbooks.messages import t
from storage.repositories import ledger, web_sessions
from storage.unit_of_work import unit_of_work

HOME = "/web/incidents"
LEDGER_SOURCE = "web"


def routes() -> list[web.RouteDef]:
    return [
        web.get("/web", _home),
        web.get(SIGN_IN_PATH, _how),
        web.get(SIGN_IN_PATH + "/{link}", _open),
        web.post(SIGN_IN_PATH + "/{link}", _confirm),
        web.post("/web/signout", _sign_out),
    ]


async def _home(request: web.Request) -> web.Response:
    raise web.HTTPSeeOther(location=HOME)


async def _how(request: web.Request) -> web.Response:
    """How to sign in, in the reader's language and then the other one."""
    locale = _reader_locale(request)
    app = request.app[APP_KEY]
    keys = ["web.signin.how"]
    if "out" in request.query:
        keys.insert(0, "web.signin.signed_out")
    lines = [{"text": app.translator(locale)(t(key)), "lang": None} for key in keys]
    for other in LOCALES:
        if other != locale:
            lines += [
                {"text": app.translator(other)(t(key)), "lang": lang_attr(other)} for key in keys
            ]
    title = app.translator(locale)(t("web.signin.title"))
    return _page(locale, title, lines)


async def _open(request: web.Request) -> web.Response:
    grant = await _grant(request)
    if isinstance(grant, web.Response):
        return grant
    app = request.app[APP_KEY]
    person = app.config.directory.get(grant.handle)
    assert person is not None
    locale = person.locale or _reader_locale(request)
    tr = app.translator(locale)
    used = await app.db.run(_used, app.engine, grant=grant)
    if used:
        return refusal(request, 409, t("web.signin.used"), locale=locale)
    return _page(
        locale,
        tr(t("web.signin.title")),
        [{"text": tr(t("web.signin.confirm", name=person.name)), "lang": None}],
        button=tr(t("web.signin.button", name=person.name)),
    )


async def _confirm(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    if not _same_origin(request, app.settings.public_url):
        # Another site's page posting a link of its own would sign this browser in as
        # someone else (login forgery).
        return refusal(request, 403, t("web.csrf.bad"))
    grant = await _grant(request)
    if isinstance(grant, web.Response):
        return grant
    made = new_session(app.clock.now(), hours=app.settings.web_session_hours)
    spent = await app.db.run(_spend, app.engine, grant=grant, made=made, now=app.clock.now())
    if not spent:
        person = app.config.directory.get(grant.handle)
        locale = person.locale if person and person.locale else None
        return refusal(request, 409, t("web.signin.used"), locale=locale)
    response = web.HTTPSeeOther(location=HOME)
    response.set_cookie(
        COOKIE,
        made.session_id,
        max_age=int(app.settings.web_session_hours * 3600),
        path=COOKIE_PATH,
        httponly=True,
        samesite="Lax",
        secure=app.settings.public_url.startswith("https://"),
    )
    raise response


async def _sign_out(request: web.Request) -> web.Response:
    # The middleware let this through: the session and the form token are good.
    await run_command(request, "/web signout")
    response = web.HTTPSeeOther(location=SIGN_IN_PATH + "?out=1")
    response.del_cookie(COOKIE, path=COOKIE_PATH)
    raise response


async def _grant(request: web.Request) -> Grant | web.Response:
    """The link's grant while it may still be used, else the refusal to send."""
    app = request.app[APP_KEY]
    signer = sign_in_links(
        app.settings.action_link_secret,
        public_url=app.settings.public_url,
        minutes=app.settings.web_link_minutes,
    )
    if signer is None:
        return refusal(request, 404, t("web.signin.off"))
    grant = signer.read(request.match_info["link"])
    if grant is None:
        return refusal(request, 403, t("web.signin.forged"))
    person = app.config.directory.get(grant.handle)
    if person is None:
        return refusal(request, 403, t("web.signin.nobody"))
    if grant.expires_at <= app.clock.now():
        return refusal(request, 410, t("web.signin.expired"), locale=person.locale)
    return grant


def _used(engine: Engine, *, grant: Grant) -> bool:
    with unit_of_work(engine) as session:
        return ledger.seen(session, source=LEDGER_SOURCE, event_id=grant.event_id)


def _spend(engine: Engine, *, grant: Grant, made: NewSession, now: datetime) -> bool:
    """Spend the link and open the session, together; False when it was spent already
    (here, or a moment ago by a racing twin whose ledger row won)."""
    try:
        with unit_of_work(engine) as session:
            if ledger.seen(session, source=LEDGER_SOURCE, event_id=grant.event_id):
                return False
            ledger.remember(session, source=LEDGER_SOURCE, event_id=grant.event_id, now=now)
            web_sessions.create(
                session,
                id_hash=session_hash(made.session_id),
                handle=grant.handle,
                csrf=made.csrf,
                now=now,
                expires_at=made.expires_at,
            )
    except IntegrityError:
        return False
    return True


def _same_origin(request: web.Request, public_url: str) -> bool:
    """Was the form sent from this server's own page? Browsers say so in
    ``Sec-Fetch-Site``; where that is missing, an ``Origin`` naming another site is
    refused. (Our pages send no referrer, so a browser may give ``Origin: null`` for its
    own form: that alone proves nothing either way.)"""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return True
    public = urlsplit(public_url)
    allowed = {f"{public.scheme}://{public.netloc}", f"{request.scheme}://{request.host}"}
    return origin in allowed


def _reader_locale(request: web.Request) -> str:
    app = request.app[APP_KEY]
    wanted = request.query.get("lang", "").strip().lower()
    return wanted if wanted in LOCALES else request_locale(request, app.settings.locale)


def _page(
    locale: str, title: str, lines: list[dict[str, str | None]], *, button: str | None = None
) -> web.Response:
    body = render(
        "console/signin.html", lang=lang_attr(locale), title=title, lines=lines, button=button
    )
    return web.Response(text=body, content_type="text/html", headers=HEADERS)
