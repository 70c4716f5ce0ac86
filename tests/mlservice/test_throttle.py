"""The per-token throttle: exact for one process, within its stated bound for several, and cheap."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from mlservice import access


@pytest.fixture(autouse=True)
def empty_counts():
    cache.clear()
    yield
    cache.clear()


def frozen() -> float:
    """Mid-window: a count that crossed into the next minute would start again and pass more."""
    return 630.0


def allowed(throttles: list[access.Throttle], user_id: int, requests: int) -> int:
    return sum(throttles[i % len(throttles)].check(user_id) is None for i in range(requests))


def test_one_process_lets_exactly_the_limit_through(settings):
    settings.MLSERVICE_INFER_RATE = "1000/min"

    assert allowed([access.Throttle(frozen)], user_id=1, requests=1500) == 1000


def test_several_processes_share_one_count_within_one_percent_each(settings):
    """Four workers' worth of throttles, one shared cache (Redis in the second pass)."""
    settings.MLSERVICE_INFER_RATE = "1000/min"
    workers = [access.Throttle(frozen) for _ in range(4)]

    through = allowed(workers, user_id=2, requests=3000)

    assert 1000 <= through <= 1000 + 4 * (1000 // 100)


def test_counts_reach_the_cache_in_batches(settings, monkeypatch):
    settings.MLSERVICE_INFER_RATE = "6000/min"
    trips = []
    real_add = access._add
    monkeypatch.setattr(
        access, "_add", lambda key, amount, timeout: trips.append(amount) or real_add(key, amount, timeout)
    )

    assert allowed([access.Throttle(frozen)], user_id=3, requests=600) == 600

    assert trips == [60] * 10


def test_a_small_limit_is_counted_at_every_request(settings):
    settings.MLSERVICE_INFER_RATE = "5/min"
    first, second = access.Throttle(frozen), access.Throttle(frozen)

    assert allowed([first, second], user_id=4, requests=12) == 5


def test_tokens_are_counted_apart(settings):
    settings.MLSERVICE_INFER_RATE = "5/min"
    throttle = access.Throttle(frozen)

    assert allowed([throttle], user_id=5, requests=6) == 5
    assert throttle.check(6) is None


def test_the_wait_is_the_rest_of_the_window(settings):
    settings.MLSERVICE_INFER_RATE = "1/min"
    throttle = access.Throttle(lambda: 600.0 + 45)  # 45 s into a minute

    assert throttle.check(7) is None
    assert throttle.check(7) == pytest.approx(15)
