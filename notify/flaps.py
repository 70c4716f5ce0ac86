"""Flap suppression for `check.flipped`: a check is told about once its new state has held.

Pure (no Django): the state is a small dict kept per channel and check (`CheckWatch.state`).

The rule of a channel: a flip notifies only once the check has held its new state for `runs`
runs (runs x the check's interval) or `minutes` minutes, whichever is longer; 0 and 0 tells every
flip at once. A flip back to the state last told, before the hold is over, cancels the pending
one: nothing is said. A check that flips `flap_flips` times within the flap window without holding
is flapping: that is said once, and then nothing until it holds a state again, which is said
("holds fail after flapping", or "settled: passes again" when it is back where it was told).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

FLAP_FLIPS = 3
MIN_FLAP_WINDOW = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Rule:
    runs: int = 2
    minutes: int = 0
    flap_flips: int = FLAP_FLIPS

    def hold(self, interval: dt.timedelta) -> dt.timedelta:
        return max(interval * self.runs, dt.timedelta(minutes=self.minutes))

    def window(self, interval: dt.timedelta) -> dt.timedelta:
        return max(self.hold(interval) * self.flap_flips, MIN_FLAP_WINDOW)


@dataclass(frozen=True)
class Say:
    """One thing to tell: kind is "flipped", "flapping" or "settled"."""

    kind: str
    from_status: str
    to_status: str
    at: dt.datetime
    after_flapping: bool = False


@dataclass
class State:
    told: str = ""  # the status the channel was last told (or the one before the first flip)
    pending: str = ""
    hold_until: dt.datetime | None = None
    interval_seconds: float = 0.0
    flips: list[dt.datetime] = field(default_factory=list)
    flapping_said: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "told": self.told,
            "pending": self.pending,
            "hold_until": self.hold_until.isoformat() if self.hold_until else None,
            "interval_seconds": self.interval_seconds,
            "flips": [flip.isoformat() for flip in self.flips],
            "flapping_said": self.flapping_said,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> State:
        data = data or {}
        hold = data.get("hold_until")
        return cls(
            told=data.get("told", ""),
            pending=data.get("pending", ""),
            hold_until=dt.datetime.fromisoformat(hold) if hold else None,
            interval_seconds=float(data.get("interval_seconds") or 0.0),
            flips=[dt.datetime.fromisoformat(flip) for flip in data.get("flips", [])],
            flapping_said=bool(data.get("flapping_said")),
        )


def on_flip(
    state: State, rule: Rule, *, from_status: str, to_status: str, at: dt.datetime, interval: dt.timedelta
) -> list[Say]:
    """A flip happened: update `state` and return what to say now (often nothing yet)."""
    said: list[Say] = []
    if not state.told:
        state.told = from_status
    state.interval_seconds = interval.total_seconds()
    window = rule.window(interval)
    state.flips = [flip for flip in state.flips if at - flip <= window] + [at]
    if to_status == state.told:
        state.pending, state.hold_until = "", None
    else:
        state.pending, state.hold_until = to_status, at + rule.hold(interval)
    if len(state.flips) >= rule.flap_flips and not state.flapping_said:
        state.flapping_said = True
        said.append(Say("flapping", state.told, to_status, at))
    return said + due(state, rule, now=at)


def due(state: State, rule: Rule, *, now: dt.datetime) -> list[Say]:
    """What has held long enough by `now` to be said (the periodic sweep and every flip call it)."""
    interval = dt.timedelta(seconds=state.interval_seconds)
    if state.pending and state.hold_until is not None and state.hold_until <= now:
        say = Say("flipped", state.told, state.pending, state.hold_until, after_flapping=state.flapping_said)
        state.told, state.pending, state.hold_until = state.pending, "", None
        state.flips, state.flapping_said = [], False
        return [say]
    if not state.pending and state.flapping_said and state.flips and now - state.flips[-1] >= rule.hold(interval):
        say = Say("settled", state.told, state.told, state.flips[-1] + rule.hold(interval), after_flapping=True)
        state.flips, state.flapping_said = [], False
        return [say]
    return []


def replay(runs: list[tuple[dt.datetime, str]], rule: Rule, *, interval: dt.timedelta) -> list[Say]:
    """Everything a channel would be told over a recorded sequence of runs (time, status), checked
    at every run as the sweep would. The first run's status is where the check starts."""
    if not runs:
        return []
    state, said, last = State(told=runs[0][1]), [], runs[0][1]
    for at, status in runs[1:]:
        said += due(state, rule, now=at)
        if status != last:
            said += on_flip(state, rule, from_status=last, to_status=status, at=at, interval=interval)
            last = status
    return said
