"""A local Mattermost server: the REST API v4 calls Shipwatch makes with its bot account's
token (posts, patches, pins, direct channels, file uploads, channels and their members,
users), a slash command's response URL, and the way Mattermost calls an integration when a
button is pressed. Every call is recorded; a queued ``Failure`` answers one call of a kind
with 429 and ``X-Ratelimit-Reset`` or 403, as Mattermost does."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakes.loopback import serve

BOT_ID = "botuserid00000000000000000"
TEAM = "eng"
TEAM_ID = "teamid0000000000000000000a"
PATIENCE = 10.0


@dataclass
class Call:
    name: str  # "posts.create", "posts.patch", "channels.create", … ("!failed" when refused)
    body: Any
    token: str = ""
    answer: Any = None
    path: str = ""


@dataclass
class Failure:
    status: int = 429
    reset: int | None = 30  # X-Ratelimit-Reset: seconds until the limit resets
    error_id: str = "api.context.rate_limit.app_error"


@dataclass
class Post:
    id: str
    channel_id: str
    message: str
    props: dict[str, Any]
    file_ids: list[str]
    user_id: str = BOT_ID

    @property
    def attachments(self) -> list[dict[str, Any]]:
        return list(self.props.get("attachments") or [])

    @property
    def actions(self) -> list[dict[str, Any]]:
        return [a for att in self.attachments for a in att.get("actions") or []]

    @property
    def text(self) -> str:
        """The message and every field as a person reads them (markdown's escapes gone)."""
        parts = [self.message]
        for att in self.attachments:
            parts += [f"{f['title']}: {f['value']}" for f in att.get("fields") or []]
        return shown("\n".join(parts))


@dataclass
class FakeMattermost:
    token: str = "mm-bot-token"
    # user id → username; everyone the server knows.
    users: dict[str, str] = field(default_factory=dict)
    # channel name (in the one team) → id; channels the bot can post to.
    channels: dict[str, str] = field(default_factory=dict)
    members: dict[str, set[str]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    posts: dict[str, Post] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    pinned: list[str] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)
    made: list[dict[str, Any]] = field(default_factory=list)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    base_url: str = ""
    _runner: web.AppRunner | None = None
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def start(self) -> str:
        app = web.Application()
        app.add_routes(
            [
                web.get("/api/v4/users/me", self._me),
                web.post("/api/v4/users/ids", self._user_ids),
                web.post("/api/v4/posts", self._create_post),
                web.put("/api/v4/posts/{post_id}/patch", self._patch_post),
                web.post("/api/v4/posts/{post_id}/pin", self._pin),
                web.post("/api/v4/files", self._upload),
                web.post("/api/v4/channels/direct", self._direct),
                web.post("/api/v4/channels", self._create_channel),
                web.post("/api/v4/channels/{channel_id}/members", self._add_members),
                web.get("/api/v4/channels/{channel_id}/members/{user_id}", self._member),
                web.delete("/api/v4/channels/{channel_id}", self._archive),
                web.get("/api/v4/teams/name/{name}", self._team),
                web.get("/api/v4/teams/{team_id}/channels/name/{name}", self._channel_by_name),
                web.post("/hooks/commands/{id}", self._response_url),
            ]
        )
        self._runner, self.base_url = await serve(app)
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- for tests ------------------------------------------------------------------------

    def fail(self, name: str, *failures: Failure) -> None:
        self.failures.setdefault(name, []).extend(failures)

    def of(self, name: str) -> list[Call]:
        return [c for c in self.calls if c.name == name]

    def posts_in(self, channel_id: str) -> list[Post]:
        return [p for p in self.posts.values() if p.channel_id == channel_id]

    def direct_channel_of(self, user_id: str) -> str:
        return _direct_id(BOT_ID, user_id)

    def response_url(self, name: str = "1") -> str:
        return f"{self.base_url}/hooks/commands/{name}"

    async def wait_for(self, name: str, count: int = 1) -> list[Call]:
        async with asyncio.timeout(PATIENCE), self._changed:
            await self._changed.wait_for(lambda: len(self.of(name)) >= count)
        return self.of(name)

    async def press(
        self, shipwatch: str, action: dict[str, Any], *, user_id: str, post: Post
    ) -> aiohttp.ClientResponse:
        """What the server sends to a button's integration URL when ``user_id`` presses it
        (the URL and context as the button was posted; ``shipwatch`` is where the test's
        Shipwatch listens, the URL's host being its public address)."""
        integration = action["integration"]
        path = "/" + integration["url"].split("/", 3)[3]
        body = {
            "user_id": user_id,
            "user_name": self.users.get(user_id, ""),
            "channel_id": post.channel_id,
            "channel_name": "",
            "team_id": TEAM_ID,
            "team_domain": TEAM,
            "post_id": post.id,
            "trigger_id": f"trigger-{len(self.calls)}",
            "type": "",
            "data_source": "",
            "context": integration.get("context") or {},
        }
        async with aiohttp.ClientSession() as session:
            response = await session.post(shipwatch + path, json=body)
            await response.read()
            return response

    # --- the API --------------------------------------------------------------------------

    async def _guard(self, request: web.Request, name: str) -> tuple[str, web.Response | None]:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token != self.token:
            await self._record(Call(f"{name}!failed", None, token, path=request.path))
            return token, _error(401, "api.context.session_expired.app_error")
        pending = self.failures.get(name, [])
        if pending:
            failure = pending.pop(0)
            await self._record(Call(f"{name}!failed", None, token, path=request.path))
            headers = {}
            if failure.status == 429:
                headers = {"X-Ratelimit-Limit": "10", "X-Ratelimit-Remaining": "0"}
                if failure.reset is not None:
                    headers["X-Ratelimit-Reset"] = str(failure.reset)
            return token, _error(failure.status, failure.error_id, headers)
        return token, None

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    async def _answer(
        self, request: web.Request, name: str, token: str, body: Any, answer: Any, status: int
    ) -> web.Response:
        await self._record(Call(name, body, token, answer, request.path))
        return web.json_response(answer, status=status)

    async def _me(self, request: web.Request) -> web.Response:
        token, refused = await self._guard(request, "users.me")
        if refused:
            return refused
        answer = {"id": BOT_ID, "username": "shipwatch", "is_bot": True}
        return await self._answer(request, "users.me", token, None, answer, 200)

    async def _user_ids(self, request: web.Request) -> web.Response:
        token, refused = await self._guard(request, "users.ids")
        if refused:
            return refused
        ids = await request.json()
        found = [{"id": i, "username": self.users[i]} for i in ids if i in self.users]
        return await self._answer(request, "users.ids", token, ids, found, 200)

    async def _create_post(self, request: web.Request) -> web.Response:
        token, refused = await self._guard(request, "posts.create")
        if refused:
            return refused
        body = await request.json()
        channel = str(body.get("channel_id", ""))
        if channel not in self.members or BOT_ID not in self.members[channel]:
            return _error(403, "api.context.permissions.app_error")
        if len(str(body.get("message", ""))) > 16383:
            return _error(400, "model.post.is_valid.msg.app_error")
        post = Post(
            id=f"post{len(self.posts) + 1:022d}",
            channel_id=channel,
            message=str(body.get("message", "")),
            props=dict(body.get("props") or {}),
            file_ids=list(body.get("file_ids") or []),
        )
        if any(f not in self.files for f in post.file_ids):
            return _error(400, "api.post.create_post.file_ids.app_error")
        self.posts[post.id] = post
        answer = {"id": post.id, "channel_id": channel, "message": post.message}
        return await self._answer(request, "posts.create", token, body, answer, 201)

    async def _patch_post(self, request: web.Request) -> web.Response:
        token, refused = await self._guard(request, "posts.patch")
        if refused:
            return refused
        post = self.posts.get(request.match_info["post_id"])
        if post is None:
            return _error(404, "app.post.get.app_error")
        body = await request.json()
        if "message" in body:
            post.message = str(body["message"])
        if "props" in body:
            post.props = dict(body["props"] or {})
        answer = {"id": post.id, "channel_id": post.channel_id, "message": post.message}
        return await self._answer(request, "posts.patch", token, body, answer, 200)

    async def _pin(self, request: web.Request) -> web.Response:
        token, refused = await self._guard(request, "posts.pin")
        if refused:
            return refused
        post_id = request.match_info["post_id"]
        if post_id not in self.posts:
            return _error(404, "app.post.get.app_error")
        self.pinned.append(post_id)
        return await self._answer(request, "posts.pin", token, None, {"status": "OK"}, 200)

    async def _upload(self, request: web.Request) -> web.Response:
        token, refused = await self._guard(request, "files.upload")
        if refused:
            return refused
        form = await request.post()
        upload = form.get("files")
        content = upload.file.read() if isinstance(upload, web.FileField) else b""
        file_id = f"file{len(self.files) + 1:022d}"
        self.files[file_id] = content
        name = upload.filename if isinstance(upload, web.FileField) else ""
        body = {"channel_id": form.get("channel_id"), "name": name, "bytes": content}
        answer = {"file_infos": [{"id": file_id, "name": name, "size": len(content)}]}
        return await self._answer(request, "files.upload", token, body, answer, 201)

    async def _direct(self, request: web.Request) -> web.Response:
        token, refused = await self._guard(request, "channels.direct")
        if refused:
            return refused
        pair = await request.json()
        if not isinstance(pair, list) or len(pair) != 2 or any(u not in self.users for u in pair):
            return _error(400, "api.context.invalid_body_param.app_error")
        channel = _direct_id(pair[0], pair[1])
        self.members[channel] = set(pair)
        answer = {"id": channel, "type": "D"}
        return await self._answer(request, "channels.direct", token, pair, answer, 201)

    async def _create_channel(self, request: web.Request) -> web.Response:
        token, refused = await self._guard(request, "channels.create")
        if refused:
            return refused
        body = await request.json()
        name = str(body.get("name", ""))
        if name in self.channels:
            return _error(400, "store.sql_channel.save_channel.exists.app_error")
        channel = f"room{len(self.made) + 1:022d}"
        self.made.append({"id": channel, **body})
        self.channels[name] = channel
        self.members[channel] = {BOT_ID}
        answer = {"id": channel, **body}
        return await self._answer(request, "channels.create", token, body, answer, 201)

    async def _add_members(self, request: web.Request) -> web.Response:
        token, refused = await self._guard(request, "channels.members.add")
        if refused:
            return refused
        channel = request.match_info["channel_id"]
        if channel not in self.members:
            return _error(404, "app.channel.get.existing.app_error")
        body = await request.json()
        self.members[channel] |= set(body.get("user_ids") or [])
        return await self._answer(request, "channels.members.add", token, body, [], 201)

    async def _member(self, request: web.Request) -> web.Response:
        token, refused = await self._guard(request, "channels.member")
        if refused:
            return refused
        channel, user = request.match_info["channel_id"], request.match_info["user_id"]
        if user not in self.members.get(channel, set()):
            return _error(404, "app.channel.get_member.missing.app_error")
        answer = {"channel_id": channel, "user_id": user}
        return await self._answer(request, "channels.member", token, None, answer, 200)

    async def _archive(self, request: web.Request) -> web.Response:
        token, refused = await self._guard(request, "channels.archive")
        if refused:
            return refused
        channel = request.match_info["channel_id"]
        if channel not in self.members:
            return _error(404, "app.channel.get.existing.app_error")
        self.archived.append(channel)
        return await self._answer(request, "channels.archive", token, None, {"status": "OK"}, 200)

    async def _team(self, request: web.Request) -> web.Response:
        token, refused = await self._guard(request, "teams.by_name")
        if refused:
            return refused
        if request.match_info["name"] != TEAM:
            return _error(404, "app.team.get_by_name.missing.app_error")
        answer = {"id": TEAM_ID, "name": TEAM}
        return await self._answer(request, "teams.by_name", token, None, answer, 200)

    async def _channel_by_name(self, request: web.Request) -> web.Response:
        token, refused = await self._guard(request, "channels.by_name")
        if refused:
            return refused
        name = request.match_info["name"]
        if request.match_info["team_id"] != TEAM_ID or name not in self.channels:
            return _error(404, "app.channel.get_by_name.missing.app_error")
        answer = {"id": self.channels[name], "name": name}
        return await self._answer(request, "channels.by_name", token, None, answer, 200)

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        await self._record(Call("respond", body, path=request.path))
        return web.json_response({})


def _direct_id(a: str, b: str) -> str:
    first, second = sorted((a, b))
    return f"{first}__{second}"


def _error(status: int, error_id: str, headers: dict[str, str] | None = None) -> web.Response:
    body = {"id": error_id, "message": error_id, "status_code": status}
    return web.json_response(body, status=status, headers=headers)


def response_text(answer: dict[str, Any]) -> str:
    """A slash command response's text and fields, as Mattermost would post them."""
    parts = [str(answer.get("text", ""))]
    for att in answer.get("attachments") or []:
        parts += [f"{f['title']}: {f['value']}" for f in att.get("fields") or []]
    return shown("\n".join(parts))


def shown(markdown: str) -> str:
    """Markdown as it reads: a backslash-escaped mark is the mark, a zero-width space
    (which keeps an @ from mentioning) is nothing."""
    return re.sub(r"\\([\\`*_~\[\]#>+.-])", r"\1", markdown).replace("\u200b", "")


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
