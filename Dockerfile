# Production image, in two stages: wheels are built in the first, the slim runtime installs
# only those wheels (no compilers, no build tools, no source tree), runs as a non-root user,
# applies migrations at start and serves with gunicorn (deploy/gunicorn.conf.py).
# tests/integration/test_container_start.py runs these same steps without a container engine.
# The base is pinned to one Python release; pin it by digest too where you can pull it
# (python:3.11.7-slim-bookworm@sha256:…), and rebuild on its security updates.

FROM python:3.11.7-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
# The app's wheel and a wheel of every dependency (prebuilt wheels where PyPI has them).
RUN pip wheel --wheel-dir /wheels .

FROM python:3.11.7-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8000
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home app
# Only the wheels of the first stage, offline: what was tested is what runs.
COPY --from=build /wheels /wheels
RUN pip install --no-index /wheels/*.whl && rm -rf /wheels
WORKDIR /srv
# The entrypoint finds gunicorn.conf.py beside it; the app is imported from site-packages.
COPY deploy/entrypoint.sh deploy/gunicorn.conf.py ./deploy/
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]
ENTRYPOINT ["/srv/deploy/entrypoint.sh"]
