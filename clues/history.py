"""The append-only history of a clue, signed so that a rewritten, removed or re-hashed event shows.

The database refuses UPDATE, DELETE and TRUNCATE on the events (migrations 0002 and 0005); what
this module adds is for whoever gets past that (a superuser, the table's owner):

- each event's hash is an HMAC over its content and the previous event's hash, with a key that is
  not in the database (settings.HISTORY_HMAC_KEY, by default derived from SECRET_KEY): whoever can
  write the table cannot sign a rewritten event, nor re-hash the chain after it;
- each clue row carries an anchor: the number of its events and an HMAC of the clue's id, that
  number and the last event's hash, written in the same transaction as each event, under the
  clue's row lock. Removing the last events, or the whole history, no longer goes unnoticed.

Events written before migration 0005 keep their unkeyed SHA-256 hash (version 1); the migration
anchored their clues with the key, so they still verify, and any change to them still shows.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import connections, router
from django.db.models import QuerySet
from django.db.models.sql import InsertQuery
from django.utils import timezone

from .models import Clue, ClueEvent

GENESIS = "0" * 64
UNKEYED = 1  # SHA-256 of the content: events written before migration 0005
SIGNED = 2  # HMAC-SHA256 with the history key
# The fixed salt of the key derived from SECRET_KEY when HISTORY_HMAC_KEY is not set (README).
KEY_SALT = b"clues.history.hmac-key"


class HistoryTampered(Exception):
    """The clue's history holds events its anchor does not count: nothing is appended to it."""


def history_key() -> bytes:
    """Return the key that signs the history: HISTORY_HMAC_KEY, else HMAC(SECRET_KEY, KEY_SALT)."""
    if settings.HISTORY_HMAC_KEY:
        return settings.HISTORY_HMAC_KEY.encode()
    return hmac.new(settings.SECRET_KEY.encode(), KEY_SALT, hashlib.sha256).digest()


def _content(event: ClueEvent) -> bytes:
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
    if event.version != UNKEYED:
        content["v"] = event.version
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def event_digest(event: ClueEvent, key: bytes | None = None) -> str:
    """Return the hash of an event's content and the previous event's hash (signed from version 2)."""
    if event.version == UNKEYED:
        return hashlib.sha256(_content(event)).hexdigest()
    return hmac.new(key or history_key(), _content(event), hashlib.sha256).hexdigest()


def anchor_digest(clue_id: int, count: int, last_hash: str, key: bytes | None = None) -> str:
    """Return the signature of a clue's history: its clue, how many events, and the last one's hash."""
    message = f"clue:{clue_id}:events:{count}:last:{last_hash}".encode()
    return hmac.new(key or history_key(), message, hashlib.sha256).hexdigest()


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
    first: bool = False,
) -> ClueEvent:
    """Append an event to the clue's history and move the clue's anchor to it, under the clue's row lock.

    `first`: the clue was inserted in this transaction, so no other one sees it yet: it has no events and
    needs no lock, and neither is read (a registration's first event).
    """
    if first:
        count, last = 0, None
    else:
        # The count comes from the anchor, not from the events left: after a removed tail the next event
        # leaves a gap that verification reports, instead of quietly continuing (and re-anchoring) the chain.
        count = Clue.objects.select_for_update(of=("self",)).values_list("history_count", flat=True).get(pk=clue.pk)
        last = ClueEvent.objects.filter(clue=clue).order_by("-seq").first()
    if last is not None and last.seq > count:
        # Events the anchor does not know were written past the application: appending would sign them.
        raise HistoryTampered(
            f"线索{clue.code}的办理记录未通过核验，请联系系统管理员 / the history of {clue.code} has events "
            f"beyond its anchor ({last.seq} > {count}): run verify_history"
        )
    event = ClueEvent(
        clue=clue,
        seq=count + 1,
        version=SIGNED,
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
    key = history_key()
    event.hash = event_digest(event, key)
    anchor = anchor_digest(clue.pk, event.seq, event.hash, key)
    if first:
        _insert_anchored(event, anchor)
    else:
        event.save(force_insert=True)
        Clue.objects.filter(pk=clue.pk).update(history_count=event.seq, history_anchor=anchor)
    clue.history_count, clue.history_anchor = event.seq, anchor
    return event


# The event's INSERT (as the ORM writes it) and the anchor's UPDATE in one statement: one round trip less
# on every registration (issue 10). The UPDATE cannot see the new event, and needs not: the anchor was
# computed from it beforehand.
ANCHORED_INSERT_SQL = """
WITH event AS ({insert} RETURNING id)
UPDATE clues_clue SET history_count = %s, history_anchor = %s WHERE id = %s
RETURNING (SELECT id FROM event)
"""


def _insert_anchored(event: ClueEvent, anchor: str) -> None:
    """Insert `event` and move its clue's anchor to it (`anchor` for event.seq events) in one statement."""
    using = router.db_for_write(ClueEvent, instance=event)
    meta = ClueEvent._meta
    fields = [field for field in meta.local_concrete_fields if field is not meta.auto_field]
    query = InsertQuery(ClueEvent)
    query.insert_values(fields, [event])
    [(insert, params)] = query.get_compiler(using=using).as_sql()
    with connections[using].cursor() as cursor:
        cursor.execute(ANCHORED_INSERT_SQL.format(insert=insert), [*params, event.seq, anchor, event.clue_id])
        (event.pk,) = cursor.fetchone()
    event._state.adding, event._state.db = False, using


class Tampering:
    """The kinds of break `history_verify` reports, each with its own remedy for the investigator."""

    ALTERED = "altered"  # an event's content changed after it was signed
    BROKEN_LINK = "broken_link"  # an event removed (or reordered) in the middle of the chain
    REMOVED_TAIL = "removed_tail"  # the last events removed: fewer events than the anchor counts
    REHASHED = "rehashed"  # hashes recomputed without the key: consistent, but not signed
    EMPTY = "empty"  # a clue with no history at all (TRUNCATE, or every event deleted)
    UNANCHORED = "unanchored"  # events beyond the anchored count, written outside the application


@dataclass
class Break:
    clue_code: str
    seq: int
    problem: str
    kind: str


def history_verify(clues: QuerySet[Clue] | None = None) -> Iterator[Break]:
    """Yield every place where a clue's history does not hold, for every clue (or those of `clues`)."""
    key = history_key()
    clues = (clues if clues is not None else Clue.objects.all()).order_by("pk")
    rows = clues.values_list("pk", "code", "history_count", "history_anchor").iterator(chunk_size=2000)
    events = ClueEvent.objects.filter(clue__in=clues.values("pk")).order_by("clue_id", "seq").iterator(chunk_size=2000)
    grouped = itertools.groupby(events, key=lambda event: event.clue_id)
    pending = next(grouped, None)
    for pk, code, count, anchor in rows:
        # Skip events of clues not in `rows` (none: events keep their clue); take this clue's.
        while pending is not None and pending[0] < pk:
            pending = next(grouped, None)
        history: list[ClueEvent] = []
        if pending is not None and pending[0] == pk:
            history = list(pending[1])
            pending = next(grouped, None)
        yield from _clue_verify(pk, code, count, anchor, history, key)


def _clue_verify(pk: int, code: str, count: int, anchor: str, events: list[ClueEvent], key: bytes) -> Iterable[Break]:
    if not events:
        yield Break(code, 0, "没有任何记录 / the clue exists but its history is empty (truncated?)", Tampering.EMPTY)
        return
    last = events[-1]
    anchored = last.seq == count and hmac.compare_digest(anchor, anchor_digest(pk, count, last.hash, key))
    # An event is signed when its hash is its content's digest (HMAC with the key; unkeyed SHA-256 for
    # version 1, which may not follow a signed event: an unkeyed event after a signed one was not
    # written by this application).
    signed = []
    keyed_seen = False
    for event in events:
        downgraded = event.version == UNKEYED and keyed_seen
        keyed_seen = keyed_seen or event.version != UNKEYED
        signed.append(not downgraded and hmac.compare_digest(event.hash, event_digest(event, key)))
    # An event's hash is authentic when something signed vouches for it: the anchor for the last one;
    # for the others, the next event, linked to it, signed with the key (or unkeyed but itself authentic).
    authentic = [False] * len(events)
    authentic[-1] = anchored
    for index in range(len(events) - 2, -1, -1):
        following = events[index + 1]
        authentic[index] = (
            following.prev_hash == events[index].hash
            and signed[index + 1]
            and (following.version != UNKEYED or authentic[index + 1])
        )
    rehashed: list[int] = []
    for index, event in enumerate(events):
        before = events[index - 1] if index else None
        expected_seq = before.seq + 1 if before else 1
        expected_prev = before.hash if before else GENESIS
        if event.seq != expected_seq or event.prev_hash != expected_prev:
            problems = []
            if event.seq != expected_seq:
                problems.append(f"sequence jumps from {expected_seq - 1} to {event.seq}")
            if event.prev_hash != expected_prev:
                problems.append("does not follow the previous event's hash")
            yield Break(code, event.seq, " and ".join(problems) + " (event removed)", Tampering.BROKEN_LINK)
        if signed[index]:
            continue
        # A bad signature on an authentic hash is content changed after signing; a hash nothing
        # vouches for was made up: the chain was re-hashed from here.
        if authentic[index]:
            yield Break(code, event.seq, "content does not match its hash (altered after signing)", Tampering.ALTERED)
        else:
            rehashed.append(event.seq)
    if rehashed:
        yield Break(
            code,
            rehashed[0],
            f"hashes of events #{rehashed[0]}–#{rehashed[-1]} are not signed with the history key (re-hashed)",
            Tampering.REHASHED,
        )
    if last.seq < count:
        yield Break(
            code,
            last.seq + 1,
            f"events #{last.seq + 1}–#{count} missing at the end: the anchor counts {count} (tail removed)",
            Tampering.REMOVED_TAIL,
        )
    elif last.seq > count:
        yield Break(
            code,
            count + 1,
            f"events #{count + 1}–#{last.seq} are beyond the anchored count {count} (not written by the application)",
            Tampering.UNANCHORED,
        )
    elif not anchored and not rehashed:
        # Every event checks out on its own, yet the anchor does not sign the last hash: an unkeyed
        # chain (before migration 0005) re-hashed, or the anchor itself rewritten.
        problem = "the last hash is not the one the anchor signed (re-hashed, or the anchor rewritten)"
        yield Break(code, last.seq, problem, Tampering.REHASHED)
