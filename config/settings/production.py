"""Production: only overrides. Secrets have no defaults; a missing one stops the process."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import LOGGING, checked_log_format, env

DEBUG = False
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")

# https only. (nosniff, the referrer policy, X-Frame-Options, HttpOnly cookies and the Content
# Security Policy are in base.py: every mode has them.)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# A load balancer's health probe and a Prometheus scrape speak plain http inside the network:
# answer them, don't redirect them (/metrics still needs METRICS_TOKEN or an allowed network).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

# Webhooks leave only over https, and never for an address inside our own network.
WEBHOOK_ALLOW_HTTP = False
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False)

# Channel URLs hold their services' secrets: under production settings notify.crypto refuses to
# encrypt or decrypt them without NOTIFY_ENCRYPTION_KEY (never a key derived from SECRET_KEY).
# The log-file target writes on this server: off.
NOTIFY_ALLOW_LOG_TARGET = False

# Loopback is never reachable from checks and webhooks (core.egress). The test suite's one
# exception, EGRESS_TEST_ALLOW_LOOPBACK, stops a production process that is given it.
if globals().get("EGRESS_TEST_ALLOW_LOOPBACK") or env.bool("EGRESS_TEST_ALLOW_LOOPBACK", default=False):
    raise ImproperlyConfigured(
        "EGRESS_TEST_ALLOW_LOOPBACK is for the test suite only: it lets checks and webhooks reach loopback."
    )
EGRESS_TEST_ALLOW_LOOPBACK = False

# One JSON object a line, for a log collector (LOG_FORMAT=plain for a readable one).
LOG_FORMAT = checked_log_format(env.str("LOG_FORMAT", default="json"))
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT
