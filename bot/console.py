"""The console: chat with Shipwatch in a terminal, or rehearse a launch on a virtual clock.

A line starting with ``/`` is a command from the current person in the current
channel; a line starting with ``:`` is a directive (``:as``, ``:in``,
``:advance``, ``:now``, ``:press``, ``:metric``, ``:play``, ``:quit``); a line starting
with ``#`` is a comment, so drill scripts can explain themselves. ``:play FILE`` types a
drill script's lines here, each shown as it is typed, so a drill's story can be looked
at afterwards (``/web``) in the console that played it.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import sys
import threading
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from bot.adapters.console import ConsoleAdapter
from bot.alert_payloads import from_alertmanager
from bot.app import Application
from commands.core.grammar import parse_duration
from commands.core.invocations import ButtonPress, CommandInvocation, Inbound, Outcome
from commands.core.untrusted import shown
from commands.incidents.alerts import KIND as ALERT_KIND
from playbooks.effects import Conversation
from playbooks.errors import UsageError
from playbooks.messages import Text, raw, t

PLATFORM = "console"
MAX_ADVANCE = timedelta(days=7)  # the longest a plan looks ahead (the day-7 follow-up)


def channel_name(raw: str) -> str:
    name = raw.strip()
    return name if name.startswith("#") else f"#{name}"


class Console:
    def __init__(
        self,
        app: Application,
        adapter: ConsoleAdapter,
        *,
        user: str,
        channel: str,
        locale: str,
        web_url: str | None = None,
    ) -> None:
        self.app = app
        self.web_url = web_url  # where the web console is served, when it is
        self.adapter = adapter
        self.user = user
        self.channel = channel_name(channel)
        self.tr = app.translator(locale)
        self._event = 0
        self._playing = False  # inside :play (a script does not play another)

    async def run(self, read_line: Callable[[str], Awaitable[str | None]]) -> None:
        person = self.app.config.directory.get(self.user)
        handle = person.handle if person else self.user
        self.note(t("console.banner", handle=handle, channel=self.channel))
        if self.app.clock.virtual:
            self.note(t("console.drill_banner", now=self.app.clock.now()))
        if self.web_url is not None:
            self.note(t("console.web", url=raw(self.web_url)))
        await self.app.settle()
        while True:
            line = await read_line(f"{self.user}@{self.channel}> ")
            if line is None:
                return
            if not await self.handle_line(line):
                return

    async def handle_line(self, line: str) -> bool:
        """Handle one line; False when the console should close."""
        text = line.strip()
        if not text or text.startswith("#"):
            return True
        if text.startswith(":"):
            keep_going = await self.directive(text)
        else:
            self._event += 1
            outcome = await self.app.dispatch(
                CommandInvocation(
                    platform=PLATFORM,
                    user_id=self.user,
                    conversation=Conversation(PLATFORM, self.channel),
                    text=text,
                )
            )
            self.show(outcome)
            keep_going = True
        await self.app.settle()
        return keep_going

    def show(self, outcome: Outcome) -> None:
        if outcome.reply is None or outcome.reply_to is None:
            return
        self.adapter.show(
            outcome.reply_to.channel,
            outcome.reply,
            self.app.translator(outcome.locale, outcome.tz),
        )

    def note(self, text: Text) -> None:
        self.adapter.say(self.tr(text))

    async def directive(self, text: str) -> bool:
        name, _, argument = text.partition(" ")
        argument = argument.strip()
        name = name.lower()
        if name in (":quit", ":q", ":exit"):
            return False
        if name == ":help":
            self.note(t("console.directives"))
        elif name == ":now":
            self.note(t("console.now", now=self.app.clock.now()))
        elif name == ":as":
            self._as(argument)
        elif name == ":in":
            if not argument:
                self.note(t("console.needs_argument", directive=":in", usage=":in #CHANNEL"))
            else:
                self.channel = channel_name(argument)
                self.note(t("console.in", channel=self.channel))
        elif name == ":advance":
            await self._advance(argument)
        elif name == ":press":
            await self._press(argument)
        elif name == ":metric":
            self._metric(argument)
        elif name == ":alert":
            await self._alert(argument)
        elif name == ":play":
            return await self._play(argument)
        else:
            self.note(
                t("console.unknown_directive", value=name, directives=t("console.directives"))
            )
        return True

    async def _play(self, argument: str) -> bool:
        """Type the lines of the drill script ``argument`` here, one by one, as if typed;
        False when one of them closes the console (``:quit``)."""
        if not argument:
            usage = ":play drills/FILE.txt"
            self.note(t("console.needs_argument", directive=":play", usage=usage))
            return True
        if self._playing:
            self.note(t("console.play_nested"))
            return True
        try:
            text = await asyncio.to_thread(Path(argument).read_text, encoding="utf-8")
            lines = text.splitlines()
        except (OSError, UnicodeDecodeError):
            self.note(t("console.play_unreadable", path=argument))
            return True
        typed = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
        self._playing = True
        try:
            for line in lines:
                if line.strip() and not line.lstrip().startswith("#"):
                    self.adapter.say(f"{self.user}@{self.channel}> {line.strip()}")
                if not await self.handle_line(line):
                    return False
        finally:
            self._playing = False
        self.note(t("console.played", path=argument, count=len(typed)))
        return True

    def _as(self, argument: str) -> None:
        directory = self.app.config.directory
        person = directory.get(argument) if argument else None
        if person is None or "console" not in person.identities:
            known = ", ".join(sorted(directory.people))
            self.note(t("console.unknown_person", value=argument, known=known))
            return
        self.user = person.identities["console"]
        self.note(t("console.as", handle=person.handle))

    async def _advance(self, argument: str) -> None:
        if not self.app.clock.virtual:
            self.note(t("console.drill_only"))
            return
        if not argument:
            self.note(t("console.needs_argument", directive=":advance", usage=":advance 10m"))
            return
        try:
            delta = parse_duration(argument)
        except UsageError as error:
            self.note(error.text)
            return
        if delta > MAX_ADVANCE:
            # Every guard tick and timer on the way is run for real: a year of a live
            # release's 30-second ticks would take hours.
            self.note(t("console.advance_too_far", value=shown(argument), limit=MAX_ADVANCE))
            return
        await self.app.advance_to(self.app.clock.now() + delta)
        self.note(t("console.advanced", now=self.app.clock.now()))

    async def _alert(self, argument: str) -> None:
        """``:alert firing|resolved NAME SERVICE [SEVERITY]``: an Alertmanager notification
        of one alert, as POST /hooks/alertmanager would bring it (a rehearsal's monitoring)."""
        usage = ":alert firing|resolved NAME SERVICE [SEVERITY]"
        words = argument.split()
        if len(words) not in (3, 4) or words[0].lower() not in ("firing", "resolved"):
            self.note(t("console.needs_argument", directive=":alert", usage=usage))
            return
        status, alertname, service = words[0].lower(), words[1], words[2]
        labels = {"alertname": alertname, "service": service}
        if len(words) == 4:
            labels["severity"] = words[3]
        now = self.app.clock.now().isoformat()
        notification = from_alertmanager(
            {
                "version": "4",
                "groupKey": f'{{}}:{{alertname="{alertname}", service="{service}"}}',
                "status": status,
                "commonLabels": labels,
                "alerts": [
                    {
                        "status": status,
                        "labels": labels,
                        "startsAt": now,
                        "endsAt": now if status == "resolved" else "0001-01-01T00:00:00Z",
                    }
                ],
            }
        )
        self._event += 1
        await self.app.dispatch(
            Inbound(
                source="console",
                kind=ALERT_KIND,
                payload=notification,
                event_id=f"console-alert-{self._event}-{now}",
            )
        )

    def _metric(self, argument: str) -> None:
        """``:metric NAME VALUE`` (``0.08`` for 8%), ``:metric NAME none`` or
        ``:metric NAME error TEXT``: what simulated guards named NAME read from now on."""
        usage = ":metric NAME VALUE | :metric NAME none | :metric NAME error TEXT"
        name, _, rest = argument.partition(" ")
        value, _, reason = rest.strip().partition(" ")
        if not name or not value:
            self.note(t("console.needs_argument", directive=":metric", usage=usage))
            return
        source = self.app.integrations.simulated_metrics
        if value.lower() == "none":
            source.clear(name)
            self.note(t("console.metric_cleared", name=name))
        elif value.lower() == "error":
            why = reason.strip() or "simulated error"
            source.fail(name, why)
            self.note(t("console.metric_failing", name=name, reason=why))
        else:
            try:
                number = float(value.removesuffix("%")) / (100 if value.endswith("%") else 1)
            except ValueError:
                number = math.nan
            if reason.strip() or not math.isfinite(number):
                self.note(t("console.metric_bad_value", value=rest.strip(), usage=usage))
                return
            source.set(name, number)
            self.note(t("console.metric_set", name=name, value=number))

    async def _press(self, argument: str) -> None:
        if not argument:
            self.note(t("console.needs_argument", directive=":press", usage=":press LABEL"))
            return
        labelled = self.adapter.button_labelled(argument, person=self.user, channel=self.channel)
        outcome = await self.app.dispatch(
            ButtonPress(
                platform=PLATFORM,
                user_id=self.user,
                conversation=Conversation(PLATFORM, self.channel),
                action_id=labelled or argument,
            )
        )
        self.show(outcome)


def line_reader(stream: TextIO, *, interactive: bool) -> Callable[[str], Awaitable[str | None]]:
    """Read lines off the event loop: with a prompt at a terminal, silently from a pipe.

    Each read runs on a daemon thread, so Ctrl-C never leaves the process waiting
    for a line that will not come.
    """
    if interactive:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (line editing and history for input())

    def read_one(prompt: str) -> str | None:
        if interactive:
            try:
                return input(prompt)
            except EOFError:
                return None
        line = stream.readline()
        return line if line else None

    async def read(prompt: str) -> str | None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str | None] = loop.create_future()

        def settle(line: str | None) -> None:
            if not future.done():
                future.set_result(line)

        def worker() -> None:
            line = read_one(prompt)
            with contextlib.suppress(RuntimeError):  # the loop closed first
                loop.call_soon_threadsafe(settle, line)

        threading.Thread(target=worker, name="console-input", daemon=True).start()
        return await future

    return read


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()
