# Snail Trail. `make run` and `make test` do all set-up on a fresh machine with Python 3.11 and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Where the second pass of `make test` finds its services (CI's are these).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/snailtrail
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
PYTEST_ARGS ?=

.PHONY: run test install install-dev migrate lint format bench bench-inference bench-load bench-hostile bench-middleware clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip==26.3

$(VENV)/.runtime: $(BIN)/python requirements.txt requirements-demo.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-demo.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

migrate: install
	$(BIN)/python manage.py migrate --noinput

## run: set up, load the example operation and its demo AWS (a local moto server) with live checks,
## start a Celery worker with beat, and serve the app at http://$(HOST):$(PORT) (scripts/run_local.py)
run: migrate
	$(BIN)/python scripts/run_local.py --host $(HOST) --port $(PORT)

## test: the whole suite on SQLite, then again on PostgreSQL + Redis when they answer.
## With REQUIRE_SERVICES=1 a missing PostgreSQL or Redis fails the run instead of skipping.
test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	@if $(BIN)/python scripts/reachable.py $(TEST_DATABASE_URL) && $(BIN)/python scripts/reachable.py $(TEST_REDIS_URL); then \
		echo "== second pass: PostgreSQL ($(TEST_DATABASE_URL)) and Redis ($(TEST_REDIS_URL))"; \
		DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/python -m pytest $(PYTEST_ARGS); \
	elif [ "$(REQUIRE_SERVICES)" = "1" ]; then \
		echo "REQUIRE_SERVICES=1 but PostgreSQL ($(TEST_DATABASE_URL)) or Redis ($(TEST_REDIS_URL)) does not answer"; exit 1; \
	else \
		echo "== skipped the PostgreSQL + Redis pass: $(TEST_DATABASE_URL) or $(TEST_REDIS_URL) does not answer"; \
	fi

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache  # the rooms and their arrows (.importlinter, docs/architecture.md)

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install-dev
	$(BIN)/python bench/import_export.py
	$(BIN)/python bench/dashboard.py
	$(BIN)/python bench/api.py
	$(BIN)/python bench/ops_sync.py

## bench-inference: our /v2 infer under gunicorn against a bare Django view, MLServer 1.7.1 and `mlflow models
## serve` (those two run from var/bench-servers, a venv of bench/requirements.txt the bench makes). About 10 minutes.
bench-inference: install-dev
	$(BIN)/python bench/inference.py

## bench-startup: what `manage.py check` and `import config.wsgi` cost against `django.setup()` (median of 5).
bench-startup: install-dev
	$(BIN)/python bench/startup.py

## bench-load: the dashboard, the API and inference under gunicorn + PostgreSQL + Redis with 16 concurrent
## clients, against /healthz in the same run, then a 2-minute soak watching the workers' memory. About 5 minutes.
bench-load: install-dev
	$(BIN)/python bench/load.py

## bench-hostile: the tracker parser on hostile documents (blank lines, one huge line, thousands of
## headings or problems, deep lists...): MB/s and peak memory per shape against the real example.
bench-hostile: install-dev
	$(BIN)/python bench/hostile_import.py

## bench-middleware: each middleware's CPU per request, the WSGI app called in-process on five route
## shapes, before and after issue #18's cheaper stack, against no middleware in the same run. 5 to 20 minutes.
bench-middleware: install-dev
	$(BIN)/python bench/middleware.py

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .hypothesis
