"""The scripts `make run` uses (issue 7 §1, §8).

- scripts/services.sh: the project-local Redis keeps what is queued across a restart. The script runs
  from a copy of the scripts folder in a temporary directory, with a DATABASE_URL given so that it
  starts no PostgreSQL: its own Redis, started, stopped and started again.
- scripts/celery.sh wait (run.sh waits with it before it serves): a worker that stops, or a worker
  and beat that do not answer in time, stop the start with a message and the end of their logs.
"""

import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import redis

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def services(tmp_path):
    """Run the copied services.sh: return a function taking its argument (start|stop|state-dir)."""
    shutil.copytree(REPO / "scripts", tmp_path / "scripts")
    env = {**os.environ, "DATABASE_URL": "postgis://unused@/unused"}
    env.pop("REDIS_URL", None)

    def run(command: str) -> str:
        done = subprocess.run(
            [str(tmp_path / "scripts" / "services.sh"), command], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    try:
        yield run
    finally:
        run("stop")
        shutil.rmtree(run("state-dir"), ignore_errors=True)


def test_queued_messages_survive_a_restart_of_the_local_redis(services):
    services("start")
    socket_path = Path(services("state-dir")) / "redis" / "redis.sock"
    broker = redis.Redis(unix_socket_path=str(socket_path))
    assert broker.config_get("appendonly") == {"appendonly": "yes"}
    broker.lpush("celery", b'{"task": "patrols.tasks.process_photo"}')  # a task waiting for a worker
    broker.close()
    services("stop")
    services("start")
    broker = redis.Redis(unix_socket_path=str(socket_path))
    assert broker.lrange("celery", 0, -1) == [b'{"task": "patrols.tasks.process_photo"}']
    broker.close()


@pytest.fixture
def sleeper():
    """Return a function that starts a process standing in for a worker or beat that never answers."""
    sleepers = []

    def start() -> int:
        sleepers.append(subprocess.Popen(["sleep", "120"]))
        return sleepers[-1].pid

    try:
        yield start
    finally:
        for process in sleepers:
            process.kill()
            process.wait()


def celery_wait(run_dir: Path, worker_pid: int, beat_pid: int, timeout_s: int):
    env = {
        **os.environ,
        "RUN_DIR": str(run_dir),
        "RUN_READY_TIMEOUT_S": str(timeout_s),
        "PORT": f"test-{uuid.uuid4().hex[:8]}",  # a node name no worker has: nobody answers its ping
        "DJANGO_SETTINGS_MODULE": "config.settings.test",  # the tests' broker and cache: no beat heartbeat
    }
    began = time.monotonic()
    done = subprocess.run(
        [str(REPO / "scripts" / "celery.sh"), "wait", str(worker_pid), str(beat_pid)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return done, time.monotonic() - began


def test_a_worker_that_dies_at_start_stops_the_start_with_its_log(tmp_path, sleeper):
    crashed = subprocess.Popen(["sh", "-c", "exit 1"])
    crashed.wait()  # the worker exited at once (as it did without `packaging`)
    (tmp_path / "celery-worker.log").write_text("ModuleNotFoundError: No module named 'packaging'\n")
    done, elapsed_s = celery_wait(tmp_path, crashed.pid, sleeper(), timeout_s=60)
    assert done.returncode == 1
    assert f"the Celery worker (pid {crashed.pid}) has stopped" in done.stderr
    assert "No module named 'packaging'" in done.stderr  # the end of its log
    assert "not serving" in done.stderr
    assert elapsed_s < 30  # at the first check, not at the bound


def test_a_worker_and_beat_that_do_not_answer_stop_the_start_at_the_bound(tmp_path, sleeper):
    done, elapsed_s = celery_wait(tmp_path, sleeper(), sleeper(), timeout_s=3)
    assert done.returncode == 1
    assert "not serving: not answering within 3 s" in done.stderr
    assert "does not answer a ping" in done.stderr and "beat: no heartbeat" in done.stderr
    assert 3 <= elapsed_s < 60


@pytest.mark.parametrize("db", [2, 4])
def test_the_broker_uses_the_redis_database_its_url_names(settings, db):
    """A unix-socket Redis URL's ?db= reaches kombu (it reads virtual_host): the tests' queue (db 2) and a
    stack's (db 4) are not the queue of a `make run` (db 0) on the same machine."""
    from kombu import Connection

    from config.settings.base import celery_broker_url, redis_url_with_db

    url = redis_url_with_db(settings.REDIS_URL, db)
    key = f"rivers-test-broker-db-{uuid.uuid4()}"
    with Connection(celery_broker_url(url)) as broker:
        broker.default_channel.client.set(key, "here", ex=60)
    assert redis.Redis.from_url(url).get(key) == b"here"
    assert redis.Redis.from_url(redis_url_with_db(settings.REDIS_URL, 0)).get(key) is None
