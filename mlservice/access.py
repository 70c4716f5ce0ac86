"""Who may call the inference routes, and how often: API tokens, looked up once, counted per token.

Tokens are the REST API's (`rest_framework.authtoken`), sent as `Authorization: Token <key>` or
`Bearer <key>` (what OIP clients send). A token found in the database is remembered by this
process for MLSERVICE_TOKEN_CACHE_SECONDS (30 s by default) together with its reach: its user's
workspaces, those they administer, and whether they are a superuser (`Reach`). A busy client so
costs no query per request. Deleting a token forgets it here at once and in the other processes
within that time; a user added to or taken out of a workspace (or made or unmade a superuser or
inactive) gets their new reach within that time too, in every process.

The throttle counts each token's requests in fixed windows in the default cache (Redis when
REDIS_URL is set, so every worker shares one count), adding them in batches (`Throttle`). DRF's
throttles keep a list of every request time per client and rewrite it on each request, which at
thousands of requests a minute costs more than the prediction.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.authtoken.models import Token

from tracker.models import WorkspaceMembership

_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600, "d": 86400}
_MAX_CACHED = 10_000


@dataclass(frozen=True)
class Rate:
    limit: int
    period: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        """ "600/min" -> Rate(600, 60). Refused at startup when malformed (a setting, not user input)."""
        count, _, unit = text.partition("/")
        if not count.isdigit() or unit not in _PERIODS:
            raise ValueError(f"{text!r} is not a rate like 600/min (units: {', '.join(_PERIODS)}).")
        return cls(int(count), _PERIODS[unit])


@dataclass(frozen=True)
class Reach:
    """Whose token it is and whose models it may see: those of its user's workspaces (every
    workspace's for a superuser). Reasons that name artifacts are for the workspace's admins."""

    user_id: int
    superuser: bool = False
    member_of: frozenset[int] = frozenset()  # workspace ids, admins' included
    admin_of: frozenset[int] = frozenset()

    def sees(self, workspace_id: int) -> bool:
        return self.superuser or workspace_id in self.member_of

    def administers(self, workspace_id: int) -> bool:
        return self.superuser or workspace_id in self.admin_of


def _reach_of(key: str) -> Reach | None:
    """The token's reach from the database (two queries), or None for an unknown token or an inactive user."""
    found = Token.objects.filter(key=key, user__is_active=True).values_list("user_id", "user__is_superuser").first()
    if found is None:
        return None
    user_id, superuser = found
    memberships = list(WorkspaceMembership.objects.filter(user_id=user_id).values_list("workspace_id", "role"))
    return Reach(
        user_id=user_id,
        superuser=superuser,
        member_of=frozenset(workspace for workspace, _ in memberships),
        admin_of=frozenset(workspace for workspace, role in memberships if role == WorkspaceMembership.Role.ADMIN),
    )


class TokenCache:
    def __init__(self) -> None:
        self._reaches: dict[str, tuple[Reach, float]] = {}
        self._lock = threading.Lock()

    def reach(self, key: str) -> Reach | None:
        """The reach of the active user whose token this is, or None; read again after
        MLSERVICE_TOKEN_CACHE_SECONDS."""
        hit = self._reaches.get(key)
        now = time.monotonic()
        if hit is not None and hit[1] > now:
            return hit[0]
        reach = _reach_of(key)
        with self._lock:
            if reach is None:
                self._reaches.pop(key, None)
            else:
                if len(self._reaches) >= _MAX_CACHED:
                    self._reaches.clear()
                self._reaches[key] = (reach, now + settings.MLSERVICE_TOKEN_CACHE_SECONDS)
        return reach

    def cached(self, key: str) -> Reach | None:
        """The reach this process remembers for the token, or None (unknown, expired or never seen):
        no query. For `mlservice.fast`, which leaves a token it does not know to Django's view."""
        hit = self._reaches.get(key)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        return None

    def user_id(self, key: str) -> int | None:
        """The active user whose token this is, or None."""
        reach = self.reach(key)
        return None if reach is None else reach.user_id

    def forget(self, key: str) -> None:
        with self._lock:
            self._reaches.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._reaches.clear()


tokens = TokenCache()


def token_from(header: str) -> str | None:
    scheme, _, key = header.partition(" ")
    if scheme.lower() not in ("token", "bearer") or not key or " " in key.strip():
        return None
    return key.strip()


def forget_token(sender, instance: Token, **kwargs) -> None:
    """post_delete of a Token: stop accepting it in this process now."""
    tokens.forget(instance.key)


# A WSGI environ key (so no client can send it: headers arrive as HTTP_*) that `mlservice.fast` sets
# when it has counted the request in the throttle, let it through, then handed it to Django's view
# (whose answer is an error: bad input, a failed prediction): the view does not count it twice.
THROTTLE_COUNTED = "mlservice.throttle_counted"


@dataclass
class _Window:
    number: int
    shared: int = 0  # the shared count as of this process's last round trip
    pending: int = 0  # this process's requests not yet added to it


class Throttle:
    """Fixed windows per token, counted in the shared cache in batches.

    A round trip to Redis per request costs more than a prediction (bench/inference.py measured
    ~0.24 ms of the worker's CPU), so each process adds its requests to the shared count every
    `limit // 100` requests, and at once whenever its estimate reaches the limit. Every process
    therefore lets through at most 1% of the limit more than the exact count would; with a small
    limit (under 100 per window) every request is counted at once.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._windows: dict[int, _Window] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def check(self, user_id: int) -> float | None:
        """None when the request may go on, else the seconds until the token's window reopens."""
        rate = Rate.parse(settings.MLSERVICE_INFER_RATE)
        now = self._clock()
        number = int(now // rate.period)
        batch = max(1, rate.limit // 100)
        with self._lock:
            window = self._windows.get(user_id)
            if window is None or window.number != number:
                if len(self._windows) >= _MAX_CACHED:
                    self._windows.clear()
                window = self._windows[user_id] = _Window(number)
            window.pending += 1
            estimate = window.shared + window.pending
            if window.pending >= batch or estimate > rate.limit:
                key = f"mlservice:infer:{user_id}:{number}"
                window.shared, window.pending = _add(key, window.pending, rate.period), 0
                estimate = window.shared
        if estimate > rate.limit:
            return rate.period - (now % rate.period)
        return None

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()


throttle = Throttle()


def _add(key: str, amount: int, timeout: int) -> int:
    """Add to a counter in the default cache that expires with its window; its new value."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):  # INCRBY and EXPIRE in one round trip
        full = backend.make_and_validate_key(key)
        client = backend._cache.get_client(full, write=True)
        with client.pipeline(transaction=False) as pipe:
            pipe.incrby(full, amount)
            pipe.expire(full, timeout + 1)
            count, _ = pipe.execute()
        return int(count)
    if backend.add(key, amount, timeout + 1):
        return amount
    try:
        return backend.incr(key, amount)
    except ValueError:  # expired between add and incr
        backend.add(key, amount, timeout + 1)
        return amount
