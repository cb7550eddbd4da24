"""A repeat answered from memory waits while news is on the database, never longer than
its bound, and not at all when nothing is (``bot.news_first``). The bound over real HTTP,
with another process holding SQLite's lock, is in ``test_db_executor``."""

from __future__ import annotations

import asyncio

from bot.news_first import NewsFirst

LONG = 60.0  # a bound no step here comes near: the repeat goes on because the news ended


async def turns(n: int = 5) -> None:
    """Let every ready task run a few times (no timer involved)."""
    for _ in range(n):
        await asyncio.sleep(0)


async def test_a_repeat_goes_at_once_when_no_news_is_being_worked_on() -> None:
    gate = NewsFirst(repeats_wait_at_most=LONG)
    repeat = asyncio.create_task(gate.repeat())
    await turns(1)
    assert repeat.done()


async def test_a_repeat_waits_for_the_news_in_flight_and_goes_when_all_of_it_is_done() -> None:
    gate = NewsFirst(repeats_wait_at_most=LONG)
    first, second = gate.news(), gate.news()
    first.__enter__()
    second.__enter__()
    assert gate.working == 2
    repeat = asyncio.create_task(gate.repeat())
    await turns()
    assert not repeat.done()

    first.__exit__(None, None, None)
    await turns()
    assert not repeat.done(), "one unit of news is still on the database"

    second.__exit__(None, None, None)
    await turns()
    assert repeat.done()
    assert gate.working == 0


async def test_news_that_fails_still_lets_the_repeats_go() -> None:
    gate = NewsFirst(repeats_wait_at_most=LONG)

    async def failing_news() -> None:
        with gate.news():
            await turns()
            raise RuntimeError("the database went away")

    news = asyncio.create_task(failing_news())
    await turns(1)
    repeat = asyncio.create_task(gate.repeat())
    await turns(10)
    assert news.done()
    assert isinstance(news.exception(), RuntimeError)
    assert repeat.done()
    assert gate.working == 0


async def test_a_bound_of_zero_never_holds_a_repeat() -> None:
    gate = NewsFirst(repeats_wait_at_most=0)
    with gate.news():
        repeat = asyncio.create_task(gate.repeat())
        await turns(1)
        assert repeat.done()
