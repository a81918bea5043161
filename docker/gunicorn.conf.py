"""Gunicorn settings for the web service and `make run`; WEB_CONCURRENCY, WEB_THREADS and GUNICORN_CMD_ARGS tune it."""

import os

bind = "0.0.0.0:8000"
# A few processes of a few threads each: requests mostly wait on PostgreSQL, and each thread keeps one
# database connection (CONN_MAX_AGE), so workers × threads is the web's share of connections. With the
# Celery worker's (its concurrency + 2) it must stay below PostgreSQL's max_connections (100 by default).
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
# Heartbeat files in memory: the container's disk may be slow or read-only.
worker_tmp_dir = "/dev/shm"
accesslog = "-"
# Containers are managed by signals and `docker compose`; no gunicornc socket is needed.
control_socket_disable = True


def post_worker_init(worker):  # noqa: ANN001, ARG001 - gunicorn's hook signature
    """Every view imported and the imports' objects frozen, before the worker's first request."""
    from config.web import worker_ready

    worker_ready()
