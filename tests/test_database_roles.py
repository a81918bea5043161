"""The application's database role owns nothing and cannot rewrite the clue history (issue 7).

Checked on the local cluster as `make run` sets it up (scripts/services.sh, docker/db-roles.sql). The tests
themselves run as the owner role (config/settings/test.py), which made and migrated the test database as
it migrates `make run`'s; the application's role, DATABASE_URL's, is then tried on that database.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import environ
import psycopg2
import pytest
from django.conf import settings
from django.db import connection
from psycopg2 import errors, sql

REPO = Path(__file__).resolve().parents[1]
LOCAL_ENV = REPO / ".local" / "env"
ROW_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
SCHEMA_PRIVILEGES = ("TRUNCATE", "REFERENCES", "TRIGGER")


def connect_params(url: str, dbname: str | None = None, user: str | None = None) -> dict:
    """Return psycopg2.connect() arguments for a DATABASE_URL, optionally another database or role."""
    config = environ.Env.db_url_config(url)
    options = config.get("OPTIONS") or {}
    params = {
        "dbname": dbname or config["NAME"],
        "user": user or config["USER"],
        "host": config["HOST"] or options.get("host") or None,
        "port": config["PORT"] or None,
    }
    if config["PASSWORD"] and not user:
        params["password"] = config["PASSWORD"]
    return {key: value for key, value in params.items() if value is not None}


def app_url() -> str:
    """Return the URL the application connects with (`make run`, the worker, beat)."""
    return os.environ["DATABASE_URL"]


def app_database_url(dbname: str) -> str:
    """Return the application role's URL for another database of the same server (the test database)."""
    config = environ.Env.db_url_config(app_url())
    options = dict(config.get("OPTIONS") or {})
    auth = config["USER"] + (f":{config['PASSWORD']}" if config["PASSWORD"] else "")
    host = config["HOST"] or ""
    port = f":{config['PORT']}" if config["PORT"] else ""
    query = "&".join(f"{key}={value}" for key, value in options.items())
    return f"postgis://{auth}@{host}{port}/{dbname}" + (f"?{query}" if query else "")


@pytest.fixture
def as_app(db):
    """A connection to the test database as the application's role; what it does is rolled back."""
    # A statement that waited on a lock instead of failing on a privilege must not hang the run.
    conn = psycopg2.connect(
        **connect_params(app_url(), dbname=connection.settings_dict["NAME"]), options="-c lock_timeout=5s"
    )
    yield conn
    conn.rollback()
    conn.close()


def test_the_application_role_is_neither_superuser_nor_the_owner(as_app):
    with as_app.cursor() as cursor:
        cursor.execute(
            "SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls "
            "FROM pg_roles WHERE rolname = current_user"
        )
        name, *powers = cursor.fetchone()
    assert powers == [False] * 5, f"{name} has superuser, createdb, createrole, replication or bypassrls"
    assert name != settings.DATABASES["default"]["USER"], "the application connects as the schema's owner"


def test_the_application_role_owns_nothing(as_app):
    with as_app.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
        )
        assert cursor.fetchall() == []
        cursor.execute(
            "SELECT proname FROM pg_proc WHERE proowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
        )
        assert cursor.fetchall() == []
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE nspowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
        )
        assert cursor.fetchall() == []
        cursor.execute(
            "SELECT datname FROM pg_database WHERE datdba = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
        )
        assert cursor.fetchall() == []
    # `make run`'s own database too, whatever has been migrated into it.
    with psycopg2.connect(**connect_params(app_url())) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
        )
        assert cursor.fetchone() == (0,)
        cursor.execute("SELECT datdba::regrole::text FROM pg_database WHERE datname = current_database()")
        (owner,) = cursor.fetchone()
    assert owner == settings.DATABASES["default"]["USER"]
    conn.close()


def test_the_application_role_may_read_and_write_rows_of_every_table_and_nothing_more(as_app):
    with as_app.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' "
            "AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = 'postgres')"
        )
        tables = [name for (name,) in cursor.fetchall()]
        assert "clues_clueevent" in tables and "django_migrations" in tables
        for table in tables:
            for privilege in (*ROW_PRIVILEGES, *SCHEMA_PRIVILEGES):
                cursor.execute("SELECT has_table_privilege(current_user, %s, %s)", [f"public.{table}", privilege])
                (has,) = cursor.fetchone()
                assert has is (privilege in ROW_PRIVILEGES), f"{privilege} on {table}: {has}"
        cursor.execute("SELECT has_schema_privilege(current_user, 'public', 'CREATE')")
        assert cursor.fetchone() == (False,)


@pytest.mark.parametrize(
    "statement",
    [
        "TRUNCATE clues_clueevent",
        "TRUNCATE clues_clue CASCADE",
        "ALTER TABLE clues_clueevent DISABLE TRIGGER clues_clueevent_append_only",
        "ALTER TABLE clues_clueevent DISABLE TRIGGER ALL",
        "DROP TRIGGER clues_clueevent_append_only ON clues_clueevent",
        "CREATE OR REPLACE FUNCTION clues_clueevent_append_only() RETURNS trigger AS $$ BEGIN RETURN NEW; END $$ "
        "LANGUAGE plpgsql",
        "ALTER TABLE clues_clueevent ADD COLUMN rewritten boolean",
        "DROP TABLE clues_clueevent",
        "SET session_replication_role = replica",
        "CREATE TABLE public.shadow (id int)",
    ],
)
def test_the_application_role_cannot_get_around_the_append_only_history(as_app, statement):
    # In a transaction rolled back afterwards: were the role allowed, the next tests would not suffer.
    with as_app.cursor() as cursor, pytest.raises(errors.InsufficientPrivilege):
        cursor.execute(statement)


def local_cluster() -> dict:
    """Return connection arguments for the local cluster's superuser; skip when it is not in use."""
    text = LOCAL_ENV.read_text() if LOCAL_ENV.exists() else ""
    urls = dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    if "DATABASE_URL" not in urls:
        pytest.skip("DATABASE_URL names an existing server: scripts/services.sh manages no local cluster")
    return connect_params(urls["DATABASE_URL"], dbname="postgres", user="postgres")


def test_services_sh_converts_a_database_the_superuser_made(db):
    """A checkout whose cluster an older services.sh made: database and tables owned by postgres."""
    superuser = local_cluster()
    name = f"test_roles_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(**superuser)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        with psycopg2.connect(**{**superuser, "dbname": name}) as old, old.cursor() as cursor:
            cursor.execute(
                "CREATE TABLE history (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, note text);"
                "CREATE TABLE counter (id serial PRIMARY KEY);"
                "CREATE VIEW recent AS SELECT * FROM history;"
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no'; END $$;"
            )
        old.close()
        for _ in range(2):  # idempotent
            result = subprocess.run(
                [str(REPO / "scripts" / "services.sh"), "roles", name], capture_output=True, text=True, timeout=120
            )
            assert result.returncode == 0, result.stdout + result.stderr

        owner = settings.DATABASES["default"]["USER"]
        app = environ.Env.db_url_config(app_url())["USER"]
        with psycopg2.connect(**{**superuser, "dbname": name}) as conn, conn.cursor() as cursor:
            cursor.execute("SELECT datdba::regrole::text FROM pg_database WHERE datname = current_database()")
            assert cursor.fetchone() == (owner,)
            cursor.execute(
                "SELECT relname, relowner::regrole::text FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                "AND relname IN ('history', 'history_id_seq', 'counter', 'counter_id_seq', 'recent') ORDER BY 1"
            )
            assert cursor.fetchall() == [
                ("counter", owner), ("counter_id_seq", owner), ("history", owner), ("history_id_seq", owner),
                ("recent", owner),
            ]  # fmt: skip
            cursor.execute("SELECT proowner::regrole::text FROM pg_proc WHERE proname = 'refuse'")
            assert cursor.fetchone() == (owner,)
            cursor.execute(
                "SELECT has_table_privilege(%s, 'history', 'INSERT'), has_table_privilege(%s, 'history', 'TRUNCATE')",
                [app, app],
            )
            assert cursor.fetchone() == (True, False)
        conn.close()
        # What the owner creates from now on (the next migration) is granted to the application too.
        with psycopg2.connect(**{**superuser, "dbname": name, "user": owner}) as conn, conn.cursor() as cursor:
            cursor.execute("CREATE TABLE later (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY)")
        conn.close()
        with psycopg2.connect(**{**superuser, "dbname": name, "user": app}) as conn, conn.cursor() as cursor:
            cursor.execute("INSERT INTO later DEFAULT VALUES; INSERT INTO history (note) VALUES ('ok')")
            with pytest.raises(errors.InsufficientPrivilege):
                cursor.execute("TRUNCATE later")
        conn.close()
    finally:
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()
