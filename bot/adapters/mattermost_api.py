"""Mattermost's REST API v4, the calls Shipwatch makes, with the bot account's personal
access token: posts and their edits, direct channels, file uploads, channels for incident
rooms. aiohttp against the documented API, like every other outgoing call of the bot (the
mattermostdriver package is synchronous, on requests, and unreleased since 2022).

Answers become Shipwatch's errors: 429 is ``Throttled`` for as long as ``X-Ratelimit-Reset``
says, 401/403/404 are permanent ``AdapterError`` (``status`` kept, so a room can tell a
refusal), 5xx and an unreachable server are worth a retry."""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp

from bot.adapters.robots import TIMEOUT, retry_after
from bot.http_client import HttpClient
from playbooks.errors import AdapterError, Throttled
from playbooks.messages import t

log = logging.getLogger("shipwatch.adapters.mattermost")
THROTTLED_WAIT = 1.0  # when a 429 names no reset time


class MattermostError(AdapterError):
    """A refusal by the server, with its HTTP status and its error id."""

    def __init__(self, status: int, error_id: str, *, to: str) -> None:
        reason = f"mattermost: {error_id or status} ({to})"
        super().__init__(t("delivery.failed", reason=reason), permanent=status < 500)
        self.status = status
        self.error_id = error_id


class MattermostApi:
    def __init__(self, *, url: str, token: str, http: HttpClient) -> None:
        self._base = f"{url.rstrip('/')}/api/v4"
        self._token = token
        self._http = http

    # --- posts ----------------------------------------------------------------------------

    async def create_post(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /posts: ``channel_id``, ``message``, ``props`` (attachments), ``file_ids``."""
        answer = await self._call("POST", "/posts", body, to=str(body.get("channel_id")))
        return answer if isinstance(answer, dict) else {}

    async def patch_post(self, post_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """PUT /posts/{id}/patch: the message and props replaced, the post kept."""
        answer = await self._call("PUT", f"/posts/{post_id}/patch", body, to=post_id)
        return answer if isinstance(answer, dict) else {}

    async def pin(self, post_id: str) -> None:
        await self._call("POST", f"/posts/{post_id}/pin", None, to=post_id)

    async def upload(self, channel_id: str, name: str, content: bytes) -> str:
        """POST /files (multipart): the file's id, for a post's ``file_ids``."""
        form = aiohttp.FormData()
        form.add_field("channel_id", channel_id)
        form.add_field("files", content, filename=name, content_type="image/png")
        answer = await self._call("POST", "/files", form, to=channel_id)
        infos = answer.get("file_infos") if isinstance(answer, dict) else None
        if not isinstance(infos, list) or not infos or not isinstance(infos[0], dict):
            raise AdapterError(t("delivery.failed", reason="mattermost: upload without a file"))
        return str(infos[0].get("id", ""))

    # --- people and channels --------------------------------------------------------------

    async def me(self) -> dict[str, Any]:
        answer = await self._call("GET", "/users/me", None, to="the bot account")
        return answer if isinstance(answer, dict) else {}

    async def usernames(self, user_ids: list[str]) -> dict[str, str]:
        """POST /users/ids: user id → username, for mentions (``@username``)."""
        answer = await self._call("POST", "/users/ids", user_ids, to="users")
        if not isinstance(answer, list):
            return {}
        return {
            str(user["id"]): str(user["username"])
            for user in answer
            if isinstance(user, dict) and user.get("id") and user.get("username")
        }

    async def direct_channel(self, bot_id: str, user_id: str) -> str:
        """POST /channels/direct: the bot's one-to-one channel with ``user_id``."""
        answer = await self._call("POST", "/channels/direct", [bot_id, user_id], to=user_id)
        return _id(answer, what="direct channel")

    async def team_id(self, name: str) -> str:
        answer = await self._call("GET", f"/teams/name/{name}", None, to=f"team {name}")
        return _id(answer, what="team")

    async def channel_id(self, team_id: str, name: str) -> str:
        path = f"/teams/{team_id}/channels/name/{name}"
        return _id(await self._call("GET", path, None, to=f"~{name}"), what="channel")

    async def is_member(self, channel_id: str, user_id: str) -> bool | None:
        """GET /channels/{id}/members/{user_id}: 404 is "not in it"; anything else that is
        not an answer is "cannot tell"."""
        try:
            await self._call("GET", f"/channels/{channel_id}/members/{user_id}", None, to=user_id)
        except MattermostError as error:
            return False if error.status == 404 else None
        except AdapterError:
            return None
        return True

    async def create_channel(self, body: dict[str, Any]) -> str:
        """POST /channels: ``team_id``, ``name``, ``display_name``, ``purpose``, ``header``,
        ``type`` (O public, P private)."""
        return _id(await self._call("POST", "/channels", body, to="a new channel"), what="channel")

    async def add_members(self, channel_id: str, user_ids: list[str]) -> None:
        body = {"user_ids": user_ids}
        await self._call("POST", f"/channels/{channel_id}/members", body, to=channel_id)

    async def archive_channel(self, channel_id: str) -> None:
        """DELETE /channels/{id}: archived, its history kept (not deleted for good)."""
        await self._call("DELETE", f"/channels/{channel_id}", None, to=channel_id)

    # --- the one call ---------------------------------------------------------------------

    async def _call(self, method: str, path: str, body: Any, *, to: str) -> Any:
        session = await self._http.session()
        headers = {"Authorization": f"Bearer {self._token}"}
        data: Any = body
        if body is not None and not isinstance(body, aiohttp.FormData):
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json; charset=utf-8"
        try:
            async with session.request(
                method, self._base + path, data=data, headers=headers, timeout=TIMEOUT
            ) as response:
                try:
                    answer = await response.json(content_type=None)
                except ValueError:
                    answer = None
                status = response.status
                given = response.headers
                reset = given.get("X-Ratelimit-Reset") or given.get("Retry-After") or ""
        except (aiohttp.ClientError, TimeoutError) as error:
            reason = f"cannot reach Mattermost: {type(error).__name__}"
            raise AdapterError(t("delivery.failed", reason=reason)) from None
        if status < 300:
            return answer
        if status == 429:
            raise Throttled(
                t("delivery.failed", reason="mattermost: rate limited"),
                retry_after=retry_after(reset, THROTTLED_WAIT),
            )
        error_id = str(answer.get("id", "")) if isinstance(answer, dict) else ""
        if status >= 500:
            raise AdapterError(t("delivery.failed", reason=f"mattermost: {status} ({to})"))
        raise MattermostError(status, error_id[:120], to=to)


def _id(answer: Any, *, what: str) -> str:
    if isinstance(answer, dict) and isinstance(answer.get("id"), str) and answer["id"]:
        return str(answer["id"])
    raise AdapterError(t("delivery.failed", reason=f"mattermost: a {what} without an id"))
