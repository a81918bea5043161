"""scripts/services.sh: the project-local Redis keeps what is queued across a restart (issue 7 §8).

The script runs from a copy of the project's scripts folder in a temporary directory, with a
DATABASE_URL given so that it starts no PostgreSQL: its own Redis, started, stopped and started again.
"""

import os
import shutil
import subprocess
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
