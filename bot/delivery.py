"""The outbox worker: delivers committed messages in order, with back-off and a dead letter."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot.adapters.base import Adapter, Membership, RoomRefused, Rooms
from bot.clock import Clock, sleep_until
from bot.db_executor import DbExecutor
from bot.i18n import Translator
from bot.logs import scrub_credentials
from bot.metrics import Metrics
from playbooks.errors import AdapterError, Throttled
from playbooks.incidents import rooms as incident_rooms
from playbooks.messages import Message, Severity, message_from_json, message_to_json, t
from storage.models import IncidentRoom, OutboxMessage
from storage.repositories import outbox, rooms
from storage.unit_of_work import unit_of_work

log = logging.getLogger("shipwatch.delivery")
MIN_DELAY = timedelta(milliseconds=100)
# A claim is short and renewed while its holder lives, so the messages a dead process had
# claimed go on within CLAIM; a send that takes longer (a long Telegram message) is renewed.
CLAIM = timedelta(seconds=15)
RENEW_EVERY = timedelta(seconds=5)
IDLE_SECONDS = 5.0
ERROR_PAUSE_SECONDS = 1.0
LANE_POLL_SECONDS = 1.0  # a busy lane looks this often for messages whose retry came due


class DeliveryWorker:
    def __init__(
        self,
        *,
        engine: Engine,
        owner: str,
        db: DbExecutor,
        adapters: Mapping[str, Adapter],
        clock: Clock,
        translator_for: Callable[[Session, outbox.Claimed], Translator],
        metrics: Metrics,
        max_attempts: int,
        backoff: timedelta,
        backoff_cap: timedelta,
        rng: random.Random,
        traffic: Callable[[Mapping[str, Any]], Awaitable[None]] | None = None,
        on_dead: Callable[[OutboxMessage], Awaitable[object]] | None = None,
        channel_id: Callable[[str, str], str] = lambda platform, address: address,
        member_by_config: Callable[[str, str], bool | None] = lambda person, channel: None,
    ) -> None:
        self._channel_id = channel_id
        self._member_by_config = member_by_config
        self._engine = engine
        self._owner = owner  # this process's instance id, written on every claim
        self._db = db
        # When each message in flight was claimed, or its claim last renewed.
        self._claimed_at: dict[int, datetime] = {}
        self._traffic = traffic
        self._on_dead = on_dead
        self._adapters = adapters
        self._clock = clock
        self._translator_for = translator_for
        self._metrics = metrics
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._backoff_cap = backoff_cap
        self._rng = rng
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._nudge = asyncio.Event()
        # The platforms woken for since deliver_due last asked which have messages due
        # (None: some not known, so ask again).
        self._woken_for: set[str] | None = set()
        self._stopping = False

    def wake(self, platforms: Iterable[str] | None = None) -> None:
        """Messages were committed, for ``platforms`` (None: not known which)."""
        self._wake.set()
        if platforms is None:
            self._woken_for = None
        elif self._woken_for is not None:
            self._woken_for.update(platforms)
        # Lanes already running look for newly committed messages of their platform too.
        self._nudge.set()
        self._nudge = asyncio.Event()

    async def deliver_due(self) -> int:
        """Deliver everything due now: one lane per platform, so one platform's wait never
        holds up another's; each lane takes a few of its conversations at once, the most
        urgent first (pages before reports), every conversation in order."""
        delivered = 0
        async with self._lock:
            renewing = asyncio.create_task(self._renew_claims())
            lanes: dict[str, asyncio.Task[int]] = {}
            try:
                while not self._stopping:
                    now = self._clock.now()
                    looked_at = asyncio.get_running_loop().time()
                    self._woken_for = set()
                    for platform in await self._db.run(self._platforms_due, now):
                        lane = lanes.get(platform)
                        if lane is None or lane.done():
                            delivered += _count(lane)
                            lanes[platform] = asyncio.create_task(
                                self._lane(platform), name=f"delivery lane {platform}"
                            )
                    if not await self._until_look_again(lanes, looked_at):
                        break
                if lanes:
                    await asyncio.wait(lanes.values())
                for lane in lanes.values():
                    if lane.exception() is not None:
                        raise lane.exception()  # type: ignore[misc]
                delivered += sum(_count(lane) for lane in lanes.values())
            except asyncio.CancelledError:
                for lane in lanes.values():
                    lane.cancel()
                await asyncio.gather(*lanes.values(), return_exceptions=True)
                raise
            except Exception:
                # A message being sent is finished, never cut off: it would be sent again.
                await asyncio.gather(*lanes.values(), return_exceptions=True)
                raise
            finally:
                renewing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewing
        return delivered

    async def _until_look_again(
        self, lanes: Mapping[str, asyncio.Task[int]], looked_at: float
    ) -> bool:
        """Let the lanes run until the database must be asked again which platforms have
        messages due (True), or until every lane has ended or one has failed (False)."""
        while not self._look_again(lanes, looked_at):
            running = {lane for lane in lanes.values() if not lane.done()}
            if not running:
                return False
            await self._until_any(running)
            if any(lane.done() and lane.exception() for lane in running):
                return False  # raised by deliver_due, once the other lanes have finished
        return True

    def _look_again(self, lanes: Mapping[str, asyncio.Task[int]], looked_at: float) -> bool:
        """Whether to ask the database again which platforms have messages due: a commit
        woke us for a platform with no running lane (or for platforms not known), or
        LANE_POLL_SECONDS have passed (a retry may have come due anywhere). A commit for a
        platform whose lane runs is that lane's to find: asking would only say so again.
        Messages committed without a wake are found by ``run``'s next look (their time
        has come)."""
        if self._stopping:
            return False
        woken_for = self._woken_for
        if woken_for is None:
            return True
        if asyncio.get_running_loop().time() - looked_at >= LANE_POLL_SECONDS:
            return True
        return any(platform not in lanes or lanes[platform].done() for platform in woken_for)

    async def _lane(self, platform: str) -> int:
        """One platform's deliveries: its conversations up to the adapter's bound at once,
        each one's head only (a conversation has one message in flight at a time).

        What a finished send leaves to record (sent, or covered) is written in the
        transaction that claims the next messages: the conversation's next message is
        its head from then on, and one transaction does for both."""
        adapter = self._adapters.get(platform)
        at_once = max(1, adapter.capabilities.conversations_at_once) if adapter else 1
        sending: dict[asyncio.Task[_Done | None], int] = {}
        done: list[_Done] = []
        delivered = 0
        try:
            while True:
                free = at_once - len(sending)
                # Claimed only as a slot frees: a page committed meanwhile is not stuck
                # behind reports this process took ahead.
                wanted = free if free > 0 and not self._stopping else 0
                if wanted or done:
                    now = self._clock.now()
                    claimed = await self._db.run(
                        self._record_and_claim, done, now, platform, wanted
                    )
                    delivered += self._recorded(done)
                    done = []
                    for row, tr in claimed:
                        message_id = row.id
                        self._claimed_at[message_id] = now
                        sending[asyncio.create_task(self._deliver_claimed(row, tr))] = message_id
                if not sending:
                    return delivered
                finished = await self._until_any(set(sending))
                for task in finished:
                    self._claimed_at.pop(sending.pop(task), None)
                done.extend(_outcomes(finished))
                for task in finished:
                    task.result()  # a failure is raised once every outcome is kept
        except asyncio.CancelledError:
            for task in sending:
                task.cancel()
            raise
        finally:
            if sending:
                await asyncio.gather(*sending, return_exceptions=True)
                for message_id in sending.values():
                    self._claimed_at.pop(message_id, None)
                done.extend(_outcomes(sending))
            if done:
                # Sent and not yet recorded: recorded now, or it would be sent again.
                await self._db.run(self._record_and_claim, done, self._clock.now(), platform, 0)
                self._recorded(done)

    async def _until_any(self, tasks: set[asyncio.Task[Any]]) -> set[asyncio.Task[Any]]:
        """Until one of ``tasks`` ends, a message is committed, or a moment has passed (a
        retry elsewhere may have come due); those that ended."""
        nudged = asyncio.create_task(self._nudge.wait())
        try:
            done, _ = await asyncio.wait(
                {*tasks, nudged}, timeout=LANE_POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            nudged.cancel()
        return {task for task in tasks if task in done}

    async def _deliver_claimed(self, row: outbox.Claimed, tr: Translator) -> _Done | None:
        if not await self._still_mine(row):
            return None
        return await self._deliver(row, tr)

    def _platforms_due(self, now: datetime) -> list[str]:
        with unit_of_work(self._engine) as session:
            return outbox.platforms_due(session, now=now)

    def _record_and_claim(
        self, done: list[_Done], now: datetime, platform: str, limit: int
    ) -> list[tuple[outbox.Claimed, Translator]]:
        """Record the finished sends ``done``, then claim up to ``limit`` messages of
        ``platform`` (none for 0), in one transaction."""
        with unit_of_work(self._engine) as session:
            for finished in done:
                if finished.covered:
                    outbox.covered(session, message_id=finished.message_id, now=finished.at)
                else:
                    outbox.sent(
                        session, message_id=finished.message_id, ref=finished.ref, now=finished.at
                    )
            if limit <= 0:
                return []
            rows = outbox.claim_due(
                session,
                now=now,
                owner=self._owner,
                until=now + CLAIM,
                platform=platform,
                limit=limit,
            )
            return [(row, self._translator_for(session, row)) for row in rows]

    async def take_back_claims(self) -> int:
        """Release every claim another instance left behind: only right where this is the
        one process on the database (SQLite), so they are a dead predecessor's."""
        released = await self._db.run(self._release_claims)
        if released:
            log.warning("took back messages a stopped process had claimed", extra={"n": released})
        return released

    def _release_claims(self) -> int:
        with unit_of_work(self._engine) as session:
            return outbox.release_claims(session, except_owner=self._owner)

    async def _still_mine(self, row: outbox.Claimed) -> bool:
        """Renew the claim just before sending: a message whose claim lapsed before its turn
        came may have been taken over, and is then left to its new holder."""
        claimed_at = self._claimed_at.get(row.id)
        if claimed_at is not None and self._clock.now() < claimed_at + RENEW_EVERY:
            return True  # claimed or renewed moments ago: no one can have taken it over yet
        return await self._db.run(self._hold, row.id, self._clock.now() + CLAIM)

    def _hold(self, message_id: int, until: datetime) -> bool:
        with unit_of_work(self._engine) as session:
            return outbox.hold(session, message_id=message_id, owner=self._owner, until=until)

    async def _renew_claims(self) -> None:
        """While this worker delivers, keep all its claims alive, in every lane (a send may
        outlast one)."""
        while True:
            await sleep_until(self._clock, self._clock.now() + RENEW_EVERY)
            try:
                renewed_at = self._clock.now()
                until = renewed_at + CLAIM
                renewed = await self._db.run(self._renew, until)
                for message_id, claimed_at in list(self._claimed_at.items()):
                    if renewed_at < claimed_at + CLAIM:
                        self._claimed_at[message_id] = renewed_at  # not lapsed: still ours
                log.debug("outbox claims renewed", extra={"n": renewed, "until": until.isoformat()})
            except Exception:
                log.exception("renewing outbox claims failed; retrying")

    def _renew(self, until: datetime) -> int:
        with unit_of_work(self._engine) as session:
            return outbox.renew_claims(session, owner=self._owner, until=until)

    async def next_attempt(self) -> datetime | None:
        return await self._db.run(self._next_attempt)

    def _next_attempt(self) -> datetime | None:
        with unit_of_work(self._engine) as session:
            return outbox.next_attempt(session)

    async def run(self) -> None:
        """Deliver until stopped, waking on new messages or the next retry time.

        A failure of the loop itself (the database gone for a moment) is logged and
        retried after a pause; it never ends the worker.
        """
        while not self._stopping:
            self._wake.clear()
            try:
                await self.deliver_due()
                timeout = await self._seconds_until_next_attempt()
            except Exception:
                log.exception("delivery loop failed; retrying shortly")
                timeout = ERROR_PAUSE_SECONDS
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)

    async def _seconds_until_next_attempt(self) -> float:
        upcoming = await self.next_attempt()
        if upcoming is None:
            return IDLE_SECONDS
        wait = (upcoming - self._clock.now()).total_seconds()
        return min(IDLE_SECONDS, max(0.01, wait))

    async def stop(self) -> None:
        """Finish the delivery in flight; whatever is left stays in the outbox for next time."""
        self._stopping = True
        self._wake.set()
        async with self._lock:
            pass

    async def _send(self, row: outbox.Claimed, tr: Translator) -> str | None:
        """Deliver one row; the platform's reference to the message, where it gives one."""
        if row.kind == "traffic":
            if self._traffic is None:
                reason = "traffic changes cannot be applied by this process"
                raise AdapterError(t("delivery.failed", reason=reason), permanent=True)
            await self._traffic(row.message)
            return None
        adapter = self._adapters.get(row.platform)
        if adapter is None:
            reason = f"no adapter is running for platform {row.platform!r}"
            raise AdapterError(t("delivery.failed", reason=reason), permanent=True)
        if row.kind in outbox.ROOM_KINDS:
            return await self._room_work(row, adapter, tr)
        message = message_from_json(row.message)
        if row.kind == "direct":
            return await adapter.direct_message(row.address, message, tr=tr)
        address = await self._address(row.platform, row.address)  # a name to its platform id
        if row.edit_key and adapter.capabilities.edits:
            earlier = await self._db.run(self._edited_ref, row.conversation_key, row.edit_key)
            if earlier is not None:
                edited = await adapter.update(earlier, message, tr=tr)
                if edited is not None:
                    return edited
        if row.kind == outbox.REVISION:
            # Nothing new to say: where the earlier message cannot be edited, say nothing.
            return None
        return await adapter.post(address, message, tr=tr)

    async def _address(self, platform: str, address: str) -> str:
        """The platform's id for a channel name; an incident room's (``#inc-42``) is the
        room the platform made, or the shared channel where none could be made."""
        if incident_rooms.incident_of(address) is None:
            return self._channel_id(platform, address)
        room = await self._db.run(self._room, platform, address)
        if room is None:
            return self._channel_id(platform, address)
        if room.state in (rooms.OPEN, rooms.CLOSED) and room.platform_id:
            return room.platform_id
        return self._channel_id(platform, room.fallback)

    def _room(self, platform: str, address: str) -> IncidentRoom | None:
        with unit_of_work(self._engine) as session:
            room = rooms.at(session, platform=platform, address=address)
            if room is not None:
                session.expunge(room)
            return room

    async def _room_work(self, row: outbox.Claimed, adapter: Adapter, tr: Translator) -> str | None:
        """Make, fill or close an incident's room. Done once: a repeat (after a crash) finds
        the room's row moved on and does nothing. A refusal is said once per platform and
        reason, and the room's news goes to the shared channel."""
        room = await self._db.run(self._room, row.platform, row.address)
        if room is None:
            return None
        if row.kind == outbox.ROOM_OPEN:
            if room.state != rooms.PENDING:
                return None
            if not isinstance(adapter, Rooms):
                await self._db.run(self._refused, room, "unsupported", self._clock.now())
                return None
            try:
                made = await adapter.open_room(
                    room.name,
                    topic=str(row.message.get("topic", "")),
                    summary=message_from_json(row.message["summary"]),
                    tr=tr,
                )
            except RoomRefused as refusal:
                await self._db.run(self._refused, room, refusal.reason, self._clock.now())
                return None
            await self._db.run(self._opened, room, made.room_id)
            return made.summary_ref
        if room.state != rooms.OPEN or room.platform_id is None or not isinstance(adapter, Rooms):
            return None  # never made, or closed: nothing to do there
        try:
            if row.kind == outbox.ROOM_INVITE:
                users = [str(u) for u in row.message.get("users", ())]
                if users:
                    await adapter.invite_to_room(room.platform_id, users, tr=tr)
            else:
                await adapter.close_room(room.platform_id, tr=tr)
                await self._db.run(self._closed, room)
        except RoomRefused as refusal:
            # The room stays as it is; the incident goes on in it.
            log.warning("room work refused: %s", refusal.reason, extra={"room": room.address})
        return None

    def _opened(self, room: IncidentRoom, platform_id: str) -> None:
        with unit_of_work(self._engine) as session:
            rooms.opened(
                session, platform=room.platform, address=room.address, platform_id=platform_id
            )

    def _closed(self, room: IncidentRoom) -> None:
        with unit_of_work(self._engine) as session:
            rooms.closed(session, platform=room.platform, address=room.address)

    def _refused(self, room: IncidentRoom, reason: str, now: datetime) -> None:
        """The room's news goes to the shared channel; the first refusal of its kind on the
        platform is said there, with what to do about it."""
        with unit_of_work(self._engine) as session:
            first = rooms.refused(
                session, platform=room.platform, address=room.address, reason=reason
            )
            if not first:
                return
            key = (
                "incident.room.unsupported" if reason == "unsupported" else "incident.room.refused"
            )
            notice = Message.of(
                t(key, platform=room.platform, reason=reason, channel=room.fallback),
                severity=Severity.WARNING,
            )
            outbox.enqueue(
                session,
                platform=room.platform,
                address=room.fallback,
                kind="post",
                message=message_to_json(notice),
                now=now,
            )
        log.warning("no room for an incident", extra={"room": room.address, "reason": reason})

    async def _member_where(self, unless: Mapping[str, Any]) -> str | None:
        """The conversation, of those a direct message's news was posted in, that its
        reader is a member of: as the platform says, else as people.yaml says."""
        person = str(unless.get("person", ""))
        for platform, channel, user_id in unless.get("in", ()):
            adapter = self._adapters.get(platform)
            if adapter is None:
                continue  # not running here: that post reaches nobody either
            member: bool | None = None
            if user_id and isinstance(adapter, Membership):
                try:
                    member = await adapter.is_member(
                        await self._address(platform, channel), user_id
                    )
                except Exception as error:  # its text may hold a URL: the type says enough
                    log.warning("membership query failed: %s", type(error).__name__)
            if member is None and incident_rooms.incident_of(channel) is not None:
                # An incident's room: whom Shipwatch asked in is there.
                room = await self._db.run(self._room, platform, channel)
                member = room is not None and room.state == rooms.OPEN and person in room.invited
            if member is None:
                member = self._member_by_config(person, channel)
            if member:
                return f"{platform}:{channel}"
        return None

    def _recorded(self, done: list[_Done]) -> int:
        """Count the sends ``done`` once written: how many reached someone."""
        delivered = 0
        for finished in done:
            if finished.covered:
                log.info("direct message not sent: its reader has it in %s", finished.ref)
            elif finished.delivered:
                self._metrics.deliveries.labels(finished.platform).inc()
                delivered += 1
        return delivered

    async def _deliver(self, row: outbox.Claimed, tr: Translator) -> _Done | None:
        """Send one message; what is left to record once it has gone (nothing after a
        failure: that is recorded here)."""
        if row.kind == "direct" and row.unless_member_of:
            where = await self._member_where(row.unless_member_of)
            if where is not None:
                return _Done(row.id, row.platform, self._clock.now(), ref=where, covered=True)
        try:
            ref = await self._send(row, tr)
        except AdapterError as error:
            reason = str(error.text.params.get("reason") or error.text.key)
            await self._after_failure(row, scrub_credentials(reason), error)
            return None
        except Exception as error:
            # Its text may hold anything (a URL, a body): it stays in the log, and what is
            # stored (and shown in /admin outbox) names the type and where to look.
            error_ref = secrets.token_hex(4)
            log.exception("delivery failed", extra={"outbox_id": row.id, "error_ref": error_ref})
            await self._after_failure(row, f"{type(error).__name__} (log ref {error_ref})", None)
            return None
        # A revision nowhere to be edited is recorded as sent, though nothing was.
        delivered = not (row.kind == outbox.REVISION and ref is None)
        return _Done(row.id, row.platform, self._clock.now(), ref=ref, delivered=delivered)

    def _edited_ref(self, conversation_key: str, edit_key: str) -> str | None:
        with unit_of_work(self._engine) as session:
            return outbox.edited_ref(session, conversation_key=conversation_key, edit_key=edit_key)

    async def _after_failure(
        self, row: outbox.Claimed, reason: str, error: AdapterError | None
    ) -> None:
        dead = await self._db.run(self._failed, row, reason, error)
        if dead is not None and self._on_dead is not None:
            try:
                await self._on_dead(dead)
            except Exception:
                log.exception("dead-letter hook failed", extra={"outbox_id": row.id})

    def _failed(
        self, row: outbox.Claimed, reason: str, error: AdapterError | None
    ) -> OutboxMessage | None:
        """Record the failure; the row if it is now a dead letter."""
        if isinstance(error, Throttled):
            self._throttled(row, reason, error)
            return None
        self._metrics.delivery_failures.labels(row.platform).inc()
        now = self._clock.now()
        with unit_of_work(self._engine) as session:
            stored = outbox.get(session, message_id=row.id)
            if stored is None:
                return None
            stored.claimed_by, stored.claimed_until = None, None
            stored.attempts += 1
            stored.last_error = reason[:500]
            permanent = error is not None and error.permanent
            # A page's notification with another way left goes on by that way at once,
            # rather than waiting out retries by this one.
            handed_on = bool(stored.follow_up and stored.follow_up.get("next"))
            if permanent or handed_on or stored.attempts >= self._max_attempts:
                stored.state = "dead"
                log.error(
                    "message undeliverable",
                    extra={
                        "outbox_id": stored.id,
                        "conversation": stored.conversation_key,
                        "attempts": stored.attempts,
                        "reason": stored.last_error,
                    },
                )
            else:
                stored.next_attempt_at = now + self._delay(stored.attempts, error)
                log.warning(
                    "delivery failed; will retry",
                    extra={
                        "outbox_id": stored.id,
                        "attempts": stored.attempts,
                        "retry_at": stored.next_attempt_at.isoformat(),
                        "reason": stored.last_error,
                    },
                )
            session.add(stored)
            session.flush()
            session.expunge(stored)
            return stored if stored.state == "dead" else None

    def _throttled(self, row: outbox.Claimed, reason: str, error: Throttled) -> None:
        """Wait as asked, without spending an attempt: a held-back message is not failing."""
        with unit_of_work(self._engine) as session:
            stored = outbox.get(session, message_id=row.id)
            if stored is None:
                return
            stored.claimed_by, stored.claimed_until = None, None
            stored.last_error = reason[:500]
            stored.next_attempt_at = self._clock.now() + self._delay(stored.attempts, error)
            session.add(stored)
            log.info(
                "delivery held back by a send limit; will retry",
                extra={
                    "outbox_id": stored.id,
                    "retry_at": stored.next_attempt_at.isoformat(),
                    "reason": stored.last_error,
                },
            )

    def _delay(self, attempts: int, error: AdapterError | None) -> timedelta:
        if error is not None and error.retry_after is not None:
            return max(MIN_DELAY, timedelta(seconds=error.retry_after))
        # The exponent is bounded so a large attempt count never overflows a timedelta.
        exponential = self._backoff * (2 ** min(attempts - 1, 30))
        capped = min(exponential, self._backoff_cap)
        # "Equal jitter", between half and all of the step, keeps retries out of step.
        return max(MIN_DELAY, capped * (0.5 + self._rng.random() / 2))


@dataclass(frozen=True, slots=True)
class _Done:
    """A message that has gone (or, ``covered``, need not go), to be recorded: ``ref`` is
    the platform's reference to it, or where its reader had the news."""

    message_id: int
    platform: str
    at: datetime
    ref: str | None = None
    delivered: bool = False
    covered: bool = False


def _outcomes(tasks: Iterable[asyncio.Task[_Done | None]]) -> list[_Done]:
    """What the finished sends among ``tasks`` left to record."""
    return [
        outcome
        for task in tasks
        if task.done() and not task.cancelled() and task.exception() is None
        if (outcome := task.result()) is not None
    ]


def _count(lane: asyncio.Task[int] | None) -> int:
    """How many a finished lane delivered (a failed one is raised by its caller)."""
    if lane is None or not lane.done() or lane.cancelled() or lane.exception() is not None:
        return 0
    return lane.result()
