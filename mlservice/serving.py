"""Which loaded model answers a request, in each worker process.

A request names a model and optionally a version; without one it gets the model's default, its
`production` alias (MLSERVICE_DEFAULT_ALIAS) or, when it has no such alias, its newest version.

- The registry is read as a snapshot (3 queries) at most every MLSERVICE_REFRESH_SECONDS, by one
  request while the others go on with the snapshot they have: no query per request.
- When a refresh finds that a default this process serves has moved (an alias moved), the new
  version is loaded *before* the new snapshot is published. Until then requests are answered by
  the old version, so a move costs no failed request and no slow one (load, then swap).
- A version that cannot be loaded (artifact missing, sha256 mismatch, untrusted type, load error)
  is tried again after MLSERVICE_RETRY_SECONDS, not on every request. Meanwhile the default is
  answered by the last version that loaded well (this process's, or for a fresh process the one
  the alias records in `last_good`), marked degraded with the reason; with nothing to fall back
  on, `Unavailable` (a 503) with the reason. A fixed artifact is picked up at the next try.
- A model belongs to one workspace: `serve(..., reach=)` answers a model outside the caller's
  workspaces exactly as one that does not exist (`NotFound`, with the same message).
- Why an artifact cannot be loaded names its path and sha256 values, which are for the model
  workspace's admins (and the logs) only; everyone else is told `GENERIC_REASON` (`told_to`).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction

from . import artifacts, selectors, services
from .models import ModelAlias, ModelVersion, RegisteredModel

if TYPE_CHECKING:
    from .access import Reach

logger = logging.getLogger(__name__)

# What a caller who does not administer the model's workspace is told instead of why its artifact
# could not be loaded (that reason names the artifact's path and sha256 values).
GENERIC_REASON = "the model's artifact could not be loaded; its workspace admins can see why"
_WITHHELD_WARNING = "a warning about the model's artifact; its workspace admins can see it"
_SHA256 = re.compile(r"\b[0-9a-f]{64}\b")


class NotFound(Exception):
    """No such model or version (a 404), or a model outside the caller's workspaces."""


def no_model(name: str) -> NotFound:
    """The one answer for a model that does not exist and for one the caller may not see."""
    return NotFound(f"There is no model named {name!r}.")


class Unavailable(Exception):
    """The model exists but nothing of it can be served now (a 503). The message (`reason`) says
    why, for the model workspace's admins and the logs; `public` says it without the artifact."""

    def __init__(self, reason: str, public: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.public = reason if public is None else public
        self.workspace_id: int | None = None  # the model's, set by `Router.serve`

    def told_to(self, admin: bool) -> str:
        return self.reason if admin else self.public


@dataclass(frozen=True)
class Entry:
    """One registered model in a snapshot."""

    model: RegisteredModel
    versions: dict[str, ModelVersion]  # label -> version, newest first
    default: ModelVersion | None
    alias: ModelAlias | None  # the default alias, when the model has one

    @property
    def workspace_id(self) -> int:
        return self.model.workspace_id


@dataclass(frozen=True)
class Served:
    """The estimator that answers, the version it is, and the one that was asked for."""

    name: str
    version: ModelVersion
    loaded: artifacts.Loaded
    wanted: ModelVersion
    reason: str = ""  # why `wanted` is not the one answering (names the artifact: for admins)
    public_reason: str = ""  # the same, for everyone else

    def reason_told_to(self, admin: bool) -> str:
        return self.reason if admin else self.public_reason

    @property
    def estimator(self) -> Any:
        return self.loaded.model

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.loaded.warnings

    def warnings_told_to(self, admin: bool) -> tuple[str, ...]:
        """The load warnings; for a caller who is not an admin, any that names an artifact (its
        URI or a sha256) is replaced (today's warnings are about scikit-learn versions only)."""
        if admin or not self.warnings:
            return self.warnings
        uris = {self.version.artifact_uri, self.wanted.artifact_uri}
        return tuple(
            _WITHHELD_WARNING if _SHA256.search(w) or any(uri in w for uri in uris) else w for w in self.warnings
        )

    @property
    def degraded(self) -> bool:
        return self.version.pk != self.wanted.pk

    def predict(self, output: str, features: Any) -> Any:
        """`output` ("predict" or "predict_proba") of the estimator for rows `protocol.parse_infer`
        made. That parse refused every infinite value, and NaN unless the estimator takes missing
        values, which is what scikit-learn's own finiteness check would refuse: it is not run a second
        time (a tenth of a 1-row prediction, bench/inference.py). Both routes predict here."""
        from sklearn import config_context  # loaded with the estimator already: a lookup

        with config_context(assume_finite=True):
            if output == "predict":
                return self.estimator.predict(features)
            return self.estimator.predict_proba(features)


@dataclass
class _Failure:
    at: float
    reason: str


@dataclass
class Router:
    _snapshot: dict[str, Entry] | None = None
    _taken: float = float("-inf")
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _failures: dict[tuple[int, str], _Failure] = field(default_factory=dict)
    _good: dict[str, ModelVersion] = field(default_factory=dict)  # model name -> last default served well

    # --- the registry snapshot ------------------------------------------------------------------

    def expire(self) -> None:
        """Read the registry again at the next request (after an alias move in this process)."""
        self._taken = float("-inf")

    def reset(self) -> None:
        """Forget everything (tests; a process that wants a clean start)."""
        with self._lock:
            self._snapshot, self._taken = None, float("-inf")
            self._failures.clear()
            self._good.clear()

    def snapshot(self) -> dict[str, Entry]:
        if self._snapshot is not None and time.monotonic() - self._taken < settings.MLSERVICE_REFRESH_SECONDS:
            return self._snapshot
        if self._snapshot is None:
            with self._lock:  # the first one: everyone waits for it
                if self._snapshot is None:
                    self._refresh()
        elif self._lock.acquire(blocking=False):  # one request refreshes; the others use the old one
            try:
                self._refresh()
            finally:
                self._lock.release()
        return self._snapshot  # type: ignore[return-value]

    def _refresh(self) -> None:
        fresh = _read_registry()
        for name, entry in fresh.items():
            served = self._good.get(name)
            if served is not None and entry.default is not None and _key(entry.default) != _key(served):
                # This process serves the model and its default moved: load the new one before the swap.
                # A failure is remembered and the swap still happens; requests then fall back to `served`.
                try:
                    self._load(entry.default)
                except Unavailable:
                    pass
        self._snapshot, self._taken = fresh, time.monotonic()

    # --- answering ----------------------------------------------------------------------------

    def entry(self, name: str, reach: Reach | None = None) -> Entry:
        """The model's snapshot entry; `NotFound` when there is none or `reach` may not see it
        (None: the caller is this process, e.g. the dashboard panel, which filters on its own)."""
        entry = self.snapshot().get(name)
        if entry is None or (reach is not None and not reach.sees(entry.workspace_id)):
            raise no_model(name)
        return entry

    def serve(self, name: str, version: str | None = None, *, reach: Reach | None = None) -> Served:
        entry = self.entry(name, reach)
        try:
            return self._serve(entry, version)
        except Unavailable as failure:
            failure.workspace_id = entry.workspace_id
            raise

    def served_at_once(self, name: str, version: str | None, reach: Reach) -> Served | None:
        """What `serve` would answer, when that costs no query, no write, no load and no fallback:
        the snapshot is fresh, `reach` sees the model, the version is loaded in this process (for
        the default, one that is not degraded and whose `last_good` is already recorded). None
        otherwise: `mlservice.fast` then hands the request to the view, which calls `serve`."""
        snapshot = self._snapshot
        if snapshot is None or time.monotonic() - self._taken >= settings.MLSERVICE_REFRESH_SECONDS:
            return None
        entry = snapshot.get(name)
        if entry is None or not reach.sees(entry.workspace_id):
            return None
        if version is not None:
            row = entry.versions.get(version)
        else:
            row = entry.default
            if row is None or (entry.alias is not None and entry.alias.last_good_id != row.pk):
                return None  # `_mark_good` would write
        loaded = artifacts.loaded(row) if row is not None else None
        if loaded is None:
            return None
        if version is None and self._good.get(name) is not row:
            self._good[name] = row  # what `_mark_good` does, in memory only (nothing to write)
        return Served(name, row, loaded, row)

    def _serve(self, entry: Entry, version: str | None) -> Served:
        name = entry.model.name
        if version is not None:
            row = entry.versions.get(version)
            if row is None:
                known = ", ".join(entry.versions) or "none"
                raise NotFound(f"Model {name!r} has no version {version!r} (it has: {known}).")
            loaded = self._load(row)  # a version asked for by name is that version or nothing
            return Served(name, row, loaded, row)
        wanted = entry.default
        if wanted is None:
            raise Unavailable(f"Model {name!r} has no versions yet.")
        try:
            loaded = self._load(wanted)
        except Unavailable as failure:
            return self._fall_back(entry, wanted, failure)
        self._mark_good(entry, wanted)
        return Served(name, wanted, loaded, wanted)

    def _fall_back(self, entry: Entry, wanted: ModelVersion, failure: Unavailable) -> Served:
        name = entry.model.name
        candidates = [self._good.get(name)]
        if entry.alias is not None and entry.alias.last_good_id is not None:
            candidates.append(next((v for v in entry.versions.values() if v.pk == entry.alias.last_good_id), None))
        for candidate in candidates:
            if candidate is None or candidate.pk == wanted.pk:
                continue
            try:
                loaded = self._load(candidate)
            except Unavailable:
                continue
            return Served(name, candidate, loaded, wanted, reason=failure.reason, public_reason=failure.public)
        why = f"{wanted} cannot be served and no earlier version of it has loaded well"
        raise Unavailable(f"{why}: {failure.reason}", f"{why}: {failure.public}")

    def _mark_good(self, entry: Entry, row: ModelVersion) -> None:
        if self._good.get(entry.model.name) is not row:
            self._good[entry.model.name] = row
        alias = entry.alias
        if alias is not None and alias.last_good_id != row.pk:
            # Once per move per process: a fresh process then knows what to fall back on.
            services.alias_last_good_set(alias_id=alias.pk, version_id=row.pk)
            alias.last_good_id = row.pk

    def _load(self, row: ModelVersion) -> artifacts.Loaded:
        key = _key(row)
        failure = self._failures.get(key)
        if failure is not None and time.monotonic() - failure.at < settings.MLSERVICE_RETRY_SECONDS:
            raise Unavailable(failure.reason, f"{row}: {GENERIC_REASON}")
        try:
            loaded = artifacts.load(row)
        except (artifacts.ArtifactError, OSError) as exc:
            reason = str(exc) if isinstance(exc, artifacts.ArtifactError) else f"{row}: {exc}"
            self._failures[key] = _Failure(time.monotonic(), reason)
            logger.warning("model %s cannot be loaded: %s", row, reason)
            raise Unavailable(reason, f"{row}: {GENERIC_REASON}") from exc
        self._failures.pop(key, None)
        return loaded


def _key(row: ModelVersion) -> tuple[int, str]:
    return (row.pk, row.sha256)


def _read_registry() -> dict[str, Entry]:
    """Every model with its versions (newest first) and default alias, in three queries."""
    models, versions, aliases = selectors.registry_rows(settings.MLSERVICE_DEFAULT_ALIAS)
    snapshot = {}
    for pk, model in models.items():
        alias = aliases.get(pk)
        rows = versions[pk]
        if alias is not None:
            default = next((v for v in rows.values() if v.pk == alias.version_id), None)
        else:
            default = next(iter(rows.values()), None)
        snapshot[model.name] = Entry(model, rows, default, alias)
    return snapshot


router = Router()


def alias_saved(sender: type[ModelAlias], instance: ModelAlias, **kwargs: Any) -> None:
    """post_save of a ModelAlias (a move, from any service): this process serves the new version
    from its next request after the commit; the others within MLSERVICE_REFRESH_SECONDS. Each loads
    it before it swaps. (A signal, so that the registry's writes need not import the router.)"""
    transaction.on_commit(router.expire)
