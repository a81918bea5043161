"""Background work of patrols. Tasks take primary keys, re-read the row, call a domain function and
can run twice with one effect; they are queued with delay_on_commit (after the transaction commits).
Settings make every task acks_late with task_reject_on_worker_lost: a killed worker loses nothing."""

from celery import shared_task


@shared_task
def compute_coverage(patrol_id: int) -> dict:
    """Compute which reaches a finished patrol covered (patrols.coverage)."""
    from .coverage import patrol_coverage_compute
    from .models import Patrol

    patrol = Patrol.objects.filter(pk=patrol_id).first()
    if patrol is None:
        return {"patrol": patrol_id, "missing": True}
    rows = patrol_coverage_compute(patrol)
    return {"patrol": patrol_id, "reaches": len(rows)}
