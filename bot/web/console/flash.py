"""The answer to a form, shown once on the page the form redirects back to (POST, then
303, then GET): a cookie holding the reply as the person's language wrote it, signed with
their session's form token so no other site or session can plant words in the page, and
cleared by the page that shows it. Kept in the browser, so any replica can show it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from aiohttp import web

from bot.web.console.viewer import Viewer

COOKIE = "shipwatch_said"
PATH = "/web"
MAX_TEXT = 2000  # a cookie holds about 4 KB; a longer reply is cut, the page still shows


@dataclass(frozen=True, slots=True)
class Said:
    text: str
    refused: bool  # the command was refused (denied, usage, refused, error)


def _sign(viewer: Viewer, payload: bytes) -> str:
    return hmac.new(viewer.csrf.encode(), payload, hashlib.sha256).hexdigest()


def remember(
    response: web.StreamResponse, viewer: Viewer, said: Said, *, secure: bool = False
) -> None:
    """Leave ``said`` for the next page (``secure``: only over https, as the session)."""
    body = json.dumps({"t": said.text[:MAX_TEXT], "r": said.refused}, ensure_ascii=False)
    payload = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
    value = f"{payload}.{_sign(viewer, payload.encode())}"
    response.set_cookie(
        COOKIE, value, path=PATH, httponly=True, samesite="Strict", max_age=120, secure=secure
    )


def recall(request: web.Request, viewer: Viewer) -> Said | None:
    """The answer waiting for this page, if one was left by this session."""
    value = request.cookies.get(COOKIE, "")
    payload, _, signature = value.rpartition(".")
    if not payload or not hmac.compare_digest(signature, _sign(viewer, payload.encode())):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return Said(str(data["t"]), bool(data["r"]))
    except (ValueError, KeyError, TypeError):
        return None


def forget(request: web.Request, response: web.StreamResponse) -> None:
    """Shown once: the page that showed the answer clears it."""
    if COOKIE in request.cookies:
        response.del_cookie(COOKIE, path=PATH)
