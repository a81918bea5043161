#!/bin/sh
# The db service's first start (mounted into /docker-entrypoint-initdb.d, after the image's PostGIS set-up):
# the owner role that migrations run as, and the application's role that web, worker and beat use
# (docker/db-roles.sql). Idempotent; for a volume created before these roles, run it by hand once:
#   docker compose exec db sh /docker-entrypoint-initdb.d/20-rivers-roles.sh
set -eu
psql -X -q -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v owner=rivers_owner -v app=rivers_app -v db="$POSTGRES_DB" -v owner_createdb=NOCREATEDB \
    -v owner_password="${DB_OWNER_PASSWORD:?}" -v app_password="${DB_APP_PASSWORD:?}" <<'SQL'
\i /rivers/db-roles.sql
ALTER ROLE rivers_owner PASSWORD :'owner_password';
ALTER ROLE rivers_app PASSWORD :'app_password';
SQL
