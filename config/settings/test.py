"""Settings for the test suite: fast hashing, eager Celery, no filesystem queue."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "insecure-test-key")

from .base import *  # noqa: E402,F403
from .base import VAR_DIR  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405

# Served from the apps' folders as they are (no collectstatic needed); the root must exist.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT = VAR_DIR / "staticfiles"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Throttles count per user id in the cache across tests; the throttle tests set their own rates.
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"login": "10000/min", "write": "100000/min"}}  # noqa: F405

# Every request reads the model registry again, so each test sees its own rows; the tests of
# the snapshot and of the throttle set their own values.
MLSERVICE_REFRESH_SECONDS = 0.0
MLSERVICE_INFER_RATE = "100000/min"

# The test suite's local servers (webhook receivers, HTTP and inference stubs, the live server)
# listen on 127.0.0.1, which core.egress never lets anyone reach otherwise. For the test suite
# ONLY: production.py refuses it. Plain loopback only; wrapped forms and this instance's own
# services stay refused (docs/egress.md).
EGRESS_TEST_ALLOW_LOOPBACK = True
