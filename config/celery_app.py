"""The Celery application, wired the standard way (as in cookiecutter-django).

Broker and options come from Django settings under the CELERY_ namespace: Redis when REDIS_URL is
set, otherwise kombu's filesystem transport, which needs no server so the embedded default runs
anywhere.
"""

import os

from celery import Celery

from core import metrics, worker_metrics
from core.request_id import connect_celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("snailtrail")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The request id of the request (or task) that queues a task goes with it, into the worker's logs.
connect_celery()
# Task runs, failures and durations for /metrics (core/metrics.py).
metrics.connect_celery()
# A worker's own /metrics endpoint when WORKER_METRICS_PORT is set (core/worker_metrics.py).
worker_metrics.connect()
