"""Channel URLs at rest: Fernet with the environment's key, rotation, and production's refusal."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from notify import crypto


def test_it_round_trips_and_the_ciphertext_hides_the_url(settings):
    settings.NOTIFY_ENCRYPTION_KEY = Fernet.generate_key().decode()
    token = crypto.encrypt("slack://secret-token")
    assert "secret-token" not in token and crypto.decrypt(token) == "slack://secret-token"


def test_a_new_first_key_still_reads_what_the_old_one_wrote(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.NOTIFY_ENCRYPTION_KEY = old
    token = crypto.encrypt("json://example.com/x")
    settings.NOTIFY_ENCRYPTION_KEY = f"{new},{old}"
    assert crypto.decrypt(token) == "json://example.com/x"
    settings.NOTIFY_ENCRYPTION_KEY = new
    with pytest.raises(crypto.Undecryptable):
        crypto.decrypt(token)


def test_without_a_key_it_derives_one_except_in_production(settings):
    settings.NOTIFY_ENCRYPTION_KEY = ""
    assert crypto.decrypt(crypto.encrypt("x://y")) == "x://y"
    settings.SETTINGS_MODULE = "config.settings.production"
    with pytest.raises(ImproperlyConfigured, match="NOTIFY_ENCRYPTION_KEY"):
        crypto.encrypt("x://y")


def test_a_malformed_key_is_said_plainly(settings):
    settings.NOTIFY_ENCRYPTION_KEY = "not-a-key"
    with pytest.raises(ImproperlyConfigured, match="Fernet keys"):
        crypto.encrypt("x://y")
