#!/bin/sh
# Container start: check the settings, apply migrations (serialized by an advisory lock, so
# replicas may start together), then hand the process over to gunicorn, configured by
# gunicorn.conf.py beside this script (workers, threads, timeouts, access log without query
# strings; the pool opens in each worker, after fork). `make serve` (app/serve.py) runs the
# same steps outside a container.
set -eu
if [ -z "${DATABASE_URL:-}" ]; then
    echo "DATABASE_URL is not set: point it at the PostgreSQL server this service should use." >&2
    exit 64
fi
conf="$(dirname "$0")/gunicorn.conf.py"
# One line naming a malformed variable, before gunicorn (which fails on a malformed
# WEB_CONCURRENCY with a traceback) and before the database is touched.
python "$conf"
flask --app app db upgrade
exec gunicorn -c "$conf" 'app:create_app()'
