"""Flap suppression on recorded run sequences: what a channel is told, and when."""

from __future__ import annotations

import datetime as dt

from notify import flaps

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


def runs(statuses: str, every: dt.timedelta = 5 * MINUTE) -> list[tuple[dt.datetime, str]]:
    """'PPFFF' → a run every 5 minutes: P is pass, F fail."""
    names = {"P": "pass", "F": "fail", "E": "error"}
    return [(T0 + i * every, names[s]) for i, s in enumerate(statuses)]


def told(statuses: str, rule: flaps.Rule) -> list[tuple[str, str, str]]:
    said = flaps.replay(runs(statuses), rule, interval=5 * MINUTE)
    return [(say.kind, say.from_status, say.to_status) for say in said]


def test_it_tells_a_flip_once_it_held_for_n_runs():
    assert told("PPFF", flaps.Rule(runs=2)) == []  # failing for one interval: not yet
    assert told("PPFFF", flaps.Rule(runs=2)) == [("flipped", "pass", "fail")]
    assert told("PPFFFFFF", flaps.Rule(runs=2)) == [("flipped", "pass", "fail")]  # once


def test_it_tells_every_flip_at_once_with_no_hold():
    assert told("PFP", flaps.Rule(runs=0, minutes=0)) == [("flipped", "pass", "fail"), ("flipped", "fail", "pass")]


def test_a_blip_shorter_than_the_hold_says_nothing():
    assert told("PPFPPPPP", flaps.Rule(runs=2)) == []


def test_minutes_longer_than_the_runs_decide():
    rule = flaps.Rule(runs=1, minutes=12)  # 12 minutes: the third run after the flip
    assert told("PFF", rule) == []
    assert told("PFFFF", rule) == [("flipped", "pass", "fail")]


def test_a_flapping_check_says_so_once_then_tells_where_it_settles():
    said = told("PFPFPFPFFFF", flaps.Rule(runs=2))
    assert said == [("flapping", "pass", "fail"), ("flipped", "pass", "fail")]
    [_, settled] = flaps.replay(runs("PFPFPFPFFFF"), flaps.Rule(runs=2), interval=5 * MINUTE)
    assert settled.after_flapping


def test_a_flapping_check_that_comes_back_says_it_settled():
    said = told("PFPFPFPPPP", flaps.Rule(runs=2))
    assert said == [("flapping", "pass", "fail"), ("settled", "pass", "pass")]


def test_flips_far_apart_are_not_flapping():
    # One blip a day: never three flips within the window.
    rule = flaps.Rule(runs=2)
    sequence = [(T0, "pass")]
    for day in range(1, 5):
        start = T0 + dt.timedelta(days=day)
        sequence += [(start, "fail"), (start + 5 * MINUTE, "pass")]
    assert flaps.replay(sequence, rule, interval=5 * MINUTE) == []


def test_the_state_survives_json():
    state = flaps.State()
    flaps.on_flip(state, flaps.Rule(), from_status="pass", to_status="fail", at=T0, interval=5 * MINUTE)
    again = flaps.State.from_json(state.to_json())
    assert again == state
