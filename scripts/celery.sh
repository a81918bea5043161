#!/usr/bin/env bash
# Run the Celery worker or beat of `make run` (scripts/run.sh starts both; tests/test_stack.py starts a
# worker again the same way), or say whether they answer.
# Usage: scripts/celery.sh worker|beat|ready|node
#   worker  exec the worker, node name from `node`, concurrency 2
#   beat    exec beat, its schedule file in $RUN_DIR
#   ready   exit 0 when that worker answers a ping and beat's heartbeat is recent, else 1 saying what not
#   node    print the worker's node name: worker-$PORT@host, one per stack on the machine
# Environment: DJANGO_SETTINGS_MODULE (local by default), PORT (8000), RUN_DIR (.local).
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.local}"
run_dir="${RUN_DIR:-.local}"
node="worker-${PORT:-8000}@$(uname -n)"
mkdir -p "$run_dir"

case "${1:-}" in
    worker) exec .venv/bin/celery -A config worker --loglevel=INFO --concurrency=2 --hostname "$node" ;;
    beat) exec .venv/bin/celery -A config beat --loglevel=INFO --schedule "$run_dir/celerybeat-schedule" ;;
    ready) exec .venv/bin/python -m config.health ready --worker "$node" ;;
    node) echo "$node" ;;
    *)
        echo "usage: $0 worker|beat|ready|node" >&2
        exit 2
        ;;
esac
