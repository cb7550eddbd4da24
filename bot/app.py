"""The Application: settings, database, workers and adapters wired together, and one dispatch."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import secrets
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlmodel import Session

from bot import render, report_reads
from bot.adapters.base import Adapter, DirectReach
from bot.charts import chart_ids
from bot.clock import Clock, VirtualClock
from bot.config.directory import Config
from bot.db_executor import DbExecutor
from bot.delivery import DeliveryWorker
from bot.errors import StartupError
from bot.guard_ticks import GuardTicks
from bot.http_client import HttpClient
from bot.i18n import Translator
from bot.integrations import Integrations, MissingSecret, build
from bot.live import Broadcaster
from bot.metrics import Metrics
from bot.news_first import NewsFirst
from bot.replicas import GUARDS, Replica, new_instance_id
from bot.settings import Settings
from bot.sign_in_links import sign_in_links
from bot.timers import TimerService
from bot.traffic.router import TrafficRouter
from commands.core import pipeline
from commands.core.effects import SeededTokens
from commands.core.invocations import (
    ButtonPress,
    CommandInvocation,
    Inbound,
    Invocation,
    Observation,
    Outcome,
    TimerFired,
)
from commands.general import housekeeping
from commands.general.admin import DeadLetter
from commands.oncall import handoff, rotations
from commands.oncall.paging import WayFailed
from commands.releases import watch as release_watch
from commands.releases.watch import GuardReadings, TrafficFailed
from commands.reports import configured as summary_config
from commands.reports.runs import ResumeReports
from commands.table import build_table, inbound_handlers, observation_handlers, timer_handlers
from playbooks.effects import Conversation, Measure, ReadReport
from playbooks.messages import Message, message_to_json
from playbooks.oncall.teams import Team
from playbooks.people import APPRISE_WAYS
from playbooks.releases.machine import Release
from storage import changes, migrate, notices
from storage.engine import make_engine, normalise_url, redact_url
from storage.models import OutboxMessage
from storage.repositories import channels, outbox, send_holds, timers
from storage.repositories import summaries as summaries_repo
from storage.unit_of_work import unit_of_work

log = logging.getLogger("shipwatch.app")


def open_database(settings: Settings) -> Engine:
    """Connect and migrate, or explain in one sentence why not."""
    where = redact_url(settings.database_url)
    try:
        url = make_url(normalise_url(settings.database_url))
    except ArgumentError:
        raise StartupError(
            f"SHIPWATCH_DATABASE_URL {where!r} is not a database URL; "
            "use sqlite:///path/to/file.db or postgresql://user:password@host/db."
        ) from None
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        raise StartupError(
            "An in-memory SQLite database would forget everything, timers included; "
            "give SHIPWATCH_DATABASE_URL a file, like sqlite:///var/shipwatch.db."
        )
    engine = None
    try:
        engine = make_engine(settings.database_url)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        migrate.prepare(engine)
    except (SQLAlchemyError, OSError) as error:
        _dispose(engine)
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        raise StartupError(
            f"Cannot use the database at {where}: {reason}. "
            "Check SHIPWATCH_DATABASE_URL and that the server is running."
        ) from None
    except migrate.MigrationError:
        current = migrate.current_revision(engine) if engine is not None else None
        _dispose(engine)
        raise StartupError(
            f"The database at {where} is at schema revision {current}, which this version "
            "of Shipwatch does not know (was it written by a newer one?). Run the newer "
            "version, or point SHIPWATCH_DATABASE_URL at another database."
        ) from None
    return engine


def _dispose(engine: Engine | None) -> None:
    if engine is not None:
        engine.dispose()


def token_source(rng: random.Random | None) -> Callable[[], str]:
    """Button tokens: random in production, seeded in drills so their output repeats."""
    if rng is None:
        return lambda: secrets.token_urlsafe(6)
    return SeededTokens(rng)


class Application:
    """One running Shipwatch. Built once and passed around; there are no module singletons."""

    def __init__(
        self,
        *,
        settings: Settings,
        config: Config,
        engine: Engine,
        clock: Clock,
        adapters: Mapping[str, Adapter],
        seed: int | None = None,
        drill: bool | None = None,
    ) -> None:
        self.settings = settings
        # A drill rehearses on the virtual clock (`console --drill`): its simulated numbers
        # are the point. Anywhere else a simulated service's numbers are made up, and every
        # report and status says so.
        self.drill = clock.virtual if drill is None else drill
        self.config = config
        self.engine = engine
        self.clock = clock
        self.adapters = adapters
        # Who this process is to the database: written on the claims it holds (outbox
        # messages, leases), so a survivor can tell a dead holder's from a live one's.
        self.instance_id = new_instance_id()
        self.db = DbExecutor(engine)
        rng = random.Random(seed) if seed is not None else None
        self._chart_id = chart_ids(random.Random(f"charts-{seed}") if seed is not None else None)
        self.http = HttpClient()
        try:
            self.integrations: Integrations = build(config.releases, self.http)
        except MissingSecret as error:
            raise StartupError(str(error)) from None
        self.runtime = pipeline.Runtime(
            engine=engine,
            directory=config.directory,
            table=build_table(),
            timer_handlers=timer_handlers(),
            tz=settings.tz,
            default_locale=settings.locale,
            new_token=token_source(rng),
            reachable_platforms=frozenset(adapters),
            can_reach=_direct_reach(adapters),
            releases=config.releases.catalog,
            incidents=config.incidents,
            observation_handlers=observation_handlers(),
            inbound_handlers=inbound_handlers(),
            teams=config.teams,
            channel_zones=_channel_zones(config.teams.values()),
            home_platform=_home_platform(adapters),
            drill=self.drill,
            sign_in=sign_in_links(
                settings.action_link_secret,
                public_url=settings.public_url,
                minutes=settings.web_link_minutes,
            ),
            summaries=dataclasses.replace(
                config.summaries,
                grace=timedelta(minutes=settings.summary_grace_minutes),
                jitter=timedelta(minutes=settings.summary_jitter_minutes),
            ),
        )
        self.metrics = Metrics(
            outbox_depth=lambda: _outbox_depth(engine),
            timers_armed=lambda: _timers_pending(engine),
        )
        self.delivery = DeliveryWorker(
            engine=engine,
            owner=self.instance_id,
            db=self.db,
            adapters=adapters,
            clock=clock,
            translator_for=self._translator_for,
            metrics=self.metrics,
            max_attempts=settings.outbox_max_attempts,
            backoff=timedelta(seconds=settings.outbox_backoff_seconds),
            backoff_cap=timedelta(seconds=settings.outbox_backoff_cap_seconds),
            rng=rng or random.Random(),
            traffic=TrafficRouter(self.integrations.traffic).deliver,
            on_dead=self._dead_letter,
            channel_id=config.channels.to_id,
            member_by_config=self._member_by_config,
        )
        self.ticks = GuardTicks(
            clock=clock, measure=self._measure, on_duty=lambda: self.replica.duties.holds(GUARDS)
        )
        self.timers = TimerService(
            engine=engine,
            db=self.db,
            clock=clock,
            fire=self.fire_timer,
            also_sweep=self._reconcile_ticks,
        )
        self.replica = Replica(
            engine=engine,
            clock=clock,
            metrics=self.metrics,
            ticks=self.ticks,
            live=self._live_releases,
            adapters=adapters,
            sweep_timers=self.timers.sweep,
            wake_delivery=self.delivery.wake,
            reconcile_ticks=self._reconcile_ticks,
            instance_id=self.instance_id,
            changes_heard=self._changes_heard,
        )
        # What changed, for the web console's open pages (``storage.changes``).
        self.live = Broadcaster()
        self._enqueued = False  # set by dispatch; lets the drill skip idle outbox checks
        self.started = False  # until start() has finished: not ready for traffic before
        self.news_first = NewsFirst()

    async def dispatch(self, invocation: Invocation) -> Outcome:
        """The one way in: every command, button press and timer goes through here."""
        try:
            # A repeat known from memory needs no database; anything else may wait seconds
            # for a lock in its transaction: never on the loop.
            known = pipeline.known_repeat(invocation, runtime=self.runtime)
            if known is None:
                with self.news_first.news():
                    outcome = await self.db.run(self._run, invocation, self.clock.now())
            else:
                if self.news_first.working:
                    await self.news_first.repeat()  # it says nothing new: news goes first
                outcome = known
        except Exception:
            # The pipeline answers every failure it can; this is for the database
            # vanishing under it. The person still gets a sentence, not a traceback.
            reference = uuid.uuid4().hex[:8]
            log.exception("dispatch failed", extra={"ref": reference})
            conversation = getattr(invocation, "conversation", None)
            outcome = Outcome(
                status="error",
                command="-",
                reply=pipeline.internal_error_message(reference) if conversation else None,
                reply_to=conversation,
                locale=self.settings.locale,
            )
        self.metrics.handled(outcome.command, outcome.status)
        for key in outcome.cancelled:
            self.timers.cancel(key)
        for key, due_at in outcome.armed:
            self.timers.arm(key, due_at)
        if outcome.watch:
            self.ticks.apply(outcome.watch)
        if outcome.enqueued:
            self._enqueued = True
            self.delivery.wake(outcome.enqueued_on)
        for read in outcome.measure:
            if isinstance(read, ReadReport):
                await self._read_report(read)
            else:
                await self._measure(read)
        return outcome

    async def _measure(self, m: Measure) -> None:
        """Read a release's guards (network I/O, outside any transaction), then hand the
        readings back through the pipeline to be judged."""
        readings = await self.integrations.measure(m)
        payload = GuardReadings(
            release_id=m.release_id, attempt=m.attempt, stage=m.stage, at=m.at, readings=readings
        )
        await self.dispatch(Observation(payload))

    async def _read_report(self, read: ReadReport) -> None:
        """Read a report's metrics and draw its chart (outside any transaction), then hand
        them back through the pipeline to be composed and posted."""
        payload = await report_reads.gather(
            read,
            sources=self.integrations.sources,
            specs=self.config.summaries.metrics,
            new_chart_id=self._chart_id,
        )
        await self.dispatch(Observation(payload))

    def _member_by_config(self, handle: str, channel: str) -> bool | None:
        """people.yaml's word on who is in a channel, where the platform gives none: a
        person with no channels listed is not known to be anywhere."""
        person = self.config.directory.get(handle)
        if person is None or not person.channels:
            return None
        return channel in person.channels

    async def _dead_letter(self, row: OutboxMessage) -> None:
        """A traffic change given up on must not pass silently; nor, where an admin channel
        is set, a message nobody will receive."""
        assert row.id is not None
        if row.kind == "traffic":
            change = row.message
            failed = TrafficFailed(
                service=str(change["service"]),
                percent=float(change["percent"]),
                key=str(change["key"]),
                reason=row.last_error or "",
                outbox_id=row.id,
            )
            await self.dispatch(Observation(failed))
            return
        if row.follow_up is not None:
            follow = row.follow_up
            way = WayFailed(
                page_id=int(follow["page"]),
                person=str(follow["person"]),
                way=row.platform,
                reason=row.last_error or "",
                ways_left=tuple(str(w) for w in follow.get("next", ())),
                message=dict(row.message),
            )
            await self.dispatch(Observation(way))
            if way.ways_left:
                return  # the page goes on by another way: nothing for the admin channel
        admin = self.settings.admin_channel
        conversation = f"{row.platform}:{row.address}"
        if admin and Conversation.parse(admin, default_platform=self.runtime.home_platform) != (
            Conversation(row.platform, row.address)
        ):
            dead = DeadLetter(
                outbox_id=row.id,
                conversation=conversation,
                reason=row.last_error or "",
                admin_channel=admin,
            )
            await self.dispatch(Observation(dead))

    def _run(self, invocation: Invocation, now: datetime) -> Outcome:
        match invocation:
            case CommandInvocation():
                return pipeline.run_command(invocation, runtime=self.runtime, now=now)
            case ButtonPress():
                return pipeline.run_press(invocation, runtime=self.runtime, now=now)
            case TimerFired():
                return pipeline.run_timer(invocation, runtime=self.runtime, now=now)
            case Observation():
                return pipeline.run_observation(invocation, runtime=self.runtime, now=now)
            case Inbound():
                return pipeline.run_inbound(invocation, runtime=self.runtime, now=now)

    async def fire_timer(self, key: str) -> Outcome:
        return await self.dispatch(TimerFired(key))

    def translator(self, locale: str, tz: tzinfo | None = None) -> Translator:
        return Translator(locale, tz or self.settings.tz)

    def channel_name(self, platform: str, channel_id: str) -> str:
        return self.config.channels.to_name(platform, channel_id)

    def chart_url(self, chart_id: str) -> str:
        return render.chart_url(self.settings.public_url, chart_id)

    async def chart_png(self, chart_id: str) -> bytes | None:
        return await self.db.run(_chart_png, self.engine, chart_id)

    async def enqueue_reply(
        self, platform: str, channel: str, message: Message, *, locale: str
    ) -> None:
        await self.db.run(self._enqueue_reply, platform, channel, message, locale)
        self.delivery.wake((platform,))

    def _enqueue_reply(self, platform: str, channel: str, message: Message, locale: str) -> None:
        with unit_of_work(self.engine) as session:
            outbox.enqueue(
                session,
                platform=platform,
                address=self.channel_name(platform, channel),
                kind="post",
                message=message_to_json(message),
                now=self.clock.now(),
                locale=locale,
            )
            notices.notify(session, "outbox")

    async def hold_sends(self, key: str, *, seconds: float, reason: str) -> None:
        until = self.clock.now() + timedelta(seconds=seconds)
        await self.db.run(self._hold_sends, key, until, reason)

    def _hold_sends(self, key: str, until: datetime, reason: str) -> None:
        with Session(self.engine, expire_on_commit=False) as session:
            send_holds.record(session, key=key, until=until, reason=reason)

    async def sends_held_for(self, key: str) -> float:
        now = self.clock.now()
        until = await self.db.run(self._held_until, key, now)
        return (until - now).total_seconds() if until is not None else 0.0

    def _held_until(self, key: str, now: datetime) -> datetime | None:
        with unit_of_work(self.engine) as session:
            return send_holds.held_until(session, key=key, now=now)

    async def start(self) -> None:
        self.live.start(asyncio.get_running_loop())
        changes.watch(self.engine, self.live.publish, origin=self.instance_id)
        if self.engine.dialect.name == "sqlite":
            # SQLite means one process: a claim found now is a dead predecessor's, and its
            # messages go at once instead of waiting out the claim.
            await self.delivery.take_back_claims()
        teams, now = dict(self.config.teams), self.clock.now()
        await self.db.run(rotations.sync_rotations, self.engine, teams, now=now)
        await self.db.run(handoff.sync_handoffs, self.engine, teams, now=now)
        await self.db.run(
            housekeeping.ensure,
            self.engine,
            keep_days=self.settings.keep_days,
            tz=str(self.settings.tz),
            now=now,
        )
        await self.db.run(
            summary_config.sync_subscriptions,
            self.engine,
            self.config.summaries,
            tz=str(self.settings.tz),
            home_platform=_home_platform(self.adapters),
            now=now,
        )
        if self.replica.duties.holds(GUARDS):  # alone; else when the lease is won
            self.ticks.rebuild(await self._live_releases())
        for adapter in self.adapters.values():
            await adapter.start(self)
        # Reports whose readings never came back before the last stop are read again.
        await self.dispatch(Observation(ResumeReports()))
        await self.timers.start()
        await self.replica.start()  # guard ticks, polling: here or on another replica
        self.started = True

    async def stop(self) -> None:
        changes.unwatch(self.engine)
        self.live.stop()
        await self.replica.stop()
        await self.timers.stop()
        await self.delivery.stop()
        for adapter in self.adapters.values():
            await adapter.stop()
        await self.http.close()
        await self.db.shutdown()

    def _changes_heard(self, notice: str) -> None:
        """Another replica's commit changed what a page here may show."""
        heard = changes.read_payload(notice)
        if heard is not None and heard[0] != self.instance_id:
            self.live.publish(heard[1])

    async def settle(self) -> None:
        """Deliver everything that is due now (the console calls this after each line)."""
        await self.delivery.deliver_due()

    async def advance_to(self, target: datetime) -> None:
        """Virtual clock only: move to ``target`` firing every guard tick, timer and retry
        in time order."""
        if not isinstance(self.clock, VirtualClock):
            raise RuntimeError("advance_to needs a virtual clock")
        await self._reconcile_ticks()
        await self._fire_due()
        await self.delivery.deliver_due()
        previous: datetime | None = None
        while True:
            retry_at = await self.delivery.next_attempt()
            due = (await self.timers.next_due(), self.ticks.next_due(), retry_at)
            upcoming = [t for t in due if t]
            step = min(upcoming, default=None)
            if step is None or step > target:
                break
            if step == previous and step <= self.clock.now():
                # Nothing due can make progress: stop rather than spin (and say so).
                log.error("virtual clock stalled", extra={"at": step.isoformat()})
                break
            previous = step
            self.clock.advance_to(max(step, self.clock.now()))
            self._enqueued = False
            await self._fire_due()
            # Most steps are guard ticks that write nothing to the outbox: skip the
            # outbox query then, unless a retry fell due.
            if self._enqueued or (retry_at is not None and retry_at <= self.clock.now()):
                await self.delivery.deliver_due()
        self.clock.advance_to(target)
        await self.delivery.deliver_due()

    async def _fire_due(self) -> None:
        """What falls due at one moment: the guards are read first, so whatever else
        happens then (a progress post, a runbook step) sees that moment's readings."""
        await self.ticks.fire_due()
        await self.timers.fire_due()

    async def _reconcile_ticks(self) -> None:
        """Follow the releases another process started, moved or stopped."""
        if not self.replica.duties.holds(GUARDS):
            return

        async def read_marks() -> dict[int, tuple[int, int, str]]:
            return await self.db.run(_live_marks, self.engine)

        await self.ticks.reconcile(read_marks, self._live_releases)

    async def _live_releases(self) -> list[Release]:
        return await self.db.run(_live_releases, self.engine)

    def _translator_for(self, session: Session, row: outbox.Claimed) -> Translator:
        """A direct message speaks the person's language and shows their timezone; a post,
        the channel's language and its team's timezone."""
        locale: str | None = None
        tz: tzinfo | None = None
        if row.kind == "direct":
            person = self.config.directory.by_identity(row.platform, row.address)
            locale, tz = (person.locale, person.tz) if person else (None, None)
        else:
            tz = self.runtime.channel_zones.get(row.address)
            if row.locale is None:
                locale = channels.locale(session, platform=row.platform, channel=row.address)
        if row.locale is not None:  # a reply an adapter handed over: its reader's language
            locale = row.locale
        return self.translator(locale or self.settings.locale, tz)

    async def ready(self) -> bool:
        """Started, and its database reachable and current: what a load balancer asks."""
        if not self.started:
            return False
        try:
            return await self.db.run(migrate.is_current, self.engine)
        except SQLAlchemyError:
            return False


def _channel_zones(teams: Iterable[Team]) -> dict[str, tzinfo]:
    """A team's channel reads times in the team's timezone; a channel two teams in different
    timezones share keeps the default."""
    zones: dict[str, tzinfo] = {}
    shared: set[str] = set()
    for team in teams:
        if team.channel is None:
            continue
        if team.channel in zones and zones[team.channel] != team.tz:
            shared.add(team.channel)
        zones.setdefault(team.channel, team.tz)
    return {channel: tz for channel, tz in zones.items() if channel not in shared}


def _direct_reach(adapters: Mapping[str, Adapter]) -> Callable[[str, str], bool]:
    """Whether a direct message on a platform can reach a user id, asked of its adapter."""
    narrow = {name: a for name, a in adapters.items() if isinstance(a, DirectReach)}

    def can_reach(platform: str, user_id: str) -> bool:
        adapter = narrow.get(platform)
        return adapter is None or adapter.reaches(user_id)

    return can_reach


def _home_platform(adapters: Mapping[str, Adapter]) -> str:
    """Where a bare channel name like "#incidents" is, for news nobody typed a command
    for (alerts): the first chat platform running, else the console; email, SMS and push
    only when nothing else runs (their channels are then the ones channels.yaml names)."""
    chat = [name for name in adapters if name != "console" and name not in APPRISE_WAYS]
    if chat:
        return chat[0]
    if "console" in adapters or not adapters:
        return "console"
    return next(iter(adapters))


def _chart_png(engine: Engine, chart_id: str) -> bytes | None:
    with unit_of_work(engine) as session:
        found = summaries_repo.chart(session, chart_id=chart_id)
        return found.png if found is not None else None


def _live_releases(engine: Engine) -> list[Release]:
    with unit_of_work(engine) as session:
        return release_watch.live(session)


def _live_marks(engine: Engine) -> dict[int, tuple[int, int, str]]:
    with unit_of_work(engine) as session:
        return release_watch.live_marks(session)


# The gauges are read at scrape time; /metrics renders on a database thread (bot/http.py).
def _outbox_depth(engine: Engine) -> dict[str, int]:
    with unit_of_work(engine) as session:
        return outbox.depth(session)


def _timers_pending(engine: Engine) -> int:
    with unit_of_work(engine) as session:
        return timers.count_pending(session)
