"""What the HTTP server does about clients that stall or leave: a deadline for the request
body (408), bodies still arriving at shutdown given up (503), and a client that hangs up
mid-request noted in one line rather than a traceback."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.streams import StreamReader

from bot.http_input import error_response
from bot.i18n import Translator
from playbooks.messages import Text, t

log = logging.getLogger("shipwatch.http")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_ARRIVING = web.AppKey("bodies_arriving", set)


class BodyTimeout(TimeoutError):
    """The body did not arrive in time. A TimeoutError, so that aiohttp, draining what is
    left of the body after the answer, gives up on it quietly and closes."""


class Stopping(TimeoutError):
    """The server is stopping while the body is still on its way."""


def install(
    web_app: web.Application,
    *,
    body_timeout: float,
    translator: Callable[[web.Request], Translator],
) -> None:
    """Add the guard to ``web_app``: the body deadline, and giving up at shutdown."""
    arriving: set[StreamReader] = set()
    web_app[_ARRIVING] = arriving

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        body = request.content
        timer = None
        if not body.is_eof():
            loop = asyncio.get_running_loop()
            timer = loop.call_later(body_timeout, _expire, body, BodyTimeout())
            arriving.add(body)
        try:
            return await handler(request)
        except BodyTimeout:
            log.info("request body too slow", extra=_where(request, timeout=body_timeout))
            seconds = f"{body_timeout:g}"
            return _closing(translator(request), 408, t("http.body_timeout", seconds=seconds))
        except Stopping:
            log.info("request body given up at shutdown", extra=_where(request))
            response = _closing(translator(request), 503, t("http.stopping"))
            response.headers["Retry-After"] = "5"
            return response
        except (ConnectionResetError, asyncio.CancelledError) as error:
            if not _client_gone(request):
                raise
            # The client hung up; there is nobody to answer and nothing went wrong here.
            log.info("client went away", extra=_where(request, error=type(error).__name__))
            if isinstance(error, asyncio.CancelledError):
                raise
            return web.Response(status=400)  # never sent: the connection is gone
        finally:
            if timer is not None:
                timer.cancel()
                arriving.discard(body)

    web_app.middlewares.append(guard)

    async def give_up(_: web.Application) -> None:
        # Runs before the server waits for its handlers: a body still arriving would hold
        # the shutdown for as long as its client likes.
        for body in list(arriving):
            _expire(body, Stopping())

    web_app.on_shutdown.append(give_up)


def _expire(body: StreamReader, error: Exception) -> None:
    if not body.is_eof() and body.exception() is None:
        body.set_exception(error)


def _client_gone(request: web.Request) -> bool:
    # aiohttp fails the body's reads of a request whose connection was lost.
    transport = request.transport
    return transport is None or transport.is_closing()


def _closing(tr: Translator, status: int, text: Text) -> web.Response:
    response = error_response(tr, status, text)
    response.force_close()
    return response


def _where(request: web.Request, **more: object) -> dict[str, object]:
    return {"method": request.method, "path": request.path, "remote": request.remote, **more}
