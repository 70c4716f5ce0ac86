"""The embedded default for `make run`: debug on, a fixed development key, everything local."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "insecure-development-key-only-for-make-run")

from .base import *  # noqa: E402,F403
from .base import CELERY_BROKER_TRANSPORT_OPTIONS, VAR_DIR  # noqa: E402

DEBUG = True
VAR_DIR.mkdir(parents=True, exist_ok=True)
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
for _folder in (
    CELERY_BROKER_TRANSPORT_OPTIONS.get("data_folder_in", ""),
    CELERY_BROKER_TRANSPORT_OPTIONS.get("processed_folder", ""),
    CELERY_BROKER_TRANSPORT_OPTIONS.get("control_folder", ""),
):
    if _folder:
        os.makedirs(_folder, exist_ok=True)

# Served from the apps' folders as they are (no collectstatic needed); the root must exist.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT = VAR_DIR / "staticfiles"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# A person's own notification emails (notify: follows, digests, reports) are printed by the
# worker instead of sent: `make run` has no mail server.
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
