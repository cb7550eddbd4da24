"""Who is signed in: the session cookie read on every request under ``/web`` (except the
sign-in pages and the static files), the session looked up by the hash of its id, and a
``Viewer`` put on the request for the page to read.

Without a live session a GET is sent to the sign-in page and a POST refused (403). Every
POST under ``/web`` also carries the session's form token (field ``csrf`` or header
``X-CSRF-Token``): a form another site makes the browser send is refused before anything
is done, whatever the cookie says."""

from __future__ import annotations

import hmac
import html
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDictProxy
from sqlalchemy import Engine

from bot.hooks import APP_KEY
from bot.http_input import request_locale
from bot.i18n import LOCALES
from bot.sign_in_links import session_hash
from bot.web.console.render import HEADERS
from bot.web.console.viewer import SIGN_IN_PATH, VIEWER_KEY, Viewer
from playbooks.messages import Text, t
from storage.models import WebSession
from storage.repositories import web_sessions
from storage.unit_of_work import unit_of_work

COOKIE = "shipwatch_session"
COOKIE_PATH = "/web"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
# Open without a session: where one is made, and the script every page loads.
OPEN_PATHS = (SIGN_IN_PATH,)
OPEN_PREFIXES = (SIGN_IN_PATH + "/", "/web/static/")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session just made: the id goes into the cookie, never into the database."""

    session_id: str
    csrf: str
    expires_at: datetime


def new_session(now: datetime, *, hours: float) -> NewSession:
    return NewSession(
        session_id=secrets.token_urlsafe(32),
        csrf=secrets.token_urlsafe(24),
        expires_at=now + timedelta(hours=hours),
    )


def guarded(path: str) -> bool:
    """Does ``path`` need a session?"""
    if path != "/web" and not path.startswith("/web/"):
        return False
    return path not in OPEN_PATHS and not path.startswith(OPEN_PREFIXES)


@web.middleware
async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path != "/web" and not request.path.startswith("/web/"):
        return await handler(request)
    try:
        return _secured(await _signed_in(request, handler))
    except web.HTTPException as answer:  # redirects and aiohttp's own 404 and 405
        _secured(answer)
        raise


def _secured(response: web.StreamResponse) -> web.StreamResponse:
    """Every console answer with the console's headers (what a handler set stays): no
    caching, no framing, scripts from this origin only. A stream already sent has its
    own."""
    if not response.prepared:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
    return response


async def _signed_in(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not guarded(request.path):
        return await handler(request)
    viewer = await current_viewer(request)
    if viewer is None:
        if request.method in ("GET", "HEAD"):
            raise web.HTTPSeeOther(location=SIGN_IN_PATH)
        return refusal(request, 403, t("web.session.none"))
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        # Read here, once, so that no handler meets a body it cannot read.
        form = await read_form(request, locale=viewer.locale)
        if isinstance(form, web.Response):
            return form
        given = request.headers.get(CSRF_HEADER)
        if given is None:
            field = form.get(CSRF_FIELD)
            given = field if isinstance(field, str) else ""
        expected = viewer.csrf.encode()
        if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected):
            return refusal(request, 403, t("web.csrf.bad"), locale=viewer.locale)
    request[VIEWER_KEY] = viewer
    return await handler(request)


async def read_form(request: web.Request, *, locale: str) -> MultiDictProxy[Any] | web.Response:
    """The POST's fields, or the refusal to send: a body over the size limit, one that is
    not a form in the charset it names (or names no charset Python knows), a broken
    multipart body, or a field holding a NUL character (no database keeps one)."""
    try:
        form = await request.post()
    except web.HTTPRequestEntityTooLarge:
        return refusal(request, 413, t("web.form.too_large"), locale=locale)
    except (ValueError, LookupError, HttpProcessingError):  # a broken part's headers too
        return refusal(request, 400, t("web.form.unreadable"), locale=locale)
    if any(isinstance(value, str) and "\x00" in value for value in form.values()):
        return refusal(request, 400, t("web.form.unreadable"), locale=locale)
    return form


async def current_viewer(request: web.Request) -> Viewer | None:
    """The person signed in by the request's cookie, in the language they chose with
    ``?lang=`` (kept for the session), else their own, else the browser's."""
    session_id = request.cookies.get(COOKIE)
    if not session_id:
        return None
    app = request.app[APP_KEY]
    wanted = request.query.get("lang", "").strip().lower()
    row = await app.db.run(
        _find,
        app.engine,
        id_hash=session_hash(session_id),
        now=app.clock.now(),
        lang=wanted if wanted in LOCALES and request.method == "GET" else None,
    )
    if row is None:
        return None
    person = app.config.directory.get(row.handle)
    if person is None:
        return None
    locale = row.locale or person.locale or request_locale(request, app.settings.locale)
    return Viewer(
        person=person,
        locale=locale,
        tz=person.tz or app.settings.tz,
        csrf=row.csrf,
        session_id=row.id_hash,
    )


def _find(engine: Engine, *, id_hash: str, now: datetime, lang: str | None) -> WebSession | None:
    with unit_of_work(engine) as session:
        row = web_sessions.live(session, id_hash=id_hash, now=now)
        if row is not None and lang is not None and row.locale != lang:
            web_sessions.set_locale(session, id_hash=id_hash, locale=lang)
        return row


def still_live(engine: Engine, *, id_hash: str, now: datetime) -> bool:
    """Is the session still open (for a long-lived stream to check now and then)?"""
    with unit_of_work(engine) as session:
        return web_sessions.live(session, id_hash=id_hash, now=now) is not None


def refusal(
    request: web.Request, status: int, text: Text, *, locale: str | None = None
) -> web.Response:
    """One sentence, in the reader's language, as a small page."""
    app = request.app[APP_KEY]
    lang = locale or request_locale(request, app.settings.locale)
    sentence = html.escape(app.translator(lang)(text))
    attr = "zh-CN" if lang == "zh" else "en"
    body = (
        f'<!doctype html><html lang="{attr}"><head><meta charset="utf-8">'
        f"<title>Shipwatch</title></head><body><main><p>{sentence}</p></main></body></html>"
    )
    return web.Response(text=body, status=status, content_type="text/html", headers=HEADERS)
