-- The two database roles of the project, given to the current database by a superuser:
--   psql -v owner=rivers_owner -v app=rivers_app -v db=rivers -v owner_createdb=NOCREATEDB -f db-roles.sql
-- The owner role owns the database and everything migrations create; the application's role (web, worker,
-- beat) owns nothing and may only read and write rows, so it can neither change the schema nor switch off
-- the trigger that keeps the clue history append-only. Idempotent: it also converts a database whose
-- tables the superuser running it made (an older scripts/services.sh, or docker-compose.yml's former
-- superuser). Used by scripts/services.sh (locally, once per database) and docker/db-init.sh (compose).
\set ON_ERROR_STOP on
SET client_min_messages = warning;

SELECT format('CREATE ROLE %I', :'owner') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner')
\gexec
SELECT format('CREATE ROLE %I', :'app') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app')
\gexec
ALTER ROLE :"owner" LOGIN NOSUPERUSER :owner_createdb NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER ROLE :"app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER DATABASE :"db" OWNER TO :"owner";
-- Test databases a run under the superuser left behind: the owner, which runs the tests, must drop them.
SELECT format('ALTER DATABASE %I OWNER TO %I', datname, :'owner') FROM pg_database
WHERE datname LIKE 'test\_%' AND datdba = (SELECT oid FROM pg_roles WHERE rolname = current_user)
\gexec

-- Only a superuser may create PostGIS.
CREATE EXTENSION IF NOT EXISTS postgis;

-- What the superuser made in the schema goes to the owner; PostGIS's own objects stay. A sequence goes
-- with its table (an identity sequence cannot be given away alone).
SELECT format('ALTER %s %s OWNER TO %I',
              CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                             WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
              c.oid::regclass, :'owner')
FROM pg_class c
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
  AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                  AND d.deptype IN ('e', 'a', 'i'))
\gexec
SELECT format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, :'owner')
FROM pg_proc p
WHERE p.pronamespace = 'public'::regnamespace
  AND p.proowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                  AND d.deptype = 'e')
\gexec

-- The application reads and writes rows: no TRUNCATE, REFERENCES or TRIGGER, on what exists and on what
-- the owner creates from now on.
SELECT format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %I', c.oid::regclass, :'app')
FROM pg_class c
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
  AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = :'owner')
\gexec
SELECT format('GRANT USAGE, SELECT ON SEQUENCE %s TO %I', c.oid::regclass, :'app')
FROM pg_class c
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'S'
  AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = :'owner')
\gexec
GRANT USAGE ON SCHEMA public TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO :"app";
