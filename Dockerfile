# mmm-dash: one image for every role. The default command serves the web (gunicorn) and nothing else;
# the same image also runs the one-shot migration and the build workers (see compose.yaml):
#   python -m mmm_dash init-db        migrate (once per deployment, before web and workers start)
#   python -m mmm_dash worker         a Celery worker that builds bundles (distributed mode)
# On one machine without compose: run init-db once (with the same volumes and settings), then the
# default command; its in-server builder analyses models as pages ask for them.
FROM python:3.11-slim-bookworm AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ENVIRONMENT=production \
    MODEL_DIR=/app/data/models \
    CACHE_DIR=/var/lib/mmm-dash/cache \
    WEB_CONCURRENCY=2 \
    TF_CPP_MIN_LOG_LEVEL=2

RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system app && useradd --system --gid app --home-dir /app --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies first, so code changes do not reinstall TensorFlow.
COPY pyproject.toml README.md ./
RUN mkdir mmm_dash && touch mmm_dash/__init__.py \
    && pip install . \
    && pip uninstall -y mmm-dash

# The package carries its pages, assets, templates and migrations as package data.
COPY app.py ./
COPY mmm_dash ./mmm_dash
COPY data/models ./data/models
RUN pip install --no-deps . \
    && rm -rf mmm_dash build \
    && mkdir -p /var/lib/mmm-dash/cache \
    && chown -R app:app /var/lib/mmm-dash

USER app
EXPOSE 8050

# The web's check. Workers run no web server: compose.yaml gives them `celery inspect ping` instead
# (with plain `docker run`, pass --health-cmd the same way).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8050/healthz || exit 1

# Serve only: migrations belong to one init step (several replicas migrating at once would race), and
# bundles are built by the builder or the workers, not before the server answers. gunicorn reads its
# worker count from WEB_CONCURRENCY.
CMD ["gunicorn", "app:server", "--bind", "0.0.0.0:8050", "--threads", "4", "--timeout", "60", "--access-logfile", "-"]
