"""Settings shared by every run mode. Everything is declared here; the other modules only override.

Values come from the environment through django-environ (12-factor). The embedded defaults need
no server: SQLite in WAL mode, a local-memory cache and a filesystem Celery transport. Set
DATABASE_URL and REDIS_URL to run on PostgreSQL and Redis.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False)

# Runtime state of the embedded mode: the SQLite database, Celery queue files, the demo password.
VAR_DIR = Path(env.str("SNAILTRAIL_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",  # "now", "2 minutes ago"
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "django_celery_beat",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "tracker",
    "ops",
    "mlservice",
    "notify",
    "audit",
]

MIDDLEWARE = [
    # First: every later middleware's log lines (and its early answers) carry the request id.
    "core.request_id.RequestIdMiddleware",
    # Second: counts and times every response (core/metrics.py), early answers of the later ones too.
    "core.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # django-csp's, with each policy's header built once instead of on every response (core/csp.py).
    "core.csp.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Django's three, skipped on the routes that use no session (SESSIONLESS_PATHS below).
    "core.middleware.SessionMiddleware",
    "core.http_errors.BodySizeLimit",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "core.middleware.AuthenticationMiddleware",
    "core.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
# Routes with no session, logged-in user or flash messages (core/middleware.py): what ends in "/"
# is a prefix, anything else an exact path. Inference and /metrics take a token (or an allowed
# network), the probes nothing; a static file is answered by WhiteNoise before, a missing one is a 404.
SESSIONLESS_PATHS = ["/v2", "/v2/", "/healthz", "/readyz", "/metrics", "/static/"]
# Under these, a request sending `Authorization: Token <key>` has no session either: DRF's
# TokenAuthentication comes first and either authenticates it or refuses it.
SESSIONLESS_TOKEN_PREFIXES = ["/api/"]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- browser security headers (every mode, so the suite tests the pages under them) ----------------
# Production adds HSTS, the https redirect and Secure cookies (config/settings/production.py).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # forms carry the token in a hidden field; no script reads the cookie
# Content Security Policy (django-csp): scripts only from our own static files, never inline, no
# plugins, no <base>, never framed, forms post only to us. The dashboard's chart data is a
# `json_script` block (type="application/json"), which is data, not a script. Styles too come only
# from files: plotly.js would inject its stylesheet inline, so the dashboard links a copy of it
# (static/css/plotly.css, written by scripts/plotly_css.py), which makes plotly.js skip that; it
# sets styles at run time only through the CSSOM, which the policy allows. Only /api/docs/ adds to
# this policy (data: images for Swagger UI: config/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

# --- database ---------------------------------------------------------------------------------
# SQLite by default. WAL lets the dashboard read while a worker writes; IMMEDIATE transactions
# take the write lock up front instead of failing with "database is locked" halfway through.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'snailtrail.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["ENGINE"] = "core.db.sqlite3"
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
            "transaction_mode": "IMMEDIATE",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache and broker -------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # Bounded waits: a Redis that hangs makes a request a 503 in seconds (core/http_errors.py), not
    # a worker stuck until gunicorn's timeout.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    # Longer than the longest task or countdown, or Redis hands an unacked task to a second worker.
    # (The longest is a webhook's last retry: 30 s x 4**4 = 2 h 8 min.)
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3 * 3600)}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "filesystem://"
    _QUEUE_DIR = VAR_DIR / "celery"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_QUEUE_DIR / "queue"),
        "data_folder_out": str(_QUEUE_DIR / "queue"),
        "processed_folder": str(_QUEUE_DIR / "processed"),
        # Broadcast (pidbox) exchanges: kombu's default is ./control, i.e. wherever it was started.
        "control_folder": str(_QUEUE_DIR / "control"),
        "store_processed": False,
    }

CELERY_TIMEZONE = "UTC"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True  # tasks record their outcome in the database, not a result backend
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Two queues. `ops` carries the live checks (a group can spend two minutes on AWS calls), `celery`
# the rest (webhook deliveries), so a burst of checks never holds up a webhook and check workers
# scale on their own (`celery -A config worker -Q ops` on more hosts). A worker started without -Q
# takes both. mlservice has no queue: inference is answered in the web process, which must hold the
# model in its own memory, and nothing of it runs in the background.
CELERY_TASK_QUEUES = [Queue(name, routing_key=name) for name in ("celery", "ops")]  # a key each: one queue per message
CELERY_TASK_ROUTES = {"ops.tasks.*": {"queue": "ops"}}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# django-celery-beat keeps the schedule in the database (editable in the admin); these entries
# are written there when beat starts.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    # Claims what is due and queues one batched run per (environment, region, type) group.
    "dispatch-due-checks": {
        "task": "ops.tasks.dispatch_due_checks",
        "schedule": env.float("CHECK_DISPATCH_SECONDS", default=15.0),
    },
    # A delivery whose task was lost (broker down at commit, worker gone) is sent again.
    "redeliver-stalled-webhooks": {"task": "tracker.tasks.redeliver_stalled_webhooks", "schedule": 300.0},
    # Notifications (notify/): held check flips, lost sends, personal digests, status reports,
    # stale checks (ops/staleness.py) and forecast slips (tracker/watch.py).
    "notify-held-flips": {"task": "notify.tasks.tell_held_flips", "schedule": 60.0},
    "notify-redeliver-stalled": {"task": "notify.tasks.redeliver_stalled", "schedule": 300.0},
    "notify-digests": {"task": "notify.tasks.send_digests", "schedule": crontab(hour=7, minute=0)},
    "notify-status-reports": {"task": "notify.tasks.send_scheduled_reports", "schedule": 300.0},
    "ops-stale-checks": {"task": "ops.staleness.announce_stale_checks", "schedule": 300.0},
}
# Task modules that are not an app's tasks.py, which autodiscovery would not find.
CELERY_IMPORTS = ["ops.staleness"]

# --- health probes (core/health.py) ---------------------------------------------------------------
# How long /readyz waits for the broker to answer before it reports it unreachable.
HEALTH_CHECK_TIMEOUT_SECONDS = env.float("HEALTH_CHECK_TIMEOUT_SECONDS", default=2.0)

# --- auth -------------------------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "tracker:operation-list"
LOGOUT_REDIRECT_URL = "login"

# --- the REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an anonymous call gets 401 with `WWW-Authenticate: Token`, not a bare 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # DRF's default is AllowAny: nothing is readable anonymously here (public links are pages).
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "tracker.api.policies.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # DRF's JSON parser with orjson and a nesting limit (API_MAX_JSON_DEPTH): never a RecursionError.
    "DEFAULT_PARSER_CLASSES": ["tracker.api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "tracker.api.base.TrackerAutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["tracker.api.policies.WriteThrottle"],
    # Counted in the default cache (Redis when REDIS_URL is set): one count for every worker.
    "DEFAULT_THROTTLE_RATES": {
        "login": env.str("API_LOGIN_RATE", default="10/min"),
        "write": env.str("API_WRITE_RATE", default="300/min"),
    },
    # Behind a proxy, set to the number of proxies so throttles see the client's address.
    "NUM_PROXIES": env.int("API_NUM_PROXIES", default=None),
    "EXCEPTION_HANDLER": "core.http_errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
# Larger than a 5,000-task tracker document (~0.5 MB); a bigger body is a 413 before it is read.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=2 * 1024 * 1024)
# How deep a JSON body (/api/ and /v2/) may nest lists and objects; deeper is a 400 before it is
# parsed. Real bodies nest 5 levels or fewer; 64 stays far below Python's recursion limit (1,000),
# which about a thousand `[` (1 KB) used to reach in the parser: a RecursionError, a 500.
API_MAX_JSON_DEPTH = env.int("API_MAX_JSON_DEPTH", default=64)
SPECTACULAR_SETTINGS = {
    "TITLE": "Snail Trail API",
    "DESCRIPTION": "Operations, phases, tasks, blockers and findings of infrastructure and ML rollouts.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's files from our own static (the sidecar package), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Separate request and response shapes: read-only fields (ids, times, progress) are not
    # offered as inputs, and a client generator gets exact types for both directions.
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "OperationStatusEnum": "tracker.models.Status",
        "PhaseStatusEnum": "tracker.models.PhaseStatus",
        "CheckStatusEnum": "ops.models.CheckStatus",
        "OperationRoleEnum": "tracker.models.Membership.Role",
        "WorkspaceRoleEnum": "tracker.models.WorkspaceMembership.Role",
    },
}

# --- tracker documents (tracker/lib/parser.py; the import page, the API and `import_tracker`) -------
# Budgets a tracker document must fit, checked by a linear pre-scan before the parsing proper: over
# one, the import is refused with a problem naming the limit and its setting, and nothing is written.
# For scale, a 5,000-task tracker is 241 KB, 6,000 lines and ~5,600 blocks and parses in ~0.2 s; at
# these defaults no document takes more than ~0.5 s or ~40 MB to parse (docs/benchmarks.md,
# "Hostile imports", measured by bench/hostile_import.py).
# The largest document in bytes, for every route that takes one (the API's is a 413 before reading).
TRACKER_MAX_DOCUMENT_BYTES = env.int("TRACKER_MAX_DOCUMENT_BYTES", default=2 * 1024 * 1024)
# Lines, blank ones included (a line of a paragraph costs markdown-it ~13 µs, a blank one ~1 µs).
TRACKER_MAX_LINES = env.int("TRACKER_MAX_LINES", default=20_000)
# Blocks: headings, paragraphs, list items, quotes (~40 µs each to parse; about the non-blank lines).
TRACKER_MAX_BLOCKS = env.int("TRACKER_MAX_BLOCKS", default=10_000)
# How deep lists and quotes may sit inside one another (tracker lists are flat; a kept note may nest).
TRACKER_MAX_NESTING = env.int("TRACKER_MAX_NESTING", default=6)

# --- AWS (the ops app's checks) -------------------------------------------------------------------
# Credentials and endpoints come from boto3's standard chain and resolution (AWS_PROFILE,
# AWS_ENDPOINT_URL...), never from these settings or the database.
AWS_MAX_ATTEMPTS = env.int("AWS_MAX_ATTEMPTS", default=3)
AWS_CONNECT_TIMEOUT_SECONDS = env.float("AWS_CONNECT_TIMEOUT_SECONDS", default=5.0)
AWS_READ_TIMEOUT_SECONDS = env.float("AWS_READ_TIMEOUT_SECONDS", default=15.0)

# --- ML serving (mlservice) --------------------------------------------------------------------
# A request without a version gets this alias (or, for a model without it, its newest version).
MLSERVICE_DEFAULT_ALIAS = env.str("MLSERVICE_DEFAULT_ALIAS", default="production")
# How often each worker process reads the registry again (a moved alias is served within this).
MLSERVICE_REFRESH_SECONDS = env.float("MLSERVICE_REFRESH_SECONDS", default=2.0)
# How long a version that failed to load is left before the next try (recovery is automatic).
MLSERVICE_RETRY_SECONDS = env.float("MLSERVICE_RETRY_SECONDS", default=10.0)
# How long a worker trusts a token it has looked up (a deleted token stops at once in its own process).
MLSERVICE_TOKEN_CACHE_SECONDS = env.float("MLSERVICE_TOKEN_CACHE_SECONDS", default=30.0)
# Inference requests per token, counted in the shared cache.
MLSERVICE_INFER_RATE = env.str("MLSERVICE_INFER_RATE", default="6000/min")
# 10 MB holds ~100,000 rows of 4 features as JSON; a bigger body is a 413 before it is read.
MLSERVICE_MAX_BODY_BYTES = env.int("MLSERVICE_MAX_BODY_BYTES", default=10 * 1024 * 1024)
# Values in one inference request (rows x features, from its shape) and in its answer (rows x the
# width of each output asked for: predict_proba is one per class); more is a 413 before predicting.
MLSERVICE_MAX_INPUT_VALUES = env.int("MLSERVICE_MAX_INPUT_VALUES", default=1_000_000)
MLSERVICE_MAX_OUTPUT_VALUES = env.int("MLSERVICE_MAX_OUTPUT_VALUES", default=1_000_000)
# Where downloaded artifacts are kept (private, 0700); default <SNAILTRAIL_VAR_DIR>/model-cache.
MLSERVICE_CACHE_DIR = env.str("MLSERVICE_CACHE_DIR", default="")

# --- /metrics (Prometheus) ----------------------------------------------------------------------
# With METRICS_TOKEN set, a scraper sends `Authorization: Bearer <token>`; without, only these
# addresses are answered.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"])

# --- outgoing webhooks ------------------------------------------------------------------------
# Targets must be https and resolve to public addresses; these two open that up for a local
# receiver (tests, `make run`). Production forces both off whatever the environment says.
WEBHOOK_ALLOW_HTTP = env.bool("WEBHOOK_ALLOW_HTTP", default=False)
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=6)
# Attempt n waits base * 4**(n-1) seconds: 30 s, 2 min, 8 min, 32 min, ~2 h.
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=30.0)

# --- notifications (notify/) --------------------------------------------------------------------
# Fernet keys for the channel URLs at rest, comma-separated (the first encrypts, all decrypt). Empty:
# a key derived from SECRET_KEY (`make run`); under production settings no channel is kept without one.
NOTIFY_ENCRYPTION_KEY = env.str("NOTIFY_ENCRYPTION_KEY", default="")
# The links in messages and reports point here.
NOTIFY_SITE_URL = env.str("NOTIFY_SITE_URL", default="http://localhost:8000")
NOTIFY_MAX_ATTEMPTS = env.int("NOTIFY_MAX_ATTEMPTS", default=4)
# Attempt n waits base * 4**(n-1) seconds: 30 s, 2 min, 8 min.
NOTIFY_RETRY_BASE_SECONDS = env.float("NOTIFY_RETRY_BASE_SECONDS", default=30.0)
# A channel whose deliveries fail this many times in a row is paused until an admin resumes it.
NOTIFY_PAUSE_AFTER_FAILURES = env.int("NOTIFY_PAUSE_AFTER_FAILURES", default=5)
# A person's own emails (follows, digests) go through Django's EMAIL_* settings, from this address.
NOTIFY_FROM_EMAIL = env.str("NOTIFY_FROM_EMAIL", default="snailtrail@localhost")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
# The `snailtraillog://` target (the demo's channel) appends to this file; off in production.
NOTIFY_ALLOW_LOG_TARGET = env.bool("NOTIFY_ALLOW_LOG_TARGET", default=True)
NOTIFY_LOG_FILE = env.str("NOTIFY_LOG_FILE", default=str(VAR_DIR / "notifications.log"))

# --- i18n, static -----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# An uploaded tracker document is read whole into memory; refuse anything far larger than one.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# LOG_FORMAT: `plain` (a readable line) or `json` (one JSON object a line: timestamp, level, logger,
# message, request_id, exc_info; production's default). See core/request_id.py for the request id.
LOG_FORMATS = ("plain", "json")


def checked_log_format(value: str) -> str:
    if value not in LOG_FORMATS:
        raise ImproperlyConfigured(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {value!r}")
    return value


LOG_FORMAT = checked_log_format(env.str("LOG_FORMAT", default="plain"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "core.request_id.JsonFormatter", "fmt": "%(levelname)s %(name)s %(message)s"},
    },
    "filters": {"request_id": {"()": "core.request_id.RequestIdFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Django's own console handler would print every line a second time through the root one.
    "loggers": {"django": {"handlers": [], "level": "INFO", "propagate": True}},
}

# --- /metrics: Celery and scrape-time gauges (core/metrics.py) ---------------------------------------
# The Celery queues whose waiting messages `snailtrail_celery_queue_depth` counts (Redis: their list
# keys; filesystem transport: their files in data_folder_in).
METRICS_CELERY_QUEUES = env.list("METRICS_CELERY_QUEUES", default=[queue.name for queue in CELERY_TASK_QUEUES])
# A Celery worker's own /metrics (core/worker_metrics.py), for a worker web's scrape cannot see
# (its own container or host); needs a PROMETHEUS_MULTIPROC_DIR of the worker's own. Off when unset.
WORKER_METRICS_PORT = env.int("WORKER_METRICS_PORT", default=None)
WORKER_METRICS_ADDRESS = env.str("WORKER_METRICS_ADDRESS", default="127.0.0.1")
# How long a scrape waits for the broker before it leaves the queue depth out.
METRICS_SCRAPE_TIMEOUT_SECONDS = env.float("METRICS_SCRAPE_TIMEOUT_SECONDS", default=1.0)
