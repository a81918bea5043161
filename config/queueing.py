"""Queueing Celery tasks so that a broker fault never fails, or undoes, a step that committed.

Every task's work is written to the database before its message is sent (a photo pending, a
patrol's coverage not done), and the sweeps (patrols.tasks) queue again whatever stays undone. The
message only says "now": when it cannot be sent, that is logged and left to the sweeps, never raised
into the request whose transaction already committed. Every `.delay`/`apply_async` goes through here.
"""

from __future__ import annotations

import logging

from celery import Task
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue(task: Task, *args, queue: str | None = None, **kwargs) -> bool:
    """Send `task(*args, **kwargs)` now; on a broker fault log it and return False (never raise)."""
    try:
        if queue:
            task.apply_async(args, kwargs, queue=queue)
        else:
            task.delay(*args, **kwargs)
    except Exception:  # noqa: BLE001 - any failure to send is a broker fault; the sweep catches up
        logger.exception("could not queue %s%r: left to the sweep", task.name, args)
        return False
    return True


def enqueue_on_commit(task: Task, *args, queue: str | None = None, **kwargs) -> None:
    """Send the task once the current transaction commits (at once outside one); never raise."""
    transaction.on_commit(lambda: enqueue(task, *args, queue=queue, **kwargs))
