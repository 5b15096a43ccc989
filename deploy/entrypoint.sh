#!/bin/sh
# Container start: apply migrations (serialized by an advisory lock, so replicas may start
# together), then hand the process over to gunicorn. The pool opens in each worker, after fork.
# The access log is gunicorn's default format with the path (%(U)s) where the request line
# (%(r)s) was: query strings carry list filters (emails, phones) that erasure cannot reach.
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
    --access-logformat '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(f)s" "%(a)s"' \
    --no-control-socket \
    'app:create_app()'
