"""The database is configured for this workload: no JIT compiling of the API's short statements (issue 10).

PostgreSQL's JIT compiled each visibility query of the figures API (1.5 s of compiling for 17 ms of running):
it is off on the application's connections, whatever cluster DATABASE_URL names, and on the clusters the
project starts itself (scripts/services.sh, docker-compose.yml's db).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from django.db import connection

REPO = Path(__file__).resolve().parents[1]


def test_the_applications_connections_do_not_jit_compile(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT setting, source FROM pg_settings WHERE name = 'jit'")
        # 'client': asked for by the connection itself, so it holds on a server whose default is on.
        assert cursor.fetchone() == ("off", "client")


def test_options_given_in_the_database_url_are_kept():
    script = (
        "import json, django\n"
        "from django.conf import settings\n"
        "django.setup()\n"
        "print(json.dumps(settings.DATABASES['default']['OPTIONS']))\n"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": "postgis://app@db/rivers?options=-c%20lock_timeout%3D5s&sslmode=prefer",
        "DATABASE_OWNER_URL": "",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    options = json.loads(result.stdout.strip().splitlines()[-1])
    assert options["sslmode"] == "prefer"
    assert options["options"] == "-c lock_timeout=5s -c jit=off"


def test_the_local_cluster_starts_without_jit():
    script = (REPO / "scripts" / "services.sh").read_text()
    start = re.search(r'pg_ctl" -D "\$pg_data" -l .*?-o "([^"]*)"', script, re.S)
    assert start is not None
    assert "-c jit=off" in start.group(1)


def test_the_compose_database_starts_without_jit():
    compose = (REPO / "docker-compose.yml").read_text()
    db = compose.split("\n  db:\n", 1)[1].split("\n  redis:\n", 1)[0]
    assert 'command: ["postgres", "-c", "jit=off"]' in db


def test_only_web_processes_open_their_connections_under_the_statement_timeout_and_serial():
    # gunicorn and runserver load config.wsgi; Celery workers and management commands only set Django up.
    script = (
        "import sys, django\n"
        "from django.conf import settings\n"
        "if sys.argv[1] == 'web':\n"
        "    import config.wsgi\n"
        "else:\n"
        "    django.setup()\n"
        "from django.db import connections\n"
        "print(connections['default'].settings_dict['OPTIONS'].get('options', ''))\n"
    )
    env = {"DJANGO_SETTINGS_MODULE": "config.settings.test", "DB_STATEMENT_TIMEOUT_MS": "1234", "PATH": "/usr/bin:/bin"}
    found = {}
    for kind in ("web", "worker"):
        result = subprocess.run(
            [sys.executable, "-c", script, kind], cwd=REPO, env=env, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        found[kind] = result.stdout.strip().splitlines()[-1]
    assert "-c statement_timeout=1234" in found["web"] and "-c jit=off" in found["web"]
    assert "-c max_parallel_workers_per_gather=0" in found["web"]
    assert "statement_timeout" not in found["worker"] and "max_parallel" not in found["worker"]
