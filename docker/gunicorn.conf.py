"""Gunicorn settings for the web service; WEB_CONCURRENCY and GUNICORN_CMD_ARGS tune it further."""

bind = "0.0.0.0:8000"
# Heartbeat files in memory: the container's disk may be slow or read-only.
worker_tmp_dir = "/dev/shm"
accesslog = "-"
# Containers are managed by signals and `docker compose`; no gunicornc socket is needed.
control_socket_disable = True
