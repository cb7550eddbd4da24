"""The crash-safety harness's short form: a real ``shipwatch run`` killed with SIGKILL five
times under load loses nothing it acknowledged (``make chaos`` is the long form)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from chaos.checks import OPENED, Figures, check
from chaos.run import IN_FLIGHT, Options, chaos_run

KILLS = 5
# How long a message may wait for delivery while a ready process runs: a restarted process
# takes back its killed predecessor's claims at once (None would only measure it).
MAX_WAIT_SECONDS: float | None = 5.0


async def test_nothing_acknowledged_is_lost_across_kills(tmp_path: Path) -> None:
    options = Options(kills=KILLS, seed=7, workdir=tmp_path, max_wait_seconds=MAX_WAIT_SECONDS)
    figures, run = await chaos_run(options)
    assert figures.problems == []
    assert (figures.crashes, figures.lost) == (KILLS, 0)
    # One message in flight per conversation: a crash repeats at most that one in each.
    assert all(n <= figures.crashes for n in figures.repeats_by_conversation.values())
    assert figures.repeats <= figures.crashes * IN_FLIGHT
    assert figures.incidents > 0
    assert figures.page_messages > 0
    assert figures.notifications_answered > 0

    # The checks can fail: the same store against a platform that never got one
    # incident's announcement, nor any direct message.
    opened = next(a.text for a in run.arrivals if OPENED.search(a.text))
    kept = [a for a in run.arrivals if a.text != opened and not a.channel.startswith("U")]
    lossy = dataclasses.replace(run, arrivals=kept)
    again = Figures()
    check(lossy, again)
    assert again.lost >= 2
    assert any("never announced" in p for p in again.problems)
    assert any("never reached" in p for p in again.problems)
