"""Fetching, caching and loading model artifacts (skops files only).

Each artifact is downloaded once into a private cache directory (mode 0700, owned by this
process's user: a world-writable cache lets anyone swap a model, as CVE-2026-4137 did), its sha256
is checked against the registry before every load from disk, and it is loaded with the type list
stored in the database. Loaded models stay in memory per worker process, keyed by (version, sha256).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from packaging.version import InvalidVersion, Version

if TYPE_CHECKING:
    from .models import ModelVersion

CHUNK = 1024 * 1024


class ArtifactError(Exception):
    """The artifact cannot be fetched or loaded; the message says why, for a person."""


class ChecksumMismatch(ArtifactError):
    pass


class UnsafeCacheDir(ArtifactError):
    pass


@dataclass(frozen=True)
class Loaded:
    model: Any
    version_pk: int
    sha256: str
    warnings: tuple[str, ...] = field(default=())
    allow_nan: bool = False  # whether the estimator takes missing values (its scikit-learn tags say so)


_loaded: dict[tuple[int, str], Loaded] = {}
_lock = threading.Lock()


def fetch(uri: str, dest: Path) -> None:
    """Copy the artifact at `uri` (s3://bucket/key or an absolute local path) to `dest`."""
    if uri.startswith("s3://"):
        parts = urlsplit(uri)
        bucket, key = parts.netloc, parts.path.lstrip("/")
        if not bucket or not key:
            raise ArtifactError(f"{uri}: an S3 artifact URI is s3://bucket/key.")
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            boto3.client("s3").download_file(bucket, key, str(dest))
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "unknown")
            raise ArtifactError(f"{uri}: S3 {exc.operation_name} failed with {code}.") from exc
        except BotoCoreError as exc:
            raise ArtifactError(f"{uri}: S3 download failed: {exc}.") from exc
        return
    source = Path(uri)
    if not source.is_absolute():
        raise ArtifactError(f"{uri}: a local artifact path must be absolute (or use s3://bucket/key).")
    if not source.is_file():
        raise ArtifactError(f"{uri}: no such file.")
    shutil.copyfile(source, dest)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def cache_dir() -> Path:
    """`MLSERVICE_CACHE_DIR` if set, else `<VAR_DIR>/model-cache`; created private, refused if not private."""
    configured = getattr(settings, "MLSERVICE_CACHE_DIR", None)
    path = Path(configured) if configured else Path(settings.VAR_DIR) / "model-cache"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafeCacheDir(f"{path}: the model cache must be a directory (not a link or a file).")
    if info.st_uid != os.geteuid():
        raise UnsafeCacheDir(f"{path}: the model cache is owned by uid {info.st_uid}, not by us ({os.geteuid()}).")
    mode = stat.S_IMODE(info.st_mode)
    if mode != 0o700:
        raise UnsafeCacheDir(f"{path}: the model cache has mode {mode:04o}; it must be 0700 (chmod 700 it).")
    return path


def version_warnings(recorded: str, running: str | None = None) -> tuple[str, ...]:
    """A warning when the running scikit-learn's major.minor differs from the one the model was saved with."""
    if running is None:
        import sklearn

        running = sklearn.__version__
    try:
        saved, now = Version(recorded).release[:2], Version(running).release[:2]
    except InvalidVersion:
        return (f"the recorded scikit-learn version {recorded!r} cannot be compared with {running}",)
    if now > saved:
        return (f"saved with scikit-learn {recorded}, running {running} (newer): predictions may differ",)
    if now < saved:
        return (f"saved with scikit-learn {recorded}, running {running} (older): predictions may differ",)
    return ()


def _cached_file(version: ModelVersion) -> Path:
    directory = cache_dir()
    path = directory / f"{version.pk}-{version.sha256}.skops"
    if not path.exists():
        handle, partial = tempfile.mkstemp(dir=directory, suffix=".partial")
        os.close(handle)
        try:
            fetch(version.artifact_uri, Path(partial))
            os.replace(partial, path)
        finally:
            Path(partial).unlink(missing_ok=True)
    return path


def loaded(version: ModelVersion) -> Loaded | None:
    """The version's estimator if this process has loaded it already, else None (no disk, no lock)."""
    return _loaded.get((version.pk, version.sha256))


def load(version: ModelVersion) -> Loaded:
    """The version's estimator, loaded once per process; raises `ArtifactError` with the reason."""
    key = (version.pk, version.sha256)
    if (hit := _loaded.get(key)) is not None:
        return hit
    with _lock:
        if (hit := _loaded.get(key)) is not None:
            return hit
        path = _cached_file(version)
        actual = sha256_of(path)
        if actual != version.sha256:
            path.unlink(missing_ok=True)
            raise ChecksumMismatch(
                f"{version}: the artifact at {version.artifact_uri} has sha256 {actual}, "
                f"the registry expects {version.sha256}; refused and removed from the cache."
            )
        import skops.io

        try:
            model = skops.io.load(path, trusted=list(version.trusted_types))
        except Exception as exc:  # skops raises several kinds; each means "cannot serve this"
            raise ArtifactError(f"{version}: loading failed: {exc}") from exc
        loaded = Loaded(model, version.pk, version.sha256, version_warnings(version.sklearn_version), allows_nan(model))
        _loaded[key] = loaded
        return loaded


def import_runtime() -> None:
    """Import what loading and serving a model needs (scikit-learn, skops): for a process that is
    about to serve (a gunicorn worker, from config/gunicorn.conf.py), so that its first inference
    does not pay seconds of imports while clients wait."""
    import sklearn.utils  # noqa: F401
    import skops.io  # noqa: F401


def allows_nan(model: Any) -> bool:
    from sklearn.utils import get_tags

    try:
        return bool(get_tags(model).input_tags.allow_nan)
    except Exception:  # an estimator from outside scikit-learn without tags: assume it does not
        return False


def forget_all() -> None:
    """Drop every in-memory model (tests, and a worker that wants to free memory)."""
    with _lock:
        _loaded.clear()
