"""A bounded soak (issue 7 §8): registrations in a burst and at a steady rate, served as `make run` serves them.

gunicorn with docker/gunicorn.conf.py (the workers, threads and connection reuse of `make run` and
docker-compose.yml) on a spare loopback port, connected as the application's role to this test's database,
driven by scripts/soak.py, the script `make soak` runs. Rows must be committed for the server to see them,
hence a transactional test.
"""

from __future__ import annotations

import json
import os
import runpy
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from clues.models import Clue
from rivers.members import member_add
from rivers.models import Agency
from tests import factories
from tests.test_database_roles import app_database_url

REPO = Path(__file__).resolve().parents[1]
# Issue 7 §8's target, 50/s for 30 s with p95 under a second, is a figure of the machine: `make soak`
# measures it against `make run`'s server (the closing note gives it). What this test holds on any
# machine is what does not depend on its speed: a burst of registrations all succeed (no connection per
# thread, no 'too many clients'), and an open-loop load at a fixed fraction of the capacity measured in
# the same run (LOAD_FRACTION of the single-request rate, with two workers of four threads) keeps p95
# under a second. SOAK_TEST_RATE=50 runs the target instead.
TARGET_RATE = os.environ.get("SOAK_TEST_RATE")
LOAD_FRACTION = 0.6
SECONDS = 8
BURST = 64
PASSWORD = "soak-test-2026"


def soak_run(server: str, user, *args: str) -> dict:
    """Run scripts/soak.py (what `make soak` runs) against `server` and return its figures."""
    command = [
        sys.executable, "scripts/soak.py", "--url", server, "--username", user.username, "--password", PASSWORD,
        "--json", *args,
    ]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.stdout, result.stderr
    return json.loads(result.stdout)


def spare_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(url: str, server: subprocess.Popen, log: Path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert server.poll() is None, f"gunicorn stopped:\n{log.read_text(errors='replace')[-3000:]}"
        try:
            with urllib.request.urlopen(f"{url}/healthz?service=database&service=redis", timeout=5):
                return
        except urllib.error.HTTPError:
            # It answers: 503 only says no Celery worker or beat runs beside this test's server.
            return
        except OSError:
            time.sleep(0.25)
    pytest.fail(f"gunicorn did not answer in {timeout_s} s:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture
def server(transactional_db, tmp_path):
    """gunicorn as `make run` starts it, on this test's database as the application's role."""
    port = spare_port()
    log = tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": app_database_url(connection.settings_dict["NAME"]),
        "DATABASE_OWNER_URL": "",  # the server is the application, not the owner the tests run as
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    command = [
        sys.executable, "-m", "gunicorn", "config.wsgi", "--config", "docker/gunicorn.conf.py",
        "--bind", f"127.0.0.1:{port}", "--access-logfile", "-",
    ]  # fmt: skip
    with open(log, "wb") as output:
        # A session of its own: the workers too are stopped if the master must be killed.
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, process, log)
        yield url
    finally:
        # Quick shutdown: requests still queued after a failed soak are not worth finishing, and their
        # connections must be gone before the test database is flushed.
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def patrol_member(transactional_db):
    """A patrol member of 甲区's river office, beside three reaches with a vertex every 500 m."""
    factories.two_district_world()
    for index, north_m in enumerate((2_000, 5_000, 8_000)):
        factories.reach(f"SOAK{index}", factories.line(*[(east_m, north_m) for east_m in range(500, 9_501, 500)]))
    factories.recompute()
    membership, _ = member_add(username="soak_patrol", agency=Agency.objects.get(code="990001-RCO"), role="patrol")
    membership.user.set_password(PASSWORD)
    membership.user.save()
    return membership.user


def test_a_burst_of_registrations_all_succeed_once(server, patrol_member):
    """BURST registrations sent within a tenth of a second: every one answered 201, each a row of its own."""
    figures = soak_run(server, patrol_member, "--rate", str(BURST * 10), "--seconds", "0.1", "--timeout", "120")
    assert figures["sent"] == BURST
    assert figures["successes"] == BURST, json.dumps(figures, ensure_ascii=False)
    assert Clue.objects.filter(description__startswith="压力测试 soak").count() == BURST


def test_registrations_at_a_fraction_of_the_measured_capacity_hold_p95_under_a_second(server, patrol_member):
    alone = soak_run(server, patrol_member, "--sequential", "--rate", "30", "--seconds", "1", "--timeout", "30")
    assert alone["successes"] == alone["sent"] == 30, json.dumps(alone, ensure_ascii=False)
    # The server's rate for one request at a time; its two workers could do about twice that.
    # Rounded as it is passed on: 38.4965/s asked as "38.50" sends 308 in 8 s, not int(38.4965 × 8) = 307.
    rate = round(float(TARGET_RATE) if TARGET_RATE else min(50.0, LOAD_FRACTION / alone["p50_s"]), 2)
    figures = soak_run(server, patrol_member, "--rate", f"{rate:.2f}", "--seconds", str(SECONDS), "--timeout", "10")
    report = json.dumps({"rate": rate, "alone_p50_s": alone["p50_s"], **figures}, ensure_ascii=False)
    assert figures["sent"] == int(rate * SECONDS)
    assert figures["successes"] == figures["sent"], report
    assert figures["p95_s"] < 1.0, report


def test_the_servers_connections_stay_below_postgresqls_limit(db):
    """Each gunicorn thread keeps a connection (CONN_MAX_AGE): their number is bounded, with the worker's."""
    gunicorn = runpy.run_path(str(REPO / "docker" / "gunicorn.conf.py"))
    assert gunicorn["worker_class"] == "gthread"
    web = gunicorn["workers"] * gunicorn["threads"]
    # The Celery worker: a connection per pool process (at most one per core by default) and its own.
    worker = (os.cpu_count() or 2) + 1
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int"
        )
        max_connections, reserved = cursor.fetchone()
    assert web + worker <= (max_connections - reserved) // 2, "leave half for migrations, shells and a second deploy"


def test_a_worker_freezes_what_loading_made_before_its_first_request():
    """post_worker_init imports every view, then gc.freeze() keeps those objects out of collections."""
    script = (
        "import gc, runpy, django\n"
        "django.setup()\n"
        "conf = runpy.run_path('docker/gunicorn.conf.py')\n"
        "before = gc.get_freeze_count()\n"
        "conf['post_worker_init'](None)\n"
        "import sys\n"
        "print(before, gc.get_freeze_count(), 'clues.api.clues' in sys.modules)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    before, after, views_loaded = result.stdout.split()
    assert int(before) == 0 and int(after) > 10_000 and views_loaded == "True"
