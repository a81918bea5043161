#!/bin/sh
# Run the image's command (gunicorn by default; manage.py or celery for the other services).
set -eu

# A bind mount or volume the app user cannot write would only show up when the first photo is saved.
if [ ! -w "${MEDIA_ROOT:?}" ]; then
    echo "entrypoint: MEDIA_ROOT $MEDIA_ROOT is not writable by uid $(id -u)" >&2
    exit 1
fi

exec "$@"
