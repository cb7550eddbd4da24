"""A direct message goes to the first of a person's identities whose platform can reach them:
DingTalk without its app, and without the person's own robot, cannot."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.adapters.dingtalk import DingTalkAdapter
from bot.app import Application
from bot.clock import VirtualClock
from bot.config.directory import load
from bot.config.robots import robots
from bot.http_client import HttpClient
from bot.settings import Settings
from commands.core.effects import apply
from commands.core.invocations import CommandInvocation
from playbooks.effects import Conversation, DirectMessage
from playbooks.messages import Message, raw
from playbooks.people import Directory, Person
from storage import migrate
from storage.engine import make_engine
from storage.models import OutboxMessage
from storage.unit_of_work import unit_of_work
from tests.fakes.adapters import RecordingAdapter
from tests.fakes.robot_world import START

BOB = Person("bob", "Bob Li", identities={"dingtalk": "staff-bob", "slack": "U0BOB"})


def written(engine: Engine, **reach: object) -> tuple[str, str]:
    with unit_of_work(engine) as session:
        apply(
            session,
            [DirectMessage("bob", Message.of(raw("wake up")))],
            now=START,
            directory=Directory.of([BOB]),
            new_token=lambda: "t",
            **reach,  # type: ignore[arg-type]
        )
    with Session(engine) as session:
        row = session.exec(select(OutboxMessage)).one()
        session.delete(row)
        session.commit()
        return row.platform, row.address


def test_the_first_identity_that_can_be_reached_wins(engine: Engine) -> None:
    both = frozenset({"dingtalk", "slack"})
    assert written(engine, reachable=both) == ("dingtalk", "staff-bob"), "preferred first"
    no_dingtalk_route = {"can_reach": lambda platform, user: platform != "dingtalk"}
    assert written(engine, reachable=both, **no_dingtalk_route) == ("slack", "U0BOB")
    nobody = {"can_reach": lambda platform, user: False}
    # Reachable nowhere: the first running platform, where it is set aside naming the fix.
    assert written(engine, reachable=both, **nobody) == ("dingtalk", "staff-bob")
    assert written(engine, reachable=frozenset({"slack"})) == ("slack", "U0BOB")


PEOPLE = """\
people:
  - handle: alice
    name: Alice Chen
    identities: {slack: U0ALICE}
  - handle: bob
    name: Bob Li
    identities: {dingtalk: staff-bob, slack: U0BOB}
  - handle: carol
    name: Carol Wang
    identities: {dingtalk: staff-carol, slack: U0CAROL}
"""
ROBOTS = """\
dingtalk:
  "#ops": {webhook: dt-ops-token}
  "@staff-carol": {webhook: dt-staff-carol-token}
"""


async def test_bob_without_a_dingtalk_route_gets_his_page_on_slack(
    sqlite_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "people.yaml").write_text(PEOPLE, "utf-8")
    (folder / "roles.yaml").write_text("roles:\n  admin: [alice]\n", "utf-8")
    (folder / "robots.yaml").write_text(ROBOTS, "utf-8")
    config = load(folder)
    clock = VirtualClock(START)
    dingtalk = DingTalkAdapter(
        robots=robots(config.robots.dingtalk, platform="dingtalk", environ={}),
        app_secret=None,
        api_url="http://127.0.0.1:9",
        http=HttpClient(),
        clock=clock,
        signer=None,
        directory=config.directory,
    )
    slack = RecordingAdapter(platform="slack")
    engine = make_engine(sqlite_url)
    migrate.upgrade(engine)
    app = Application(
        settings=Settings(database_url=sqlite_url),
        config=config,
        engine=engine,
        clock=clock,
        adapters={"dingtalk": dingtalk, "slack": slack},
        seed=0,
    )
    await app.start()
    try:
        for target in ("bob", "carol"):
            outcome = await app.dispatch(
                CommandInvocation(
                    "slack", "U0ALICE", Conversation("slack", "#ops"), f"/page @{target} down"
                )
            )
            assert outcome.status == "ok", outcome
        with Session(engine) as session:
            rows = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "direct"))
            routes = {(r.platform, r.address) for r in rows}
        # Carol has her own DingTalk robot, DingTalk first in her order: she is paged there.
        assert routes == {("slack", "U0BOB"), ("dingtalk", "staff-carol")}
        assert dingtalk.reaches("staff-carol")
        assert not dingtalk.reaches("staff-bob")
    finally:
        await app.stop()
        engine.dispose()
