"""The completion forecast: dates only when the history supports them, and a range that means something."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.lib.forecast import Forecast, forecast_completion

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


# 10 points a day for 5 days: 0, 10, ..., 50 at days 0..5.
LINEAR = [(day(i), 10.0 * i) for i in range(6)]

# 5 points a day with bounded noise, ten days long.
NOISY = [(day(i), 5.0 * i + 2 + noise) for i, noise in enumerate([0, 2, -1, 3, -2, 1, 0, -1, 2, -1])]


def test_it_forecasts_a_perfectly_linear_history_exactly() -> None:
    result = forecast_completion(LINEAR, now=day(5))

    assert result.status == "forecast"
    assert result.estimate == day(10)
    assert result.earliest == result.latest == result.estimate
    assert result.rate_per_day == pytest.approx(10.0, rel=1e-12)
    assert result.at_risk is False
    assert result.reason == "Expected 2026-03-12 at 10 points/day."


def test_it_returns_aware_utc_datetimes_whatever_zone_the_history_is_in() -> None:
    plus_two = timezone(timedelta(hours=2))
    history = [(when.astimezone(plus_two), value) for when, value in LINEAR]

    result = forecast_completion(history, now=day(5).astimezone(plus_two))

    assert result.estimate == day(10)
    assert result.estimate is not None and result.estimate.tzinfo is UTC


def test_it_projects_from_now_when_the_history_has_gone_quiet() -> None:
    # No change recorded for 3 days means progress is still 50%, so the remaining 5 days start now.
    result = forecast_completion(LINEAR, now=day(8))

    assert result.estimate == day(13)


def test_it_weights_recent_acceleration_more_than_old_progress() -> None:
    slow_start = [(day(i), 2.0 * i) for i in range(11)]  # 2 points a day to 20% over 10 days
    sprint = [(day(10 + i), 20.0 + 10.0 * i) for i in range(1, 5)]  # then 10 a day to 60%
    history = slow_start + sprint

    recent = forecast_completion(history, now=day(14), half_life_days=2.0)
    everything = forecast_completion(history, now=day(14), half_life_days=1e9)

    assert recent.estimate is not None and everything.estimate is not None
    assert recent.estimate < everything.estimate
    assert recent.rate_per_day is not None and everything.rate_per_day is not None
    assert recent.rate_per_day > everything.rate_per_day


def test_it_gives_a_range_around_the_estimate_for_a_noisy_history() -> None:
    result = forecast_completion(NOISY, now=day(9))

    assert result.status == "forecast"
    assert result.earliest is not None and result.estimate is not None and result.latest is not None
    assert result.earliest < result.estimate < result.latest


def test_it_leaves_the_pessimistic_end_open_when_the_slow_rate_is_not_positive() -> None:
    history = [(day(i), value) for i, value in enumerate([0.0, 30.0, 10.0, 40.0])]

    result = forecast_completion(history, now=day(3))

    assert result.status == "forecast"
    assert result.estimate is not None and result.earliest is not None
    assert result.earliest < result.estimate
    assert result.latest is None
    assert "pessimistic end is open" in result.reason


def test_it_reports_done_when_the_latest_progress_is_100() -> None:
    history = [(day(0), 20.0), (day(1), 100.0)]

    result = forecast_completion(history, now=day(2))

    assert result == Forecast("done", None, None, None, None, False, "Done: progress reached 100%.")


def test_it_refuses_to_forecast_from_too_few_points() -> None:
    history = [(T0, 10.0), (T0 + timedelta(hours=3), 12.0)]

    result = forecast_completion(history, now=T0 + timedelta(hours=3))

    assert result.status == "not_enough_history"
    assert (result.estimate, result.earliest, result.latest, result.rate_per_day) == (None, None, None, None)
    assert result.reason == "Not enough history: 2 progress changes over 3 hours; needs at least 3 over 1 day."


def test_it_refuses_to_forecast_from_too_short_a_span() -> None:
    history = [(T0 + timedelta(minutes=45 * i), 2.0 * i) for i in range(5)]

    result = forecast_completion(history, now=T0 + timedelta(hours=3))

    assert result.status == "not_enough_history"
    assert result.estimate is None
    assert result.reason == "Not enough history: 5 progress changes over 3 hours; needs at least 3 over 1 day."


def test_it_refuses_to_forecast_from_an_empty_history() -> None:
    result = forecast_completion([], now=T0)

    assert result.status == "not_enough_history"
    assert result.reason == "Not enough history: 0 progress changes so far; needs at least 3 over 1 day."


def test_it_counts_distinct_timestamps_not_rows() -> None:
    history = [(day(0), 10.0), (day(2), 20.0), (day(2), 25.0)]

    result = forecast_completion(history, now=day(2))

    assert result.status == "not_enough_history"
    assert result.reason.startswith("Not enough history: 2 progress changes over 2 days;")


def test_it_keeps_the_last_value_given_for_a_repeated_timestamp() -> None:
    corrected = LINEAR[:-1] + [(day(5), 20.0), (day(5), 50.0)]
    superseded = LINEAR[:-1] + [(day(5), 50.0), (day(5), 20.0)]

    assert forecast_completion(corrected, now=day(5)) == forecast_completion(LINEAR, now=day(5))
    assert forecast_completion(superseded, now=day(5)).estimate != day(10)


def test_it_treats_the_same_instant_in_different_zones_as_one_timestamp() -> None:
    plus_two = timezone(timedelta(hours=2))
    history = [*LINEAR, (day(5).astimezone(plus_two), 50.0)]

    assert forecast_completion(history, now=day(5)) == forecast_completion(LINEAR, now=day(5))


def test_it_reports_a_flat_history_as_stalled() -> None:
    history = [(day(i), 30.0) for i in range(5)]

    result = forecast_completion(history, now=day(5))

    assert result == Forecast("stalled", None, None, None, 0.0, False, "Stalled: no progress over the recent history.")


def test_it_reports_a_backwards_history_as_stalled() -> None:
    history = [(day(i), 30.0 - i) for i in range(5)]

    result = forecast_completion(history, now=day(5))

    assert result.status == "stalled"
    assert (result.estimate, result.earliest, result.latest) == (None, None, None)
    assert result.rate_per_day == pytest.approx(-1.0)
    assert "backwards" in result.reason


def test_it_flags_open_primary_blockers_as_at_risk() -> None:
    result = forecast_completion(LINEAR, now=day(5), open_primary_blockers=2)

    assert result.status == "forecast"
    assert result.estimate == day(10)
    assert result.at_risk is True
    assert result.reason == "Expected 2026-03-12 at 10 points/day; at risk: 2 open primary blockers."


def test_it_flags_a_deadline_before_the_latest_date_as_at_risk() -> None:
    unhurried = forecast_completion(NOISY, now=day(9))
    assert unhurried.estimate is not None and unhurried.latest is not None
    deadline = unhurried.estimate + (unhurried.latest - unhurried.estimate) / 2

    result = forecast_completion(NOISY, now=day(9), deadline=deadline)

    assert result.at_risk is True
    assert f"could finish after the {deadline.date().isoformat()} deadline" in result.reason


def test_it_is_not_at_risk_when_the_latest_date_meets_the_deadline() -> None:
    unhurried = forecast_completion(NOISY, now=day(9))
    assert unhurried.latest is not None

    result = forecast_completion(NOISY, now=day(9), deadline=unhurried.latest)

    assert result.at_risk is False


def test_it_flags_a_stalled_phase_with_a_deadline_as_at_risk() -> None:
    history = [(day(i), 30.0) for i in range(5)]

    result = forecast_completion(history, now=day(5), deadline=day(30))

    assert result.status == "stalled"
    assert result.at_risk is True


def test_it_flags_a_passed_deadline_as_at_risk_even_without_enough_history() -> None:
    history = [(day(0), 10.0)]

    result = forecast_completion(history, now=day(5), deadline=day(3))

    assert result.status == "not_enough_history"
    assert result.at_risk is True


@pytest.mark.parametrize("progress", [-0.1, 100.5, math.nan, math.inf])
def test_it_rejects_progress_outside_0_to_100(progress: float) -> None:
    history = [*LINEAR, (day(6), progress)]

    with pytest.raises(ValueError, match=r"history\[6\] progress must be a number from 0 to 100"):
        forecast_completion(history, now=day(6))


def test_it_rejects_naive_datetimes_in_the_history() -> None:
    history = [*LINEAR, (datetime(2026, 3, 8, 9, 0), 60.0)]

    with pytest.raises(ValueError, match=r"history\[6\] time must be timezone-aware"):
        forecast_completion(history, now=day(6))


def test_it_rejects_a_naive_now() -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        forecast_completion(LINEAR, now=datetime(2026, 3, 7, 9, 0))


def test_it_rejects_fewer_than_3_min_points() -> None:
    with pytest.raises(ValueError, match="min_points must be at least 3"):
        forecast_completion(LINEAR, now=day(5), min_points=2)


def test_it_gives_the_same_result_for_unordered_input() -> None:
    shuffled = list(NOISY)
    random.Random(7).shuffle(shuffled)

    assert forecast_completion(shuffled, now=day(9)) == forecast_completion(NOISY, now=day(9))


def test_it_gives_the_same_result_every_time() -> None:
    assert forecast_completion(NOISY, now=day(9)) == forecast_completion(NOISY, now=day(9))


def test_it_computes_a_forecast_from_10000_points() -> None:
    noise = random.Random(3)
    history = [(T0 + timedelta(minutes=10 * i), min(99.0, 0.009 * i + noise.uniform(0, 1))) for i in range(10_000)]

    result = forecast_completion(history, now=history[-1][0])

    assert result.status == "forecast"
    assert result.earliest is not None and result.estimate is not None and result.latest is not None
    assert result.earliest <= result.estimate <= result.latest


@st.composite
def increasing_histories(draw: st.DrawFn) -> tuple[list[tuple[datetime, float]], datetime, float]:
    count = draw(st.integers(min_value=3, max_value=40))
    gaps = draw(st.lists(st.integers(min_value=60, max_value=3 * 86_400), min_size=count - 1, max_size=count - 1))
    # Steps of at most 2.4 from at most 4 keep 40 points below 100%, so nearly every example forecasts.
    steps = draw(st.lists(st.floats(min_value=0.0, max_value=2.4), min_size=count - 1, max_size=count - 1))
    when, progress = T0, draw(st.floats(min_value=0.0, max_value=4.0))
    history = [(when, progress)]
    for gap, step in zip(gaps, steps, strict=True):
        when, progress = when + timedelta(seconds=gap), progress + step
        history.append((when, progress))
    now = when + timedelta(seconds=draw(st.integers(min_value=-86_400, max_value=30 * 86_400)))
    half_life = draw(st.floats(min_value=0.1, max_value=60.0))
    return history, now, half_life


@settings(max_examples=100, deadline=None, derandomize=True)
@given(increasing_histories())
def test_it_orders_its_dates_for_any_increasing_history(
    case: tuple[list[tuple[datetime, float]], datetime, float],
) -> None:
    history, now, half_life = case

    result = forecast_completion(history, now=now, half_life_days=half_life)

    if result.status == "forecast":
        assert result.earliest is not None and result.estimate is not None
        assert result.earliest <= result.estimate
        assert result.latest is None or result.estimate <= result.latest
        assert result.estimate >= max(now, history[-1][0])
    else:
        assert (result.estimate, result.earliest, result.latest) == (None, None, None)
