"""When will a phase or an operation reach 100%? A forecast from its progress history.

The history is a list of (when, progress percent) pairs, one per progress change. The method:

1. Clean the input: every timestamp must be timezone-aware and every value within 0..100 (anything
   else is a bug upstream, so it raises instead of being guessed at); when a timestamp repeats, the
   last value given for it wins, because a later write is a correction of an earlier one.

2. Refuse to guess from too little: fewer than `min_points` distinct timestamps, or a history shorter
   than `min_span`, gives "not_enough_history" and no dates. Two updates an hour apart say nothing
   about a pace measured in days.

3. Fit progress against time (x = days since the first point) with a weighted least-squares line,
   scikit-learn's `LinearRegression` with `sample_weight`. A point's weight halves every
   `half_life_days` of age, w = 0.5 ** (age_days / half_life), so a phase that has recently sped up
   or slowed down is judged mostly by its recent pace. Age is measured from the newest point rather
   than from `now`: the two differ by one constant factor, which cancels everywhere below, and this
   way the weights cannot all underflow to zero when the history has gone quiet for a long time.

4. A fitted slope b of zero or less is "stalled". Otherwise the estimate is the time the remaining
   work, 100 - (latest observed progress), takes at b, counted from the later of `now` and the
   newest point. It starts from the latest *observation*, not from the fitted line, because the line
   can cross 100% in the past, and a forecast in the past is useless; it starts no earlier than `now`
   because the history records changes, so no new point means the progress is still where it was.

5. The range comes from the standard error of the slope. The weights here say how much a point
   should *count*, not that old points were noisier, so the errors are modelled as having one common
   variance sigma^2, and the weights reduce the *effective* sample size. With d_i = x_i - x_w the
   distance from the weighted mean time x_w = sum(w x) / sum(w), S_xx = sum(w d^2) and the fitted
   line's residuals r_i:

       Var(b)  = sigma^2 * sum(w^2 d^2) / S_xx^2                      (exact for the weighted estimator)
       sigma^2 = sum(w r^2) / (sum(w) - sum(w^2) / sum(w) - sum(w^2 d^2) / S_xx)

   The denominator of sigma^2 is the expected value of sum(w r^2) per unit of sigma^2 (the trace of
   W(I - H) for the weighted hat matrix H), so the estimate is unbiased. In effective-sample-size
   terms, with Kish's n_eff = sum(w)^2 / sum(w^2) and the slope's own n_b = sum(w) S_xx / sum(w^2 d^2):

       sigma^2 = (sum(w r^2) / sum(w)) / (1 - 1/n_eff - 1/n_b)
       se(b)^2 = sigma^2 / (n_b * S_xx / sum(w))

   With equal weights n_eff = n_b = n and these reduce to the textbook sum(r^2) / (n - 2) and
   sigma^2 / sum(d^2). The slope band b +/- 1.64 se(b) is roughly a 90% interval: the fast end gives
   `earliest`, the slow end `latest`. When the slow end is at or below zero (or so slow that 100% is
   past the end of the calendar), `latest` is None and the reason says the pessimistic end is open.

Everything after input validation is vectorised numpy, so a history of 10,000 points takes a few
milliseconds, and nothing is random, so the same input always gives the same forecast.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from numbers import Real

import numpy as np

MICROS_PER_DAY = 86_400e6
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

# The two-sided 90% normal quantile is 1.645; the agreed 1.64 makes the band "roughly" 90%.
Z_90 = 1.64

# The solver's round-off leaves a flat history with a slope of about 1e-17 instead of 0; a fitted rise
# this small over the whole history is that noise, not progress.
FLAT_RISE_POINTS = 1e-9

# Below this, 1 - 1/n_eff - 1/n_b is lost in floating-point cancellation: the old points' weights have
# decayed so far that the residual degrees of freedom can no longer be told apart from zero.
MIN_RESIDUAL_FRACTION = 1e-8


@dataclass(frozen=True)
class Forecast:
    """What the dashboard shows for one phase or operation.

    Dates are only ever given with status "forecast"; every other status is a statement that no honest
    date exists, and the page should say why (`reason`) rather than show a placeholder.

    `at_risk` is True when the caller reports open primary blockers, or when a deadline is given and
    the work may miss it: the pessimistic end (`latest`) is after the deadline or open, the work is
    stalled, or there is too little history to forecast and the deadline has already passed. Work
    that is done is never at risk: a blocker can no longer stop it (a phase moved back to, say, is
    "complete", never "complete" and "at risk" at once).

    `changes` and `span` say how much history there was when it was too little (status
    "not_enough_history"), so that the page can say so in its own words; otherwise 0.
    """

    status: str  # "done" | "forecast" | "not_enough_history" | "stalled"
    estimate: datetime | None  # expected completion, aware UTC; None unless status == "forecast"
    earliest: datetime | None  # fast end of the ~90% range
    latest: datetime | None  # slow end; None when the slow end of the slope band never reaches 100%
    rate_per_day: float | None  # fitted percentage points per day; None when no fit was made
    at_risk: bool
    reason: str  # one short sentence for the page
    changes: int = 0
    span: timedelta = timedelta(0)


@dataclass(frozen=True)
class _Fit:
    """The weighted line through the history: its slope (points a day) and the slope's standard error."""

    slope: float
    se: float | None


def forecast_completion(
    history: Sequence[tuple[datetime, float]],
    *,
    now: datetime,
    open_primary_blockers: int = 0,
    deadline: datetime | None = None,
    half_life_days: float = 7.0,
    min_points: int = 3,
    min_span: timedelta = timedelta(days=1),
) -> Forecast:
    """Forecast when `history` reaches 100%, with a ~90% range; see the module docstring for the method.

    Raises ValueError for naive datetimes and progress outside 0..100, because either means the caller
    mixed up its data, and a forecast built on it would look plausible while being wrong.
    """
    _check_arguments(now, deadline, half_life_days, min_points, min_span, open_primary_blockers)
    points = _clean(history)
    if points is not None and points.progress[-1] >= 100.0:
        return Forecast("done", None, None, None, None, False, "Done: progress reached 100%.")

    risks = [_blockers_phrase(open_primary_blockers)] if open_primary_blockers > 0 else []
    deadline_passed = deadline is not None and now > deadline
    count = 0 if points is None else len(points.micros)
    span = timedelta(0) if points is None else points.last - points.first
    if points is None or count < min_points or span < min_span:
        if deadline_passed:
            risks.append(f"the {_day(deadline)} deadline has passed")
        reason = _not_enough_reason(count, span, min_points, min_span)
        return Forecast(
            "not_enough_history", None, None, None, None, bool(risks), _sentence(reason, risks), count, span
        )

    fit = _fit(points, half_life_days)
    if fit.se is None:
        if deadline_passed:
            risks.append(f"the {_day(deadline)} deadline has passed")
        reason = (
            f"Not enough recent history: the {count} progress changes are so far apart that the older ones "
            f"barely count at a {half_life_days:g}-day half-life"
        )
        return Forecast(
            "not_enough_history", None, None, None, None, bool(risks), _sentence(reason, risks), count, span
        )
    return _dated(points, fit, now=now, deadline=deadline, risks=risks)


def _check_arguments(
    now: datetime,
    deadline: datetime | None,
    half_life_days: float,
    min_points: int,
    min_span: timedelta,
    open_primary_blockers: int,
) -> None:
    _require_aware(now, "now")
    if deadline is not None:
        _require_aware(deadline, "deadline")
    if not (math.isfinite(half_life_days) and half_life_days > 0):
        raise ValueError(f"half_life_days must be a positive number, not {half_life_days!r}")
    if min_points < 3:
        # A line through two points has no residuals, so its uncertainty cannot be estimated.
        raise ValueError(f"min_points must be at least 3, not {min_points!r}")
    if min_span < timedelta(0):
        raise ValueError(f"min_span must not be negative, not {min_span!r}")
    if open_primary_blockers < 0:
        raise ValueError(f"open_primary_blockers must not be negative, not {open_primary_blockers!r}")


def _fit(points: _History, half_life_days: float) -> _Fit:
    """Steps 3 and 5 of the method: the weighted slope and its standard error (None: unknowable)."""
    progress = points.progress
    x = (points.micros - points.micros[0]) / MICROS_PER_DAY
    age_days = x[-1] - x
    w = np.power(0.5, age_days / half_life_days)

    # Imported here: scikit-learn (and scipy under it) takes seconds to import, and every web and
    # Celery process imports this module through the dashboard, most never to draw a forecast.
    from sklearn.linear_model import LinearRegression

    model = LinearRegression().fit(x.reshape(-1, 1), progress, sample_weight=w)
    slope = float(model.coef_[0])
    if abs(slope) * float(x[-1]) <= FLAT_RISE_POINTS:
        slope = 0.0
    return _Fit(slope, _slope_standard_error(x, progress, w, slope, float(model.intercept_)))


def _dated(points: _History, fit: _Fit, *, now: datetime, deadline: datetime | None, risks: list[str]) -> Forecast:
    """Step 4 and 5: stalled, or the estimate and its range from the slope band."""
    slope = fit.slope
    stall_risks = [*risks, f"will not make the {_day(deadline)} deadline at this rate"] if deadline else risks

    def stalled(reason: str) -> Forecast:
        return Forecast("stalled", None, None, None, slope, bool(stall_risks), _sentence(reason, stall_risks))

    if slope == 0.0:
        return stalled("Stalled: no progress over the recent history")
    if slope < 0.0:
        return stalled(f"Stalled: progress is going backwards ({_rate(slope)} points/day)")
    remaining = 100.0 - float(points.progress[-1])
    start = max(now, points.last).astimezone(UTC)
    estimate = _after(start, remaining / slope)
    if estimate is None:
        return stalled(f"Stalled: at {_rate(slope)} points/day, 100% is past the end of the calendar")

    se = fit.se or 0.0
    fast, slow = slope + Z_90 * se, slope - Z_90 * se
    # Division and rounding to whole microseconds are monotonic, so earliest <= estimate <= latest holds
    # exactly, and a zero standard error gives three equal dates. A faster pace than the estimate's
    # cannot overflow, hence the fallback is only there for the type checker.
    earliest = _after(start, remaining / fast) or estimate
    latest = _after(start, remaining / slow) if slow > 0.0 else None

    if deadline is not None and (latest is None or latest > deadline):
        risks = [*risks, f"could finish after the {_day(deadline)} deadline"]
    if latest is None:
        reason = (
            f"Expected {_day(estimate)} at {_rate(slope)} points/day, not before {_day(earliest)}; "
            "the pessimistic end is open because the slowest plausible rate never gets there"
        )
    elif _day(earliest) == _day(latest):
        reason = f"Expected {_day(estimate)} at {_rate(slope)} points/day"
    else:
        reason = (
            f"Expected {_day(estimate)} (likely between {_day(earliest)} and {_day(latest)}) "
            f"at {_rate(slope)} points/day"
        )
    return Forecast("forecast", estimate, earliest, latest, slope, bool(risks), _sentence(reason, risks))


def _require_aware(value: object, name: str) -> None:
    """Naive datetimes are ambiguous by hours, which is the whole horizon of a short phase."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive datetime {value.isoformat()}")


@dataclass(frozen=True)
class _History:
    """The cleaned history: one point per instant, oldest first."""

    micros: np.ndarray  # microseconds since the Unix epoch, strictly increasing (exact, unlike float seconds)
    progress: np.ndarray  # percent, aligned with `micros`
    first: datetime
    last: datetime


def _clean(history: Sequence[tuple[datetime, float]]) -> _History | None:
    """Validate every point and keep the last value given per instant; None for an empty history.

    Subtracting an aware epoch is the one per-point Python step: it both checks awareness (naive minus
    aware raises TypeError) and gives exact integer microseconds, so 10,000 points take a few ms.
    """
    if len(history) == 0:
        return None
    whens = [point[0] for point in history]
    values = [point[1] for point in history]
    try:
        micros = np.fromiter([(when - _EPOCH) // _MICROSECOND for when in whens], dtype=np.int64, count=len(whens))
    except TypeError:
        # Only now pay for a per-point check, to name the offending point in the message.
        for index, when in enumerate(whens):
            _require_aware(when, f"history[{index}] time")
        raise

    progress = np.asarray(values)
    if progress.dtype.kind not in "iuf":
        # Unusual inputs (Fraction, None, strings) take the slow path so the message can name the culprit.
        for index, value in enumerate(values):
            if not isinstance(value, Real) or isinstance(value, bool):
                raise ValueError(f"history[{index}] progress must be a number from 0 to 100, got {value!r}")
    progress = progress.astype(float)
    outside = np.flatnonzero(~((progress >= 0.0) & (progress <= 100.0)))  # NaN fails both tests
    if outside.size:
        index = int(outside[0])
        raise ValueError(f"history[{index}] progress must be a number from 0 to 100, got {values[index]!r}")

    # A stable sort keeps input order among equal instants (whatever their zones), so the last of each run
    # is the last value given for that instant.
    order = np.argsort(micros, kind="stable")
    sorted_micros = micros[order]
    last_of_run = np.append(sorted_micros[1:] != sorted_micros[:-1], True)
    order = order[last_of_run]
    return _History(sorted_micros[last_of_run], progress[order], whens[int(order[0])], whens[int(order[-1])])


def _slope_standard_error(x: np.ndarray, y: np.ndarray, w: np.ndarray, slope: float, intercept: float) -> float | None:
    """Standard error of the weighted slope (formula in the module docstring); None when it is unknowable.

    The textbook weighted-least-squares formula, sigma^2 / S_xx, treats the weights as inverse variances;
    here they only say how much a point counts, so the errors get one common variance and the weights
    shrink the effective sample instead. With equal weights both agree.
    """
    residuals = y - (intercept + slope * x)
    sum_w = float(w.sum())
    d = x - float((w * x).sum()) / sum_w
    s_xx = float((w * d * d).sum())
    s_w2d2 = float((w * w * d * d).sum())
    if s_xx <= 0.0 or s_w2d2 <= 0.0:
        return None
    n_eff = sum_w * sum_w / float((w * w).sum())
    n_b = sum_w * s_xx / s_w2d2
    residual_fraction = 1.0 - 1.0 / n_eff - 1.0 / n_b
    if not residual_fraction > MIN_RESIDUAL_FRACTION:
        return None
    sigma2 = float((w * residuals * residuals).sum()) / sum_w / residual_fraction
    return math.sqrt(sigma2 * s_w2d2) / s_xx


def _after(start: datetime, days: float) -> datetime | None:
    """`start` plus `days`, or None when that is past what a datetime can hold (a pace too slow to date)."""
    try:
        return start + timedelta(days=days)
    except OverflowError:
        return None


def _not_enough_reason(count: int, span: timedelta, min_points: int, min_span: timedelta) -> str:
    changes = f"{count} progress change" + ("" if count == 1 else "s")
    seen = f"{changes} so far" if count < 2 else f"{changes} over {_duration(span)}"
    return f"Not enough history: {seen}; needs at least {min_points} over {_duration(min_span)}"


def _duration(span: timedelta) -> str:
    """'3 hours', '1 day', '1.5 days': the largest unit that fits, so the page reads naturally."""
    seconds = span.total_seconds()
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1)):
        if seconds >= size or unit == "second":
            amount = f"{seconds / size:.1f}".removesuffix(".0")
            return f"{amount} {unit}" + ("" if amount == "1" else "s")
    raise AssertionError("unreachable")  # the loop always returns at "second"


def _rate(points_per_day: float) -> str:
    magnitude = abs(points_per_day)
    if magnitude >= 10:
        return f"{points_per_day:.0f}"
    if magnitude >= 1:
        return f"{points_per_day:.1f}"
    return f"{points_per_day:.2g}"


def _day(when: datetime) -> str:
    return when.astimezone(UTC).date().isoformat()


def _blockers_phrase(count: int) -> str:
    return f"{count} open primary blocker" + ("" if count == 1 else "s")


def _sentence(reason: str, risks: list[str]) -> str:
    """One sentence: the reason, then what puts the work at risk, so the page needs no second line."""
    if risks:
        reason = f"{reason}; at risk: {' and '.join(risks)}"
    return reason + "."
