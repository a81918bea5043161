"""What a web worker does once before its first request (docker/gunicorn.conf.py, post_worker_init)."""

from __future__ import annotations

import gc


def worker_ready() -> None:
    """Import the URLconf, and with it every view and serializer; then keep what the imports made out of
    the garbage collector's way (gc.freeze): its full collections walked those objects again and again, a
    third of a 100-clue page's CPU (issue 10)."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the import is the point
    gc.freeze()
