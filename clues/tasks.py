"""Background work of the clues app; each task only calls a domain function."""

from __future__ import annotations

import datetime

from celery import shared_task

from .notifications import deadlines_sweep
from .tallies import tallies_fold


# acks_late (also the global default): a worker lost mid-sweep leaves the task queued, and running the
# sweep again is harmless because it notifies nobody twice.
@shared_task(acks_late=True)
def sweep_deadlines(today: str | None = None) -> dict:
    """Notify who must act on what is due soon or overdue (CELERY_BEAT_SCHEDULE runs it hourly)."""
    day = datetime.date.fromisoformat(today) if today else None
    return deadlines_sweep(today=day).as_dict()


# Folding twice is harmless: the second finds nothing to move; a fold lost with its worker leaves the
# deltas where they were, still counted by every reader.
@shared_task(acks_late=True)
def fold_figure_tallies() -> int:
    """Move the figures' deltas into their tallies (clues.tallies; CELERY_BEAT_SCHEDULE runs it every
    minute): the figures are exact either way, folding keeps what a reader sums short."""
    return tallies_fold()
