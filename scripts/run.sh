#!/usr/bin/env bash
# Start the local servers, migrate, load the demo, then serve the site with a Celery worker and beat.
# Ctrl-C stops all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE=config.settings.local
py=.venv/bin/python
host="${HOST:-127.0.0.1}"
port="${PORT:-8000}"

scripts/services.sh start
DATABASE_URL=$(scripts/services.sh owner-url) $py manage.py migrate --noinput -v 0  # as the owner role
$py manage.py load_demo

pids=()
stop_all() {
    trap - INT TERM EXIT
    echo
    echo "==> stopping"
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    scripts/services.sh stop
}
trap stop_all INT TERM EXIT

.venv/bin/celery -A config worker --loglevel=INFO --concurrency=2 >.local/celery-worker.log 2>&1 &
pids+=($!)
.venv/bin/celery -A config beat --loglevel=INFO --schedule .local/celerybeat-schedule >.local/celery-beat.log 2>&1 &
pids+=($!)
echo "==> Celery worker and beat started (logs in .local/celery-*.log)"
echo "==> serving http://$host:$port/  (admin: /admin/, API: /api/v1/, docs: /api/v1/docs/) — Ctrl-C stops everything"
.venv/bin/gunicorn config.wsgi --config docker/gunicorn.conf.py --bind "$host:$port" --reload &
pids+=($!)
wait "${pids[-1]}"
