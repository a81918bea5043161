"""Tell Docker whether this container's process is healthy: `python docker/healthcheck.py web|beat`."""

import os
import sys
import urllib.request
from pathlib import Path


def web() -> bool:
    """Return whether gunicorn answers /healthz with a 2xx for the web's own dependencies.

    Only the database and Redis: a worker or beat that is down shows in /healthz and in their own
    containers' healthchecks, and restarting the web would not bring it back.
    """
    # Ask as the proxy would: an allowed host over HTTPS, so neither host validation nor the SSL
    # redirect of the production settings turns the answer into a 400 or a 301.
    host = os.environ.get("ALLOWED_HOSTS", "localhost").split(",")[0].strip().lstrip(".")
    if not host or "*" in host:
        host = "localhost"
    request = urllib.request.Request(
        "http://127.0.0.1:8000/healthz?service=database&service=redis",
        headers={"Host": host, "X-Forwarded-Proto": "https"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return 200 <= response.status < 300
    except OSError as error:  # URLError and HTTPError are OSErrors
        print(f"healthz: {error}", file=sys.stderr)
        return False


def beat() -> bool:
    """Return whether beat's heartbeat (written on every tick to the cache, config.health) is recent."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from config.health import main

    return main(["beat"]) == 0


if __name__ == "__main__":
    checks = {"web": web, "beat": beat}
    if len(sys.argv) != 2 or sys.argv[1] not in checks:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(checks)}")
    sys.exit(0 if checks[sys.argv[1]]() else 1)
