# Snail Trail image: a builder stage with compilers, a slim runtime as a non-root user.
# Production settings; configure with the environment (see README, "Configuration" and "Production").
# One image for every process: docker-compose.yml runs it as web (gunicorn), worker, beat and migrate.

FROM python:3.11-slim-bookworm AS builder
RUN apt-get update \
    && apt-get install --yes --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt /tmp/requirements.txt
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --upgrade pip==26.3 \
    && /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt

FROM python:3.11-slim-bookworm AS runtime
# SNAILTRAIL_VAR_DIR: per-container scratch (gunicorn's Prometheus files); MLSERVICE_CACHE_DIR: the
# downloaded model artifacts. Both belong to the app's user, the cache with the 0700 mlservice
# demands; docker-compose.yml mounts a tmpfs and a named volume there (an empty named volume takes
# the owner and mode of the directory it is mounted on).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    SNAILTRAIL_VAR_DIR=/var/lib/snailtrail \
    MLSERVICE_CACHE_DIR=/var/cache/snailtrail/models
RUN groupadd --system --gid 10001 snail \
    && useradd --system --uid 10001 --gid snail --create-home --home-dir /home/snail snail \
    && install --directory --owner=snail --group=snail --mode=0700 /var/lib/snailtrail /var/cache/snailtrail/models
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
COPY --chown=snail:snail . .
# Static files are collected at build time; the build-only key never reaches a running container.
RUN DJANGO_SECRET_KEY=collectstatic-only DJANGO_ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput
# Our modules compiled to bytecode once, here: with PYTHONDONTWRITEBYTECODE every process would
# otherwise compile them from source each time it starts, about 0.3 s of CPU for every command,
# worker and recycled gunicorn worker (docs/benchmarks.md, "Startup"). The venv's are compiled by pip.
RUN python -m compileall -q config core tracker ops mlservice notify audit manage.py
USER snail
EXPOSE 8000
CMD ["gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi:application"]
