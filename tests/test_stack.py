"""The stack `make run` starts, started by its own script and driven over HTTP (issue 7 §1, §8).

scripts/run.sh runs with the run environment (.venv: the run dependencies only, not .venv-test's
test tools) on a port of its own, against a database of its own in the local cluster and spare
Redis databases, as `make run` does: migrate, the demo, a Celery worker and beat that must answer
before it serves. A phone's joint patrol, a track along a demo reach, a finding with a photo
carrying EXIF GPS, finish: that worker processes the photo and computes the coverage. Then the
faults: the worker is killed (SIGKILL, the whole worker) with a photo and a coverage under way,
/healthz names it, and a worker started again the same way (scripts/celery.sh) does each once,
well within 2 minutes.

Every wait is bounded; every process started here is stopped in a finally. Deselect with
`-m "not stack"`.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg2
import pytest
import redis
from django.conf import settings

from config.settings.base import redis_url_with_db
from tests.patrols.test_photos import phone_jpeg

pytestmark = pytest.mark.stack

REPO = Path(settings.BASE_DIR)
DEMO_PASSWORD = "river-demo-2026"  # gis_data/management/commands/load_demo.py
START_TIMEOUT_S = 240  # migrate a new database, load the demo, wait for the worker and beat
PROCESS_TIMEOUT_S = 90
APP_ROLE = "rivers_app"  # scripts/services.sh: the role that owns nothing (issue 7 §7)
RECOVERY_BOUND_S = 120  # issue 7 §8: processed within 2 minutes of the worker's return
BROKER_DB, CACHE_DB = 4, 5  # make run uses 0 and 1, the tests 2 and 3


# --- the stack --------------------------------------------------------------------------------------


class Stack:
    def __init__(self, *, process: subprocess.Popen, base_url: str, env: dict, run_dir: Path, dsn: dict):
        self.process, self.base_url, self.env, self.run_dir, self.dsn = process, base_url, env, run_dir, dsn
        self.extra: list[subprocess.Popen] = []  # workers started again by a test

    def log(self) -> str:
        return (self.run_dir / "run.log").read_text(errors="replace")

    def logs_tail(self) -> str:
        parts = []
        for name in ("run.log", "celery-worker.log", "celery-beat.log", "worker-again.log"):
            path = self.run_dir / name
            if path.exists():
                parts.append(f"--- {name}\n{path.read_text(errors='replace')[-3000:]}")
        return "\n".join(parts)

    def request(self, method: str, path: str, *, token: str | None = None, body=None, files=None):
        """Return (status, parsed JSON or bytes) of one HTTP request to the stack."""
        headers = {"Accept": "application/json"}
        data = None
        if token:
            headers["Authorization"] = f"Token {token}"
        if files is not None:
            boundary = uuid.uuid4().hex
            data = multipart(boundary, body or {}, files)
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base_url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, raw, kind = response.status, response.read(), response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as error:
            status, raw, kind = error.code, error.read(), error.headers.get("Content-Type", "")
        return status, (json.loads(raw) if kind.startswith("application/json") else raw)

    def healthz(self) -> tuple[int, dict]:
        return self.request("GET", "/healthz")

    def worker_pids(self) -> list[int]:
        """The pids of the stack's Celery worker: its main process (a child of run.sh) and its pool."""
        mains = [pid for pid in children(self.process.pid) if b"worker" in cmdline(pid) and b"celery" in cmdline(pid)]
        return [pid for main in mains for pid in (main, *children(main))]


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def multipart(boundary: str, fields: dict, files: dict) -> bytes:
    lines = []
    for name, value in fields.items():
        lines += [f"--{boundary}", f'Content-Disposition: form-data; name="{name}"', "", str(value)]
    body = "\r\n".join(lines).encode() + (b"\r\n" if lines else b"")
    for name, (filename, content, content_type) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        )
        body += head.encode() + content + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(what: str, check, *, timeout_s: float, stack: Stack, every_s: float = 0.5):
    """Poll `check` until it returns something true; fail with the stack's logs after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        if stack.process.poll() is not None:
            pytest.fail(
                f"scripts/run.sh stopped (exit {stack.process.returncode}) waiting for {what}:\n{stack.logs_tail()}"
            )
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout_s} s\n{stack.logs_tail()}")
        time.sleep(every_s)


def stop(process: subprocess.Popen, *, group: bool) -> None:
    """TERM a process (its whole process group with `group`), then KILL what is left after 30 s."""
    if process.poll() is not None:
        return
    send = (lambda sig: os.killpg(process.pid, sig)) if group else process.send_signal
    try:
        send(signal.SIGTERM)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """scripts/run.sh on its own port, database (rivers_stack_<random>) and Redis databases; stopped after."""
    python = REPO / ".venv" / "bin" / "python"
    assert python.exists(), "the run environment .venv is missing: run scripts/bootstrap.sh base"
    db = settings.DATABASES["default"]
    dsn = {"user": db["USER"], "password": db["PASSWORD"], "host": db["HOST"] or db["OPTIONS"].get("host", "")}
    dsn.update({"port": db["PORT"]} if db["PORT"] else {})
    name = f"rivers_stack_{uuid.uuid4().hex[:10]}"
    redis_urls = [redis_url_with_db(settings.REDIS_URL, n) for n in (BROKER_DB, CACHE_DB)]
    for url in redis_urls:
        redis.Redis.from_url(url).flushdb()
    admin = psycopg2.connect(dbname="postgres", **dsn)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')  # a generated name, not input
    # The two roles of make run's own database: migrate as the owner, serve and work as rivers_app.
    subprocess.run(["scripts/services.sh", "roles", name], cwd=REPO, check=True, capture_output=True, timeout=120)
    run_dir = tmp_path_factory.mktemp("stack")
    port = free_port()
    auth = quote(dsn["user"]) + (":" + quote(dsn["password"]) if dsn["password"] else "")
    host, query = ("", f"?host={quote(dsn['host'])}") if dsn["host"].startswith("/") else (dsn["host"], "")
    where = f"{host}{':' + str(dsn['port']) if 'port' in dsn else ''}/{name}{query}"
    owner_url = f"postgis://{auth}@{where}"
    app_url = f"postgis://{APP_ROLE}@{where}"  # the local cluster trusts its socket
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": app_url,
        "DATABASE_OWNER_URL": owner_url,
        "REDIS_URL": redis_urls[0],
        "CACHE_URL": redis_urls[1],
        "MEDIA_ROOT": str(run_dir / "media"),
        "RUN_DIR": str(run_dir),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PYTHONUNBUFFERED": "1",
        # Short periods so that the sweeps run during the test; the worker ping is cached 1 s.
        "PHOTO_SWEEP_EVERY_S": "5",
        "COVERAGE_SWEEP_EVERY_S": "5",
        "HEALTH_WORKER_CACHE_S": "1",
    }
    # services.sh rewrites .local/env (without the URLs given here); the tests' own runs need it back.
    local_env = REPO / ".local" / "env"
    kept_env = local_env.read_bytes() if local_env.exists() else None
    log = open(run_dir / "run.log", "wb")  # noqa: SIM115 - closed in the finally
    process = subprocess.Popen(
        ["scripts/run.sh"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    stack = Stack(
        process=process, base_url=f"http://127.0.0.1:{port}", env=env, run_dir=run_dir, dsn={**dsn, "dbname": name}
    )
    try:
        began = time.monotonic()
        wait_until("run.sh serving", lambda: "==> serving" in stack.log(), timeout_s=START_TIMEOUT_S, stack=stack)
        wait_until("the site answering", lambda: port_open(port), timeout_s=60, stack=stack)
        stack.started_s = time.monotonic() - began
        yield stack
    finally:
        for extra in stack.extra:
            stop(extra, group=False)
        stop(process, group=True)
        log.close()
        if kept_env is not None:
            local_env.write_bytes(kept_env)
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
        for url in redis_urls:
            redis.Redis.from_url(url).flushdb()


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


# --- a phone's patrol -------------------------------------------------------------------------------


def sign_in(stack: Stack, username: str) -> str:
    status, body = stack.request("POST", "/api/v1/auth/token/", body={"username": username, "password": DEMO_PASSWORD})
    assert status == 200, body
    return body["token"]


def demo_reach_line(stack: Stack, token: str) -> list[tuple[float, float]]:
    """The longest line of a 綦江区 (500110) reach of the demo, as (lon, lat) vertices."""
    status, body = stack.request("GET", "/api/v1/reaches/?limit=500", token=token)
    assert status == 200, body
    features = body.get("features") or body.get("results", {}).get("features") or []
    lines = [
        line
        for feature in features
        if "500110" in (feature["properties"].get("districts") or [])
        for line in feature["geometry"]["coordinates"]
    ]
    assert lines, "no demo reach in 500110"
    return max(lines, key=lambda line: line_metres(line))


def metres(a, b) -> float:
    """Metres between two lon/lat points (equirectangular: good to a fraction of a percent over metres)."""
    mean_lat = math.radians((a[1] + b[1]) / 2)
    return 6_371_000 * math.hypot(math.radians(b[0] - a[0]) * math.cos(mean_lat), math.radians(b[1] - a[1]))


def line_metres(line) -> float:
    return sum(metres(a, b) for a, b in zip(line, line[1:], strict=False))


def fixes_along(line, count: int, *, start: datetime.datetime, step_s: int = 10) -> list[dict]:
    """`count` fixes evenly along the line (at most its first 3 km), one every `step_s` seconds."""
    length = min(line_metres(line), 3_000)
    wanted = [length * i / (count - 1) for i in range(count)]
    fixes, walked, index = [], 0.0, 0
    for a, b in zip(line, line[1:], strict=False):
        span = metres(a, b)
        while index < count and wanted[index] <= walked + span:
            t = (wanted[index] - walked) / span if span else 0.0
            lon, lat = a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])
            at = start + datetime.timedelta(seconds=step_s * index)
            fixes.append({"lon": lon, "lat": lat, "recorded_at": at.isoformat(), "accuracy_m": 5})
            index += 1
        walked += span
    return fixes


def patrol_with_finding(stack: Stack, *, photo_at: tuple[float, float] | None = None):
    """Start a joint patrol (patrol member and prosecutor of 綦江区), send its track, add a finding with
    no position. Return (patrol member's token, patrol id, finding id, photo's EXIF position)."""
    patrol_token = sign_in(stack, "qj_patrol")
    sign_in(stack, "qj_prosecutor")  # the other side can sign in too
    started_at = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    status, patrol = stack.request(
        "POST",
        "/api/v1/patrols/",
        token=patrol_token,
        body={
            "client_uuid": str(uuid.uuid4()),
            "kind": "joint",
            "district": "500110",
            "agency": "500110-RCO",
            "title": "联合巡查 stack test",
            "started_at": started_at.isoformat(),
            "participants": [{"username": "qj_prosecutor", "agency": "500110-PROC"}],
        },
    )
    assert status == 201, patrol
    assert {p["agency"]["code"] for p in patrol["participants"]} == {"500110-RCO", "500110-PROC"}
    fixes = fixes_along(demo_reach_line(stack, patrol_token), 300, start=started_at + datetime.timedelta(minutes=1))
    for n, batch in enumerate((fixes[:150], fixes[150:])):
        status, body = stack.request(
            "POST",
            f"/api/v1/patrols/{patrol['id']}/points/",
            token=patrol_token,
            body={"batch_id": f"b{n}", "points": batch},
        )
        assert status == 201, body
    status, finding = stack.request(
        "POST",
        "/api/v1/findings/",
        token=patrol_token,
        body={
            "client_uuid": str(uuid.uuid4()),
            "category": "illegal_discharge",
            "description": "排污口 stack test",
            "patrol": patrol["id"],
            "agency": "500110-RCO",
        },
    )
    assert status == 201, finding
    middle = fixes[len(fixes) // 2]
    return patrol_token, patrol["id"], finding["id"], photo_at or (middle["lon"], middle["lat"])


def upload_photo(stack: Stack, token: str, finding_id: int, position: tuple[float, float]) -> dict:
    data = phone_jpeg((1200, 900), gps=position)
    status, photo = stack.request(
        "POST",
        f"/api/v1/findings/{finding_id}/photos/",
        token=token,
        body={"client_id": str(uuid.uuid4())},
        files={"file": ("IMG_0001.jpg", data, "image/jpeg")},
    )
    assert status == 201, photo
    assert photo["status"] == "pending"
    return photo


def finish(stack: Stack, token: str, patrol_id: int) -> dict:
    status, patrol = stack.request("POST", f"/api/v1/patrols/{patrol_id}/finish/", token=token, body={})
    assert status == 200, patrol
    return patrol


def photo_state(stack: Stack, token: str, finding_id: int, photo_id: int) -> dict:
    status, photos = stack.request("GET", f"/api/v1/findings/{finding_id}/photos/", token=token)
    assert status == 200, photos
    return next(p for p in photos if p["id"] == photo_id)


def patrol_state(stack: Stack, token: str, patrol_id: int) -> dict:
    status, patrol = stack.request("GET", f"/api/v1/patrols/{patrol_id}/", token=token)
    assert status == 200, patrol
    return patrol


def processed(stack: Stack, token: str, finding_id: int, photo_id: int, patrol_id: int):
    photo = photo_state(stack, token, finding_id, photo_id)
    patrol = patrol_state(stack, token, patrol_id)
    if photo["status"] != "pending" and patrol["coverage_done_at"]:
        return photo, patrol
    return None


# --- the tests ----------------------------------------------------------------------------------------


def test_the_stack_processes_a_joint_patrol_its_photo_and_its_coverage(stack):
    status, health = stack.healthz()
    assert status == 200 and health["status"] == "ok", health
    assert {name for name, service in health["services"].items() if service["ok"]} == {
        "database",
        "redis",
        "worker",
        "beat",
    }
    token, patrol_id, finding_id, position = patrol_with_finding(stack)
    photo = upload_photo(stack, token, finding_id, position)
    assert finish(stack, token, patrol_id)["status"] == "finished"

    photo, patrol = wait_until(
        "the photo processed and the coverage computed by the stack's worker",
        lambda: processed(stack, token, finding_id, photo["id"], patrol_id),
        timeout_s=PROCESS_TIMEOUT_S,
        stack=stack,
    )
    assert photo["status"] == "done", photo
    assert metres(photo["location"]["coordinates"], position) < 1.0  # read from the EXIF GPS
    status, display = stack.request("GET", photo["urls"]["display"], token=token)
    assert status == 200 and display[:3] == b"\xff\xd8\xff"  # a JPEG: the display copy is served
    assert patrol["coverage"], patrol  # the track runs along a demo reach
    # The site and the worker did all this as the role that owns nothing, as make run sets it up.
    with psycopg2.connect(**stack.dsn) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [stack.dsn["dbname"]],
        )
        assert {row[0] for row in cursor.fetchall()} == {APP_ROLE}
    assert all(0 < row["fraction"] <= 1 and row["covered_m"] > 0 for row in patrol["coverage"])
    status, finding = stack.request("GET", f"/api/v1/findings/{finding_id}/", token=token)
    assert metres(finding["location"]["coordinates"], position) < 1.0  # the finding took the photo's position


def test_a_killed_worker_shows_in_healthz_and_a_new_one_does_its_work_once(stack):
    token, patrol_id, finding_id, position = patrol_with_finding(stack)
    locks = psycopg2.connect(**stack.dsn)
    try:
        with locks.cursor() as cursor:
            # Hold the two tasks mid-way, after each has claimed its row: the photo's run when it gives
            # the finding its position, the coverage's when it replaces the coverage rows.
            cursor.execute("SELECT id FROM patrols_finding WHERE id = %s FOR NO KEY UPDATE", [finding_id])
            cursor.execute("LOCK TABLE patrols_patrolcoverage IN SHARE MODE")
        photo = upload_photo(stack, token, finding_id, position)
        finish(stack, token, patrol_id)
        wait_until("both tasks under way", lambda: blocked_backends(stack) >= 2, timeout_s=60, stack=stack)
        killed = stack.worker_pids()
        assert killed, f"no worker process under run.sh:\n{stack.logs_tail()}"
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
    finally:
        locks.rollback()
        locks.close()

    # The worker is gone: /healthz says so, by name, and run.sh says so loudly.
    def worker_down():
        status, health = stack.healthz()
        return status == 503 and "worker" in health["down"] and health

    health = wait_until("/healthz 503 naming the worker", worker_down, timeout_s=20, stack=stack)
    assert health["services"]["database"]["ok"] and health["services"]["redis"]["ok"], health
    wait_until(
        "run.sh saying the worker stopped",
        lambda: "Celery worker" in stack.log() and "!!!" in stack.log(),
        timeout_s=15,
        stack=stack,
    )
    assert photo_state(stack, token, finding_id, photo["id"])["status"] == "pending"
    assert patrol_state(stack, token, patrol_id)["coverage_done_at"] is None

    # A worker started again the same way: the killed one's messages stay unacknowledged in Redis for
    # an hour; the sweep when the worker is ready queues the work again.
    log = open(stack.run_dir / "worker-again.log", "wb")  # noqa: SIM115 - closed below
    began = time.monotonic()
    stack.extra.append(
        subprocess.Popen(["scripts/celery.sh", "worker"], cwd=REPO, env=stack.env, stdout=log, stderr=subprocess.STDOUT)
    )
    try:
        photo, patrol = wait_until(
            "the photo and the coverage done by the new worker",
            lambda: processed(stack, token, finding_id, photo["id"], patrol_id),
            timeout_s=RECOVERY_BOUND_S,
            stack=stack,
            every_s=1,
        )
        recovered_s = time.monotonic() - began
        print(f"recovered {recovered_s:.1f} s after the worker was started again (started in {stack.started_s:.0f} s)")
        assert photo["status"] == "done" and patrol["coverage"], (photo, patrol)
        wait_until("/healthz ok again", lambda: stack.healthz()[0] == 200, timeout_s=20, stack=stack)
        # Once: the new worker did each once, and a sweep later (every 5 s here) changes nothing.
        time.sleep(6)
        log_text = (stack.run_dir / "worker-again.log").read_text(errors="replace")
        done_runs = re.findall(
            rf"process_photo\[[^\]]+\] succeeded in [^:]+: \{{'photo': {photo['id']}, 'status': 'done'\}}", log_text
        )
        coverage_runs = re.findall(
            rf"compute_coverage\[[^\]]+\] succeeded in [^:]+: \{{'patrol': {patrol_id}, 'reaches'", log_text
        )
        assert (len(done_runs), len(coverage_runs)) == (1, 1), log_text[-3000:]
        assert photo_state(stack, token, finding_id, photo["id"])["processed_at"] == photo["processed_at"]
        assert patrol_state(stack, token, patrol_id)["coverage_done_at"] == patrol["coverage_done_at"]
    finally:
        stop(stack.extra.pop(), group=False)
        log.close()


def blocked_backends(stack: Stack) -> int:
    """The stack database's sessions waiting for a lock (the two tasks held mid-way)."""
    with psycopg2.connect(**stack.dsn) as probe, probe.cursor() as cursor:
        # pg_locks, not pg_stat_activity: the owner role may not read another role's wait events.
        cursor.execute(
            "SELECT count(DISTINCT l.pid) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE NOT l.granted AND a.datname = current_database()"
        )
        count = cursor.fetchone()[0]
    probe.close()
    return count
