# mmm-dash: one Dash/Flask process served by gunicorn.
FROM python:3.11-slim-bookworm AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ENVIRONMENT=production \
    MODEL_DIR=/app/data/models \
    CACHE_DIR=/var/lib/mmm-dash/cache \
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

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8050/healthz || exit 1

# Migrate, build missing analysis bundles (no-op when cached), then serve.
CMD ["sh", "-c", "python -m mmm_dash init-db && python -m mmm_dash precompute && exec gunicorn app:server --bind 0.0.0.0:8050 --workers ${WEB_CONCURRENCY:-2} --threads 4 --timeout 60 --access-logfile -"]
