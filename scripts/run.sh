#!/usr/bin/env bash
# Start the local servers, migrate, load the demo, then serve the site with a Celery worker and beat.
# It says they started only once both answer (a ping, beat's heartbeat), stops with their log if
# they do not, and says so loudly if either stops later (/healthz then answers 503 naming it).
# Ctrl-C stops all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE=config.settings.local
# Served as it will be in production: no debug pages (they show settings and code), no query log in
# memory; `DEBUG=true make run` gives them back while developing.
export DEBUG="${DEBUG:-false}"
py=.venv/bin/python
host="${HOST:-127.0.0.1}"
port="${PORT:-8000}"
# Logs and beat's schedule; a second stack on the machine (tests/test_stack.py) gives its own.
export PORT="$port" RUN_DIR="${RUN_DIR:-.local}"
worker_log="$RUN_DIR/celery-worker.log"
beat_log="$RUN_DIR/celery-beat.log"
mkdir -p "$RUN_DIR"

scripts/services.sh start
DATABASE_URL=$(scripts/services.sh owner-url) $py manage.py migrate --noinput -v 0  # as the owner role
$py manage.py load_demo

pids=()
stop_all() {
    local rc=$?
    trap - INT TERM EXIT
    echo
    echo "==> stopping"
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    scripts/services.sh stop
    exit "$rc"
}
trap stop_all INT TERM EXIT

scripts/celery.sh worker >"$worker_log" 2>&1 &
worker_pid=$!
pids+=($!)
scripts/celery.sh beat >"$beat_log" 2>&1 &
beat_pid=$!
pids+=($!)
echo "==> waiting for the Celery worker $(scripts/celery.sh node) and beat to answer (logs in $RUN_DIR/celery-*.log)"
scripts/celery.sh wait "$worker_pid" "$beat_pid"
echo "==> Celery worker and beat started and answering"
echo "==> serving http://$host:$port/  (admin: /admin/, API: /api/v1/, docs: /api/v1/docs/) — Ctrl-C stops everything"
.venv/bin/gunicorn config.wsgi --config docker/gunicorn.conf.py --bind "$host:$port" --reload &
pids+=($!)
server_pid="${pids[-1]}"
# While serving, watch the worker and beat: a stop is reported once, loudly; the site keeps serving.
while kill -0 "$server_pid" 2>/dev/null; do
    for name in worker beat; do
        pid_var="${name}_pid"
        if [ -n "${!pid_var}" ] && ! scripts/celery.sh alive "${!pid_var}"; then
            scripts/celery.sh stopped "$name" "${!pid_var}"
            printf -v "$pid_var" ''
        fi
    done
    sleep 2 &
    wait $! || true
done
wait "$server_pid"
