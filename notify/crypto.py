"""Channel URLs at rest: encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`).

An Apprise URL holds the channel's secret (a Slack webhook token, an SMTP password), so the
database keeps only its ciphertext. The key comes from NOTIFY_ENCRYPTION_KEY: one Fernet key, or
several separated by commas to rotate (the first encrypts, all decrypt: MultiFernet). Without it,
a key derived from SECRET_KEY is used so `make run` works; under production settings no channel
URL is encrypted or read without a key of production's own (ImproperlyConfigured, said on the page).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class Undecryptable(Exception):
    """The stored URL cannot be read with the configured keys (the key was changed without rotation)."""


def _derived_key() -> bytes:
    digest = hashlib.sha256(b"snailtrail.notify.channel-url:" + settings.SECRET_KEY.encode()).digest()
    return base64.urlsafe_b64encode(digest)


def _fernet() -> MultiFernet:
    configured = [key.strip() for key in (settings.NOTIFY_ENCRYPTION_KEY or "").split(",") if key.strip()]
    if not configured and str(getattr(settings, "SETTINGS_MODULE", "") or "").endswith(".production"):
        raise ImproperlyConfigured(
            "Set NOTIFY_ENCRYPTION_KEY (a Fernet key) to keep notification channels: production does not "
            "derive one from SECRET_KEY."
        )
    try:
        keys = [Fernet(key) for key in configured] or [Fernet(_derived_key())]
    except ValueError as error:
        raise ImproperlyConfigured(
            "NOTIFY_ENCRYPTION_KEY must be Fernet keys (32 url-safe base64 bytes), separated by commas."
        ) from error
    return MultiFernet(keys)


def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise Undecryptable("The channel's URL cannot be decrypted with NOTIFY_ENCRYPTION_KEY.") from None
