#!/usr/bin/env bash
# make bench: a database of its own (rivers_bench in the local cluster, the same two roles as make run's),
# migrated and filled with seeded municipal-scale data by its owner, then every hot path measured as the
# application's role. Prints a table and writes benchmarks/results/latest.json.
# Scale: BENCH_DISTRICTS, BENCH_REACHES, BENCH_CLUES, BENCH_TRACKS, BENCH_TRACK_POINTS=0|1; BENCH_REPS,
# BENCH_PATH_BUDGET_S; BENCH_KEEP=1 measures the data already there (no new database).
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE=config.settings.local DEBUG=false
# Throttles stay on (their cost is measured) but at a rate that 30 quick requests in a row cannot trip.
export API_THROTTLE_USER=${API_THROTTLE_USER:-1000000/s}
db=${BENCH_DATABASE:-rivers_bench}
python=.venv/bin/python
[ -x .venv-test/bin/python ] && python=.venv-test/bin/python

scripts/services.sh start
run_dir=$(sed -n 's/^DATABASE_URL=.*host=//p' .local/env)
app_url=$(sed -n 's/^DATABASE_URL=//p' .local/env | sed "s#@/rivers?#@/$db?#")
owner_url=$(sed -n 's/^DATABASE_OWNER_URL=//p' .local/env | sed "s#@/rivers?#@/$db?#")
if [ -z "$run_dir" ] || [ -z "$owner_url" ]; then
    echo "make bench needs the project-local cluster (DATABASE_URL pointing elsewhere is not supported)" >&2
    exit 2
fi
export BENCH_LOADAVG_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "==> load average before: $BENCH_LOADAVG_BEFORE ($(nproc) cores)"
if [ "${BENCH_KEEP:-0}" != 1 ]; then
    psql -h "$run_dir" -U postgres -d postgres -qX -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
    scripts/services.sh roles "$db"
    DATABASE_URL=$owner_url $python manage.py migrate --noinput -v 0
    began=$(date +%s)
    DATABASE_URL=$owner_url $python -m benchmarks generate ${BENCH_QUICK:+--quick}
    export BENCH_GENERATE_SECONDS=$(( $(date +%s) - began ))
fi
export BENCH_OWNER_DSN="host=$run_dir dbname=$db user=rivers_owner"
DATABASE_URL=$app_url $python -m benchmarks measure ${BENCH_QUICK:+--quick} "$@"
