"""WSGI entry point for gunicorn and the development server.

`POST /v2/models/<name>/infer` is answered in front of Django when it can be (mlservice.fast:
a cached token, a fresh registry snapshot, a loaded model, a request that succeeds); everything
else, and every such request that cannot, goes to Django unchanged.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

django_application = get_wsgi_application()

from mlservice.fast import FastInference  # noqa: E402 - after django.setup(): it reads the settings and models

application = FastInference(django_application)
