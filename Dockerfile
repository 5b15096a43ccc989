# Production image: slim Python, non-root, gunicorn on $PORT, migrations applied at start.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8000

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home app

WORKDIR /srv

# Dependencies first, in their own layer: rebuilt only when pyproject.toml changes.
COPY pyproject.toml README.md ./
RUN mkdir app && touch app/__init__.py \
    && pip install . \
    && pip uninstall --yes contact-ingest \
    && rm -rf app

COPY app ./app
# /srv mirrors the checkout: the entrypoint finds gunicorn.conf.py beside it, `python -m
# app.serve` finds it in deploy/ beside app/.
COPY deploy/entrypoint.sh deploy/gunicorn.conf.py ./deploy/
RUN pip install --no-deps .

USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]
ENTRYPOINT ["/srv/deploy/entrypoint.sh"]
