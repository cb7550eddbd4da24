"""Real servers for what Apprise speaks, on loopback: an SMTP server (aiosmtpd) that keeps
what it is sent, ntfy's publish API (a JSON body POSTed to the server's root), and
Twilio's Messages API (``POST /2010-04-01/Accounts/{sid}/Messages.json``, a form body,
HTTP basic auth with the account SID and auth token)."""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.fakes.loopback import serve


@dataclass
class Mail:
    sender: str
    to: list[str]
    subject: str
    text: str  # the text/plain part


@dataclass
class SmtpInbox:
    """An SMTP server on 127.0.0.1 (no TLS, no login) that keeps every message."""

    mails: list[Mail] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None

    async def start(self) -> SmtpInbox:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: SMTP(self), "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        part = parsed.get_body(preferencelist=("plain",))
        text = part.get_content() if part is not None else ""
        self.mails.append(
            Mail(
                sender=str(envelope.mail_from),
                to=list(envelope.rcpt_tos),
                subject=str(parsed["Subject"]),
                text=str(text),
            )
        )
        return "250 Message accepted for delivery"

    def url(self, to: str) -> str:
        """An Apprise URL for this server: plain SMTP, no login, nothing to hide."""
        return f"mailto://127.0.0.1:{self.port}?from=shipwatch@example.com&to={to}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@dataclass
class HttpFake:
    """A fake of one HTTP API: what it was sent, and a status to answer with on cue."""

    received: list[dict[str, Any]] = field(default_factory=list)
    failing: int | None = None  # answer every request with this status
    base_url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> HttpFake:
        app = web.Application()
        app.add_routes(self.routes())
        self._runner, self.base_url = await serve(app)
        return self

    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@dataclass
class Ntfy(HttpFake):
    """ntfy's publish-as-JSON: ``POST /`` with ``{"topic", "title", "message"}``."""

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/", self._publish)]

    async def _publish(self, request: web.Request) -> web.Response:
        if self.failing:
            return web.json_response({"error": "down"}, status=self.failing)
        body = await request.json()
        if not isinstance(body, dict) or not body.get("topic"):
            return web.json_response({"code": 40001, "error": "no topic"}, status=400)
        self.received.append(body)
        answer = {"id": f"m{len(self.received)}", "event": "message", "topic": body["topic"]}
        return web.json_response(answer)


@dataclass
class Twilio(HttpFake):
    """Twilio's Messages API for one account; the request must carry its credentials."""

    sid: str = "AC0123456789abcdef0123456789abcdef"
    token: str = "twilio-auth-token-for-tests"

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/2010-04-01/Accounts/{sid}/Messages.json", self._message)]

    async def _message(self, request: web.Request) -> web.Response:
        expected = base64.b64encode(f"{self.sid}:{self.token}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return web.json_response({"code": 20003, "message": "Authenticate"}, status=401)
        if request.match_info["sid"] != self.sid:
            return web.json_response({"code": 20404, "message": "not found"}, status=404)
        if self.failing:
            return web.json_response({"code": 20500, "message": "error"}, status=self.failing)
        form = dict(await request.post())
        missing = [name for name in ("To", "From", "Body") if not form.get(name)]
        if missing:
            error = {"code": 21604, "message": f"A '{missing[0]}' is required"}
            return web.json_response(error, status=400)
        self.received.append({k: str(v) for k, v in form.items()})
        return web.json_response(
            {"sid": f"SM{len(self.received):032d}", "status": "queued"}, status=201
        )

    def url(self, to: str, sender: str = "+15559990000") -> str:
        """Apprise's ``form://`` shaped as Twilio's request: ``twilio://`` always goes to
        api.twilio.com, so a Twilio-compatible API elsewhere is reached this way."""
        quoted = {"to": to.replace("+", "%2B"), "from": sender.replace("+", "%2B")}
        return (
            f"form://{self.sid}:{self.token}@127.0.0.1:{self.port}"
            f"/2010-04-01/Accounts/{self.sid}/Messages.json"
            f"?:message=Body&:title=&:type=&:version=&:To={quoted['to']}&:From={quoted['from']}"
        )
