"""The ``shipwatch`` command: run, console, check, db upgrade (entered through ``bot.cli``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

from pydantic import ValidationError

from bot import adapters, local_web, logs, service_notify
from bot.adapters import discord_setup
from bot.adapters.console import ConsoleAdapter
from bot.app import Application, StartupError, open_database
from bot.clock import Clock, VirtualClock, WallClock
from bot.config.directory import Config, ConfigError, load
from bot.console import Console, line_reader, stdin_is_terminal
from bot.i18n import FALLBACK, Translator
from bot.settings import Settings
from bot.work_calendar import unknown_year_warning
from playbooks.errors import AdapterError
from playbooks.messages import Text, t
from playbooks.oncall.teams import sla_warnings
from playbooks.people import APPRISE_WAYS
from storage import migrate
from storage.engine import redact_url

log = logging.getLogger("shipwatch.cli")
DRILL_START = "2026-11-23T09:00:00+08:00"
DRILL_YEARS = (2000, 2099)
SWITCH_INTERVAL_S = 0.0005  # see _share_the_interpreter


class CliError(Exception):
    """A sentence for the person at the terminal, and the exit code."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logs.configure("WARNING")  # until the command knows its settings
    try:
        return int(args.func(args))
    except CliError as error:
        print(f"shipwatch: {error}", file=sys.stderr)
        return error.code
    except StartupError as error:
        print(f"shipwatch: {error}", file=sys.stderr)
        return 1
    except ConfigError as error:
        _print_problems(error, Translator(FALLBACK, UTC))
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        # Last resort: the details go to the log, the person gets one line.
        log.exception("shipwatch failed")
        print(
            f"shipwatch: unexpected error ({type(error).__name__}); see the log.", file=sys.stderr
        )
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shipwatch",
        description="Shipwatch: releases, incidents and on-call paging from chat.",
    )
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="start the bot (and the console when at a terminal)")
    run.set_defaults(func=_cmd_run)

    console = sub.add_parser("console", help="talk to Shipwatch in this terminal")
    console.add_argument("--as", dest="user", default="alice", help="who you are (default alice)")
    console.add_argument("--channel", default="#ops", help="where you are (default #ops)")
    console.add_argument("--drill", action="store_true", help="virtual clock, throwaway database")
    console.add_argument("--start", help=f"drill start time, ISO 8601 (default {DRILL_START})")
    console.add_argument("--locale", choices=("en", "zh"), help="language of replies")
    console.set_defaults(func=_cmd_console)

    check = sub.add_parser("check", help="validate a config directory")
    check.add_argument("directory", nargs="?", type=Path, help="default: SHIPWATCH_CONFIG_DIR")
    check.add_argument(
        "--on", metavar="DAY", help="the day to check for, like 2027-01-04 (default today)"
    )
    check.add_argument(
        "--locale", choices=("en", "zh"), help="language of the report (default SHIPWATCH_LOCALE)"
    )
    check.set_defaults(func=_cmd_check)

    discord = sub.add_parser("discord", help="set up the Discord application")
    discord_sub = discord.add_subparsers(required=True, metavar="ACTION")
    register = discord_sub.add_parser(
        "register", help="register the application commands (one per command family)"
    )
    register.add_argument(
        "--guild", metavar="ID", help="only in this server, where they show at once"
    )
    register.set_defaults(func=_cmd_discord_register)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(required=True, metavar="ACTION")
    upgrade = db_sub.add_parser("upgrade", help="apply migrations")
    upgrade.set_defaults(func=_cmd_db_upgrade)
    return parser


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        name = "SHIPWATCH_" + "_".join(str(p) for p in first["loc"]).upper()
        raise CliError(f"{name} is not valid: {first['msg']}.") from None


def _cmd_check(args: argparse.Namespace) -> int:
    settings = load_settings()
    today = _check_day(args.on, settings)
    tr = Translator(args.locale or settings.locale, UTC)
    directory = args.directory or settings.config_dir
    try:
        config = load(directory)
    except ConfigError as error:
        _print_problems(error, tr)
        return 2
    people = len(config.directory.people)
    catalog = config.releases.catalog
    said = t(
        "config.check.valid",
        where=str(directory) if directory else t("config.check.shipped"),
        people=t("config.check.people.one")
        if people == 1
        else t("config.check.people", count=people),
        services=len(catalog.services),
        plans=len(catalog.plans),
    )
    if _apprise_problems(config, tr):
        return 2
    print(tr(said))
    unusable = discord_setup.problems(settings)
    for problem in unusable:
        print(f"shipwatch: {tr(problem)}", file=sys.stderr)
    # A warning is worth reading but does not fail the check.
    for warning in config_warnings(config, today=today, tr=tr):
        print(tr(t("config.check.warning", text=warning)))
    for setting in settings_warnings(settings):
        print(tr(t("config.check.warning", text=setting)))
    problems = settings_problems(settings)
    for problem in problems:
        print(f"shipwatch: {tr(problem)}", file=sys.stderr)
    return 2 if unusable or problems else 0


def _cmd_discord_register(args: argparse.Namespace) -> int:
    """PUT the application commands on Discord; says which were registered."""
    settings = load_settings()
    tr = Translator(settings.locale, UTC)
    unusable = discord_setup.problems(settings)
    if not discord_setup.wanted(settings):
        unusable = [t("discord.setting_missing", setting="SHIPWATCH_DISCORD_BOT_TOKEN")]
    if unusable:
        raise CliError(" ".join(tr(problem) for problem in unusable))
    assert settings.discord_application_id is not None
    from commands.table import build_table

    commands = discord_setup.application_commands(build_table())
    rest = discord_setup.rest_from(settings)

    async def put() -> list[str]:
        try:
            return await discord_setup.register(
                rest, settings.discord_application_id or "", commands, guild=args.guild
            )
        finally:
            await rest.close()

    try:
        names = asyncio.run(put())
    except AdapterError as error:
        raise CliError(tr(error.text), code=1) from None
    where = (
        t("discord.registered_guild", guild=args.guild)
        if args.guild
        else t("discord.registered_everywhere")
    )
    print(tr(t("discord.registered", count=len(names), names=", ".join(names), where=where)))
    return 0


def settings_problems(settings: Settings) -> list[Text]:
    """Settings a configured platform cannot run without (its start would stop on them)."""
    keys = {
        "SHIPWATCH_MATTERMOST_URL": "mattermost.missing.url",
        "SHIPWATCH_MATTERMOST_TOKEN": "mattermost.missing.token",
    }
    return [t(keys[name]) for name in settings.mattermost_missing() if name in keys]


def settings_warnings(settings: Settings) -> list[Text]:
    """Settings a configured platform runs without, less well."""
    warnings: list[Text] = []
    if "SHIPWATCH_MATTERMOST_COMMAND_TOKENS" in settings.mattermost_missing():
        warnings.append(t("mattermost.missing.command_tokens"))
    if settings.mattermost_wanted and settings.action_link_secret is None:
        warnings.append(t("mattermost.missing.signer"))
    return warnings


def _apprise_problems(config: Config, tr: Translator) -> bool:
    """The Apprise targets that cannot be used (a missing secret, a URL Apprise cannot
    parse, a credential written inline), said on stderr; never the URLs themselves."""
    if not any(config.channels.of(way) for way in APPRISE_WAYS) and not any(
        way in APPRISE_WAYS for p in config.directory.people.values() for way in p.identities
    ):
        return False
    from bot.adapters.apprise_targets import targets

    problems = targets(config).problems
    if not problems:
        return False
    print(f"shipwatch: {tr(t('apprise.check.problems', count=len(problems)))}", file=sys.stderr)
    for problem in problems:
        print(f"  {tr(problem)}", file=sys.stderr)
    return True


def config_warnings(config: Config, *, today: date, tr: Translator) -> list[str]:
    """What is worth an operator's reading in a valid config: said by ``shipwatch check``
    and logged by ``shipwatch run`` as it starts."""
    warnings = [found.said(tr) for found in config.warnings]
    warnings += [
        f"teams.yaml: {warning}." for warning in sla_warnings(config.teams, config.incidents.policy)
    ]
    # A working calendar in use that does not know this year (or the next, once it is
    # close) would miss its holidays and working weekends.
    calendars = [config.incidents.policy.hours.calendar]
    calendars += [team.calendar for team in config.teams.values()]
    unknown = unknown_year_warning((c.country for c in calendars), today=today)
    if unknown:
        warnings.append(f"{unknown}.")
    return warnings


def _print_problems(error: ConfigError, tr: Translator) -> None:
    """Every problem, then every warning, on stderr."""
    count = len(error.problems)
    said = t("config.check.problems.one") if count == 1 else t("config.check.problems", count=count)
    print(f"shipwatch: {tr(said)}", file=sys.stderr)
    for problem in error.problems:
        print(f"  {problem.said(tr)}", file=sys.stderr)
    for warning in error.warnings:
        print(tr(t("config.check.warning", text=warning.said(tr))), file=sys.stderr)


def _check_day(text: str | None, settings: Settings) -> date:
    if text is None:
        return datetime.now(settings.tz).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CliError(f"--on {text!r} is not a day; write it like 2027-01-04.") from None


def _cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = load_settings()
    engine = open_database(settings)
    print(
        f"Database {redact_url(settings.database_url)} is at revision "
        f"{migrate.current_revision(engine)}."
    )
    engine.dispose()
    return 0


def _cmd_console(args: argparse.Namespace) -> int:
    with _drill_database(args.drill) as database_url:
        overrides: dict[str, object] = {}
        if database_url:
            overrides["database_url"] = database_url
        if args.locale:
            overrides["locale"] = args.locale
        settings = load_settings(**overrides)
        logs.configure(_console_log_level(settings), secrets=settings.secret_values())
        config = load(settings.config_dir)
        person = config.directory.get(args.user)
        if person is None or "console" not in person.identities:
            known = ", ".join(sorted(config.directory.people))
            raise CliError(f"there is nobody called {args.user!r}; known people: {known}.")
        clock: Clock = VirtualClock(_start_time(args.start)) if args.drill else WallClock()
        asyncio.run(_console(settings, config, clock, person.identities["console"], args.channel))
    return 0


async def _console(
    settings: Settings, config: Config, clock: Clock, user: str, channel: str
) -> None:
    # At a terminal the web console is served too (type /web, open the link); a script
    # piped in (a drill in CI) has nobody to open a page, and takes no port.
    interactive = stdin_is_terminal()
    if interactive:
        settings = local_web.for_this_terminal(settings)
    engine = open_database(settings)
    adapter = ConsoleAdapter(sys.stdout, public_url=settings.public_url)
    app = Application(
        settings=settings,
        config=config,
        engine=engine,
        clock=clock,
        adapters={"console": adapter},
        seed=0 if clock.virtual else None,
    )
    runner = None
    if interactive:
        from bot.http import serve  # the web console's routes: only when someone can open it

        runner, _ = await serve(app, host=settings.http_host, port=settings.http_port)
    await app.start()
    worker = None if clock.virtual else asyncio.create_task(app.delivery.run())
    try:
        console = Console(
            app,
            adapter,
            user=user,
            channel=channel,
            locale=settings.locale,
            web_url=f"{settings.public_url.rstrip('/')}/web" if interactive else None,
        )
        await console.run(line_reader(sys.stdin, interactive=interactive))
    finally:
        if runner is not None:
            await runner.cleanup()
        await app.stop()
        if worker is not None:
            await worker
        engine.dispose()


def _cmd_run(args: argparse.Namespace) -> int:
    _share_the_interpreter()
    settings = load_settings()
    logs.configure(settings.log_level, secrets=settings.secret_values())
    config = load(settings.config_dir)
    asyncio.run(_run(settings, config))
    return 0


async def _run(settings: Settings, config: Config) -> None:
    # Heard from the first moment: a SIGTERM while starting stops the bot as cleanly as
    # one later, never the interpreter's default of dying on the spot.
    stop = _stop_on_signals()
    chat = adapters.build(settings, config)
    engine = open_database(settings)
    # Once the bot can start at all: a database it cannot use is said alone, in one line.
    tr = Translator(settings.locale, settings.tz)
    for warning in config_warnings(config, today=datetime.now(settings.tz).date(), tr=tr):
        log.warning("config warning", extra={"warning": warning})
    if not chat:
        # Only the console: /web signs in with a key made for this run unless one is set.
        settings = local_web.with_sign_in_key(settings)
    adapter = ConsoleAdapter(sys.stdout, public_url=settings.public_url)
    # With a chat platform, someone reachable on none of them is a dead letter an admin
    # sees in /admin outbox, not a line printed to a server's stdout that nobody reads.
    app = Application(
        settings=settings,
        config=config,
        engine=engine,
        clock=WallClock(),
        adapters=chat or {"console": adapter},
    )
    from bot.http import serve

    try:
        runner, port = await serve(app, host=settings.http_host, port=settings.http_port)
    except OSError as error:
        engine.dispose()
        raise StartupError(
            f"Cannot listen on {settings.http_host}:{settings.http_port} ({error.strerror}); "
            "set SHIPWATCH_HTTP_PORT to a free port."
        ) from None
    await app.start()
    worker = asyncio.create_task(app.delivery.run())
    log.info(
        "shipwatch ready",
        extra={
            "host": settings.http_host,
            "port": port,
            "database": redact_url(settings.database_url),
        },
    )
    # Under systemd (Type=notify): the server listens and the app is started.
    service_notify.notify(f"READY=1\nSTATUS=serving on {settings.http_host}:{port}")
    try:
        if stdin_is_terminal() and not chat:
            console = Console(
                app,
                adapter,
                user="alice",
                channel="#ops",
                locale=settings.locale,
                web_url=f"{settings.public_url.rstrip('/')}/web",
            )
            typing = asyncio.create_task(console.run(line_reader(sys.stdin, interactive=True)))
            signalled = asyncio.create_task(stop.wait())
            # Leaving the console (:quit, Ctrl-D) or a SIGTERM, whichever comes first.
            _, pending = await asyncio.wait(
                {typing, signalled}, return_when=asyncio.FIRST_COMPLETED
            )
            for task in pending:
                task.cancel()
        else:
            await stop.wait()
    finally:
        service_notify.notify("STOPPING=1")
        log.info("shipwatch stopping")
        # The server first: requests already in hand finish against a running bot (they
        # need the database threads, which app.stop ends).
        await runner.cleanup()
        await app.stop()
        await worker
        engine.dispose()
        log.info("shipwatch stopped")


def _stop_on_signals() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


def _share_the_interpreter() -> None:
    """Hand the interpreter between threads every 0.5 ms instead of every 5 ms.

    The database thread gives up the interpreter lock around every SQLite call and must
    win it back from the event loop; with the default interval a busy loop makes it wait up
    to 5 ms each time, which adds up over a transaction of many statements. Measured with
    `python -m bench incidents` (an Alertmanager flood): alert-to-outbox p99 127 ms at
    5 ms, 45 ms at 0.5 ms, 58 ms at 1 ms; request p99 46 ms and 21-23 ms.
    """
    sys.setswitchinterval(SWITCH_INTERVAL_S)


def _start_time(text: str | None) -> datetime:
    value = text or DRILL_START
    try:
        start = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CliError(f"--start {value!r} is not an ISO 8601 time, e.g. {DRILL_START}.") from None
    if start.tzinfo is None:
        raise CliError(f"--start {value!r} needs an offset, e.g. {DRILL_START}.")
    # A drill rehearses a launch near our time; years at the ends of the calendar cannot
    # even be moved between timezones.
    if not DRILL_YEARS[0] <= start.year <= DRILL_YEARS[1]:
        raise CliError(
            f"--start {value!r} is outside the years {DRILL_YEARS[0]}–{DRILL_YEARS[1]} "
            f"a drill can start in, e.g. {DRILL_START}."
        )
    return start


@contextlib.contextmanager
def _drill_database(drill: bool) -> Iterator[str | None]:
    """A drill uses a throwaway SQLite file unless SHIPWATCH_DATABASE_URL names one.

    Only the environment counts, not ``.env``: a drill started next to a live
    bot's ``.env`` must never fire that bot's real reminders.
    """
    if not drill or os.environ.get("SHIPWATCH_DATABASE_URL"):
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="shipwatch-drill-") as folder:
        yield f"sqlite:///{folder}/drill.db"


def _console_log_level(settings: Settings) -> str:
    # Keep the conversation readable: only warnings unless a level was asked for.
    return settings.log_level if "log_level" in settings.model_fields_set else "WARNING"
