"""The append-only history of a clue, chained by hashes so that a rewritten row shows."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils import timezone

from .models import Clue, ClueEvent

GENESIS = "0" * 64


def event_digest(event: ClueEvent) -> str:
    """Return the hash of an event's content and the previous event's hash."""
    content = {
        "clue": event.clue_id,
        "seq": event.seq,
        "action": event.action,
        "actor": event.actor_id,
        "agency": event.agency_id,
        "from": event.from_status,
        "to": event.to_status,
        "note": event.note,
        "data": event.data,
        "at": event.created_at.isoformat(),
        "prev": event.prev_hash,
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def event_record(
    *,
    clue: Clue,
    actor,  # noqa: ANN001 - a user
    action: str,
    agency=None,  # noqa: ANN001 - an Agency
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    data: dict | None = None,
) -> ClueEvent:
    """Append an event to the clue's history. The caller holds the clue's row lock."""
    last = ClueEvent.objects.filter(clue=clue).order_by("-seq").first()
    event = ClueEvent(
        clue=clue,
        seq=(last.seq + 1) if last else 1,
        action=action,
        actor=actor,
        agency=agency,
        from_status=from_status,
        to_status=to_status,
        note=note,
        data=json.loads(json.dumps(data or {}, default=str)),
        created_at=timezone.now(),
        prev_hash=last.hash if last else GENESIS,
    )
    event.hash = event_digest(event)
    event.save(force_insert=True)
    return event


@dataclass
class Break:
    clue_code: str
    seq: int
    problem: str


def history_verify() -> Iterator[Break]:
    """Yield every place where a clue's chain of events does not hold."""
    previous: dict[int, ClueEvent] = {}
    for event in ClueEvent.objects.select_related("clue").order_by("clue_id", "seq").iterator():
        before = previous.get(event.clue_id)
        expected_seq = before.seq + 1 if before else 1
        expected_prev = before.hash if before else GENESIS
        if event.seq != expected_seq:
            yield Break(event.clue.code, event.seq, f"sequence jumps from {expected_seq - 1} to {event.seq}")
        if event.prev_hash != expected_prev:
            yield Break(event.clue.code, event.seq, "does not follow the previous event's hash")
        if event_digest(event) != event.hash:
            yield Break(event.clue.code, event.seq, "content does not match its hash (rewritten)")
        previous[event.clue_id] = event
