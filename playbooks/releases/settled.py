"""What follows any change to a release, whichever move or reading made it: the launch
timers its moves arm or stop, and the guard schedule reading the release as it now stands.
Pure."""

from __future__ import annotations

from playbooks.launch import timers as launch_timers
from playbooks.releases import watch
from playbooks.releases.machine import Result


def settled(result: Result) -> Result:
    """``result`` with the effects its release's change brings after its own."""
    r = result.release
    result.effects += launch_timers.after_moves(r, result.history)
    result.effects += watch.watching(r)
    return result
