#!/bin/sh
# Container start: apply migrations (serialized by an advisory lock, so replicas may start
# together), then hand the process over to gunicorn. The pool opens in each worker, after fork.
set -eu
if [ -z "${DATABASE_URL:-}" ]; then
    echo "DATABASE_URL is not set: point it at the PostgreSQL server this service should use." >&2
    exit 64
fi
flask --app app db upgrade
exec gunicorn \
    --bind "0.0.0.0:${PORT:-8000}" \
    --workers "${WEB_CONCURRENCY:-2}" \
    --threads "${GUNICORN_THREADS:-4}" \
    --access-logfile - \
    --no-control-socket \
    'app:create_app()'
