#!/usr/bin/env bash
# Start or stop the project-local PostgreSQL+PostGIS cluster and Redis (socket-only, never a TCP port),
# and write their URLs to .local/env, which the settings read.
# Usage: scripts/services.sh start|stop|status|state-dir|owner-url|roles DB
# With DATABASE_URL (and REDIS_URL) set, the matching local server is neither started nor stopped.
#
# Two database roles, so that the application cannot change the schema nor switch off the trigger that keeps
# the clue history append-only: rivers_owner owns the database and everything migrations create (migrate and
# the test database run as it: DATABASE_OWNER_URL); rivers_app, which the site, worker and beat use
# (DATABASE_URL), owns nothing and may only read and write rows. The superuser postgres only sets them up.
set -euo pipefail
cd "$(dirname "$0")/.."
root_dir=$(pwd)
mkdir -p .local

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
me=$(id -un)

# The cluster lives under .local/ when the postgres user can reach it, else under /tmp (a root
# checkout in /root is mode 700). Socket paths must stay short (unix sockets allow ~107 bytes).
state_dir="$root_dir/.local"
runas=()
if [ "$(id -u)" -eq 0 ]; then
    runas=(runuser -u postgres --)
    if ! runuser -u postgres -- test -x "$state_dir" 2>/dev/null || [ "${#state_dir}" -gt 80 ]; then
        state_dir="/tmp/rivers-$(printf '%s' "$root_dir" | sha256sum | cut -c1-12)"
    fi
elif [ "${#state_dir}" -gt 80 ]; then
    state_dir="/tmp/rivers-$(printf '%s' "$root_dir" | sha256sum | cut -c1-12)-$me"
fi
pg_data="$state_dir/pg/data"
pg_run="$state_dir/pg/run"
redis_dir="$state_dir/redis"
db_name=rivers
owner_role=rivers_owner
app_role=rivers_app

pg_owner() { if [ "$(id -u)" -eq 0 ]; then echo postgres; else echo "$me"; fi; }

clear_stale_pidfile() {
    # A crashed postmaster may leave its pid behind as a zombie (PID 1 here does not reap), which
    # would make the next start refuse to run.
    local pidfile="$pg_data/postmaster.pid" pid
    [ -f "$pidfile" ] || return 0
    pid=$(head -n 1 "$pidfile")
    if ! kill -0 "$pid" 2>/dev/null || grep -q '^[^)]*) Z' "/proc/$pid/stat" 2>/dev/null; then
        rm -f "$pidfile"
    fi
}

pg_start() {
    mkdir -p "$state_dir/pg"
    [ "$(id -u)" -eq 0 ] && chown "$(pg_owner)" "$state_dir" "$state_dir/pg"
    if [ ! -f "$pg_data/PG_VERSION" ]; then
        echo "==> creating the PostgreSQL cluster in $pg_data"
        ${runas[@]+"${runas[@]}"} "$pg_bin/initdb" -D "$pg_data" -U postgres --auth=trust \
            --encoding=UTF8 --locale=C.UTF-8 >"$state_dir/pg/initdb.log"
    fi
    ${runas[@]+"${runas[@]}"} mkdir -p "$pg_run"
    clear_stale_pidfile
    if ! ${runas[@]+"${runas[@]}"} "$pg_bin/pg_ctl" -D "$pg_data" status >/dev/null 2>&1; then
        echo "==> starting PostgreSQL (socket in $pg_run)"
        # jit=off: this workload's statements are short and JIT compiling cost them seconds (issue 10);
        # the application's connections also ask for it (config/settings/base.py), whatever the server says.
        ${runas[@]+"${runas[@]}"} "$pg_bin/pg_ctl" -D "$pg_data" -l "$state_dir/pg/server.log" -w \
            -o "-c listen_addresses='' -c unix_socket_directories='$pg_run' -c fsync=off -c full_page_writes=off -c jit=off" \
            start >/dev/null
    fi
    if ! "$pg_bin/psql" -h "$pg_run" -U postgres -Atqc "select 1 from pg_database where datname='$db_name'" postgres | grep -q 1; then
        "$pg_bin/createdb" -h "$pg_run" -U postgres "$db_name"
    fi
    pg_roles "$db_name"
}

# Give database $1 the two roles (docker/db-roles.sql, which docker-compose.yml's db uses too); idempotent,
# it also converts a database an older services.sh made (owned by postgres, tables migrated by postgres).
# template1 as well: the test databases are copies of it, so they get PostGIS (only a superuser may create
# it) and the default privileges. The owner has CREATEDB so that `make test` can create its database.
pg_roles() {
    local database
    for database in template1 "$1"; do
        "$pg_bin/psql" -h "$pg_run" -U postgres -d "$database" -X -q -v ON_ERROR_STOP=1 \
            -v owner="$owner_role" -v app="$app_role" -v db="$1" -v owner_createdb=CREATEDB \
            -f "$root_dir/docker/db-roles.sql" >/dev/null
    done
}

pg_stop() {
    [ -f "$pg_data/PG_VERSION" ] || return 0
    clear_stale_pidfile
    ${runas[@]+"${runas[@]}"} "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null 2>&1 || true
}

# Redis keeps an append-only file (fsync every second): queued tasks survive a restart of Redis
# (the worker's sweep at start catches what a killed worker held).
redis_start() {
    mkdir -p "$redis_dir"
    if ! redis-cli -s "$redis_dir/redis.sock" ping >/dev/null 2>&1; then
        echo "==> starting Redis (socket $redis_dir/redis.sock)"
        redis-server --port 0 --unixsocket "$redis_dir/redis.sock" --unixsocketperm 700 \
            --daemonize yes --pidfile "$redis_dir/redis.pid" --dir "$redis_dir" \
            --logfile "$redis_dir/redis.log" --save "" --appendonly yes --appendfsync everysec
        for _ in $(seq 50); do redis-cli -s "$redis_dir/redis.sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
    elif [ "$(redis-cli -s "$redis_dir/redis.sock" config get appendonly | tail -n 1)" != yes ]; then
        # A server started by an older checkout of this script: turn the append-only file on.
        redis-cli -s "$redis_dir/redis.sock" config set appendonly yes >/dev/null
    fi
}

redis_stop() {
    redis-cli -s "$redis_dir/redis.sock" shutdown >/dev/null 2>&1 || true
}

write_env() {
    {
        echo "# Written by scripts/services.sh: the project-local servers. Delete to forget them."
        if [ -z "${DATABASE_URL:-}" ]; then
            echo "DATABASE_URL=postgis://$app_role@/$db_name?host=$pg_run"
            echo "DATABASE_OWNER_URL=postgis://$owner_role@/$db_name?host=$pg_run"
        fi
        [ -n "${REDIS_URL:-}" ] || echo "REDIS_URL=unix://$redis_dir/redis.sock?db=0"
    } >.local/env
}

case "${1:-}" in
    start)
        [ -n "${DATABASE_URL:-}" ] || pg_start
        [ -n "${REDIS_URL:-}" ] || redis_start
        write_env
        ;;
    stop)
        [ -n "${DATABASE_URL:-}" ] || pg_stop
        [ -n "${REDIS_URL:-}" ] || redis_stop
        ;;
    status)
        ${runas[@]+"${runas[@]}"} "$pg_bin/pg_ctl" -D "$pg_data" status || true
        redis-cli -s "$redis_dir/redis.sock" ping || true
        ;;
    state-dir)
        echo "$state_dir"
        ;;
    owner-url)
        # The URL migrations run with: the owner role's, else (an existing server) DATABASE_URL's.
        if [ -n "${DATABASE_OWNER_URL:-}" ]; then
            echo "$DATABASE_OWNER_URL"
        elif [ -n "${DATABASE_URL:-}" ]; then
            echo "$DATABASE_URL"
        else
            sed -n 's/^DATABASE_OWNER_URL=//p' .local/env
        fi
        ;;
    roles)
        # Give another database of the running local cluster the same two roles (start does it for rivers).
        pg_roles "${2:?usage: $0 roles DATABASE}"
        ;;
    *)
        echo "usage: $0 start|stop|status|state-dir|owner-url|roles DB" >&2
        exit 2
        ;;
esac
