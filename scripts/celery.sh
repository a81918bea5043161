#!/usr/bin/env bash
# Run the Celery worker or beat of `make run` (scripts/run.sh starts both; tests/test_stack.py starts a
# worker again the same way), or say whether they answer.
# Usage: scripts/celery.sh worker|beat|ready|node|wait WORKER_PID BEAT_PID|stopped NAME PID
#   worker   exec the worker, node name from `node`, concurrency 2
#   beat     exec beat, its schedule file in $RUN_DIR
#   ready    exit 0 when that worker answers a ping and beat's heartbeat is recent, else 1 saying what not
#   node     print the worker's node name: worker-$PORT@host, one per stack on the machine
#   wait     until both answer; exit 1 with the end of their logs when either stops or they do not
#            answer within $RUN_READY_TIMEOUT_S seconds (120)
#   alive    exit 0 when PID runs (not a zombie)
#   stopped  say loudly that the Celery NAME (worker|beat) with PID has stopped, with the end of its log
# Environment: DJANGO_SETTINGS_MODULE (local by default), PORT (8000), RUN_DIR (.local); the logs are
# $RUN_DIR/celery-worker.log and $RUN_DIR/celery-beat.log.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.local}"
run_dir="${RUN_DIR:-.local}"
node="worker-${PORT:-8000}@$(uname -n)"
mkdir -p "$run_dir"

ready() { .venv/bin/python -m config.health ready --worker "$node"; }

# A process that exited but was not reaped yet (a zombie) counts as stopped.
alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^[^)]*) Z' "/proc/$1/stat" 2>/dev/null; }

stopped() {
    local name=$1 pid=$2 log="$run_dir/celery-$1.log"
    {
        echo
        echo "!!! ==> the Celery $name (pid $pid) has stopped: photos, coverage and reminders wait until it runs."
        echo "!!!     last lines of $log:"
        tail -n 30 "$log" 2>/dev/null | sed 's/^/!!!     /'
    } >&2
}

now_us() {
    local now=$EPOCHREALTIME
    echo "${now/[.,]/}"
}

wait_ready() {
    local worker_pid=$1 beat_pid=$2 timeout_s="${RUN_READY_TIMEOUT_S:-120}" answer
    # Microseconds (EPOCHREALTIME, bash 5): SECONDS counts whole seconds from a fraction into one, and
    # gave up to a second early.
    local deadline=$(( $(now_us) + timeout_s * 1000000 ))
    until answer=$(ready 2>&1); do
        alive "$worker_pid" || { stopped worker "$worker_pid"; echo "==> not serving: the Celery worker did not start" >&2; return 1; }
        alive "$beat_pid" || { stopped beat "$beat_pid"; echo "==> not serving: Celery beat did not start" >&2; return 1; }
        if [ "$(now_us)" -ge "$deadline" ]; then
            echo "==> not serving: not answering within ${timeout_s} s: ${answer##*$'\n'}" >&2
            tail -n 20 "$run_dir/celery-worker.log" "$run_dir/celery-beat.log" >&2 || true
            return 1
        fi
        sleep 1
    done
}

case "${1:-}" in
    worker) exec .venv/bin/celery -A config worker --loglevel=INFO --concurrency=2 --hostname "$node" ;;
    beat) exec .venv/bin/celery -A config beat --loglevel=INFO --schedule "$run_dir/celerybeat-schedule" ;;
    ready) ready ;;
    node) echo "$node" ;;
    wait) wait_ready "$2" "$3" ;;
    stopped) stopped "$2" "$3" ;;
    alive) alive "$2" ;;
    *)
        echo "usage: $0 worker|beat|ready|node|wait WORKER_PID BEAT_PID|stopped NAME PID|alive PID" >&2
        exit 2
        ;;
esac
