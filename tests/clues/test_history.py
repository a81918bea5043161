"""The history of a clue cannot be rewritten: the database refuses, and the signed chain tells.

Tampering is done as the database owner (triggers switched off), which is what an attacker with
the owner's or a superuser's credentials could do; verify_history must then name what was done.
"""

import hashlib
import importlib
import json
from contextlib import contextmanager

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test import override_settings

from clues.history import (
    GENESIS,
    HistoryTampered,
    Tampering,
    anchor_digest,
    event_digest,
    event_record,
    history_key,
    history_verify,
)
from clues.models import Clue, ClueEvent
from clues.workflow import clue_step
from tests.clues.conftest import client_for, register


@pytest.fixture
def history(people):
    clue = register(people["west_ro"], "990001-RCO", 4_000, 1_050)
    clue_step(clue=clue, user=people["west_ro"], step="send", note="首批移送")
    clue_step(clue=clue, user=people["west_proc"], step="accept")
    return Clue.objects.get(pk=clue.pk)


@pytest.fixture
def bystander(people):
    """Another clue with an intact history: verification names only the tampered one."""
    return register(people["west_ro"], "990001-RCO", 5_000, 1_050)


@contextmanager
def as_owner():
    """Switch the history's triggers off, as the table's owner (or a superuser) can."""
    with connection.cursor() as cursor:
        # The test's own inserts leave deferred foreign-key checks, with which ALTER TABLE would refuse.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE clues_clueevent DISABLE TRIGGER USER")
        try:
            yield cursor
        finally:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE clues_clueevent ENABLE TRIGGER USER")


def breaks_of():
    return [(b.clue_code, b.seq, b.kind) for b in history_verify()]


def rehash(clue: Clue, from_seq: int, key: bytes) -> None:
    """Recompute the hashes of the clue's events from `from_seq` on, chaining them, with `key`."""
    events = list(ClueEvent.objects.filter(clue=clue).order_by("seq"))
    previous = GENESIS
    with as_owner() as cursor:
        for event in events:
            if event.seq >= from_seq:
                event.prev_hash = previous
                event.hash = event_digest(event, key)
                cursor.execute(
                    "UPDATE clues_clueevent SET prev_hash = %s, hash = %s WHERE id = %s",
                    [event.prev_hash, event.hash, event.pk],
                )
            previous = event.hash


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE clues_clueevent SET note = 'rewritten' WHERE clue_id = %s",
        "DELETE FROM clues_clueevent WHERE clue_id = %s",
    ],
)
def test_the_database_refuses_to_change_history(history, sql):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [history.pk])
    assert ClueEvent.objects.filter(clue=history).count() == 3


@pytest.mark.parametrize("sql", ["TRUNCATE clues_clueevent", "TRUNCATE clues_clue CASCADE"])
def test_the_database_refuses_to_truncate_history(history, sql):
    with connection.cursor() as cursor:
        # The test's own inserts leave deferred foreign-key checks, which TRUNCATE would refuse first.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(DatabaseError, match="append-only: TRUNCATE"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql)
    assert ClueEvent.objects.filter(clue=history).count() == 3


def test_events_chain_their_hashes_signed_with_a_key_outside_the_database(history, capsys):
    events = list(history.events.order_by("seq"))
    assert [e.action for e in events] == ["register", "send", "accept"]
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert events[1].note == "首批移送" and events[1].actor.username == "west_ro"
    assert {e.version for e in events} == {2}
    # The clue row anchors the chain: its count and the signed last hash.
    assert history.history_count == 3
    assert history.history_anchor == anchor_digest(history.pk, 3, events[-1].hash)
    call_command("verify_history")
    assert "history intact: 3 events of 1 clues" in capsys.readouterr().out
    # Whoever knows the algorithm but not the key cannot make these hashes: another key fails them all.
    with override_settings(HISTORY_HMAC_KEY="a guess"):
        assert {kind for _, _, kind in breaks_of()} == {Tampering.REHASHED}


def test_the_key_defaults_to_one_derived_from_the_secret_key():
    with override_settings(HISTORY_HMAC_KEY="", SECRET_KEY="s1"):
        derived = history_key()
    with override_settings(HISTORY_HMAC_KEY="", SECRET_KEY="s2"):
        assert history_key() != derived
    with override_settings(HISTORY_HMAC_KEY="from-the-environment"):
        assert history_key() == b"from-the-environment"
    assert derived != b"s1"


def test_verify_history_finds_an_altered_event(history, bystander, capsys):
    with as_owner() as cursor:
        cursor.execute("UPDATE clues_clueevent SET note = '改写' WHERE clue_id = %s AND seq = 2", [history.pk])
    with pytest.raises(CommandError, match=r"history broken in 1 place\(s\) \(altered: 1\)"):
        call_command("verify_history")
    assert f"{history.code} #2: content does not match its hash" in capsys.readouterr().err
    assert breaks_of() == [(history.code, 2, Tampering.ALTERED)]


def test_verify_history_finds_an_altered_last_event(history):
    with as_owner() as cursor:
        cursor.execute("UPDATE clues_clueevent SET note = '改写' WHERE clue_id = %s AND seq = 3", [history.pk])
    assert breaks_of() == [(history.code, 3, Tampering.ALTERED)]


def test_verify_history_finds_an_event_removed_in_the_middle(history, bystander, capsys):
    with as_owner() as cursor:
        cursor.execute("DELETE FROM clues_clueevent WHERE clue_id = %s AND seq = 2", [history.pk])
    with pytest.raises(CommandError, match=r"broken_link: 1"):
        call_command("verify_history")
    err = capsys.readouterr().err
    assert f"{history.code} #3: sequence jumps" in err
    assert "does not follow the previous event's hash" in err
    assert breaks_of() == [(history.code, 3, Tampering.BROKEN_LINK)]


def test_verify_history_finds_a_removed_tail(history, bystander, capsys):
    with as_owner() as cursor:
        cursor.execute("DELETE FROM clues_clueevent WHERE clue_id = %s AND seq = 3", [history.pk])
    with pytest.raises(CommandError, match=r"removed_tail: 1"):
        call_command("verify_history")
    assert f"{history.code} #3: events #3–#3 missing at the end" in capsys.readouterr().err
    assert breaks_of() == [(history.code, 3, Tampering.REMOVED_TAIL)]


def test_a_removed_tail_stays_visible_after_the_next_step(history, people):
    with as_owner() as cursor:
        cursor.execute("DELETE FROM clues_clueevent WHERE clue_id = %s AND seq = 3", [history.pk])
    clue_step(clue=history, user=people["west_proc"], step="investigate")
    # The next event takes the anchored number 4, so the hole where #3 was shows as a broken link.
    assert list(history.events.order_by("seq").values_list("seq", flat=True)) == [1, 2, 4]
    assert breaks_of() == [(history.code, 4, Tampering.BROKEN_LINK)]


def test_verify_history_finds_a_rehashed_chain(history, bystander, capsys):
    # The attacker rewrites #2 and recomputes every hash from there on, as the code does, but
    # without the key (here: a guessed one); the links all hold.
    with as_owner() as cursor:
        cursor.execute("UPDATE clues_clueevent SET note = '改写' WHERE clue_id = %s AND seq = 2", [history.pk])
    rehash(history, 2, key=b"a guessed key")
    with pytest.raises(CommandError, match=r"rehashed: 1"):
        call_command("verify_history")
    assert f"{history.code} #2: hashes of events #2–#3 are not signed" in capsys.readouterr().err
    assert breaks_of() == [(history.code, 2, Tampering.REHASHED)]


def test_verify_history_finds_a_rehashed_chain_with_a_forged_anchor(history):
    with as_owner() as cursor:
        cursor.execute("UPDATE clues_clueevent SET note = '改写' WHERE clue_id = %s AND seq = 1", [history.pk])
    rehash(history, 1, key=b"a guessed key")
    last = history.events.order_by("-seq").first()
    Clue.objects.filter(pk=history.pk).update(history_anchor=anchor_digest(history.pk, 3, last.hash, b"a guessed key"))
    assert breaks_of() == [(history.code, 1, Tampering.REHASHED)]


def test_verify_history_finds_an_emptied_history(history, bystander, capsys):
    # TRUNCATE (with the trigger off) takes every clue's history at once.
    with as_owner() as cursor:
        cursor.execute("TRUNCATE clues_clueevent")
    with pytest.raises(CommandError, match=r"empty: 2"):
        call_command("verify_history")
    assert f"{history.code} #0: 没有任何记录 / the clue exists but its history is empty" in capsys.readouterr().err
    assert sorted(breaks_of()) == sorted([(history.code, 0, Tampering.EMPTY), (bystander.code, 0, Tampering.EMPTY)])


def test_events_written_outside_the_application_are_found_and_not_signed_over(history, people):
    # A forged event appended after the last one, with an unkeyed hash as old events had.
    last = history.events.order_by("-seq").first()
    forged = ClueEvent(
        clue=history, seq=4, version=1, action="close", actor=people["west_proc"], note="伪造",
        data={}, created_at=last.created_at, prev_hash=last.hash,
    )  # fmt: skip
    forged.hash = event_digest(forged)
    forged.save(force_insert=True)
    assert (history.code, 4, Tampering.UNANCHORED) in breaks_of()
    # The application does not append to it (which would sign the forged event into the chain).
    with pytest.raises(HistoryTampered), transaction.atomic():
        event_record(clue=history, actor=people["west_proc"], action="investigate")


def test_verify_history_of_some_clues(history, bystander, capsys):
    with as_owner() as cursor:
        cursor.execute("UPDATE clues_clueevent SET note = '改写' WHERE clue_id = %s AND seq = 2", [history.pk])
    call_command("verify_history", bystander.code)
    assert "history intact: 1 events of 1 clues" in capsys.readouterr().out


def old_digest(event: ClueEvent) -> str:
    """The unkeyed hash of events written before migration 0005 (as clues.history computed it)."""
    content = {
        "clue": event.clue_id, "seq": event.seq, "action": event.action, "actor": event.actor_id,
        "agency": event.agency_id, "from": event.from_status, "to": event.to_status, "note": event.note,
        "data": event.data, "at": event.created_at.isoformat(), "prev": event.prev_hash,
    }  # fmt: skip
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@pytest.fixture
def old_history(history):
    """`history` as it was before migration 0005: unkeyed version-1 events, then anchored by 0006."""
    previous = GENESIS
    with as_owner() as cursor:
        for event in history.events.order_by("seq"):
            event.version, event.prev_hash = 1, previous
            event.hash = old_digest(event)
            cursor.execute(
                "UPDATE clues_clueevent SET version = 1, prev_hash = %s, hash = %s WHERE id = %s",
                [event.prev_hash, event.hash, event.pk],
            )
            previous = event.hash
    Clue.objects.filter(pk=history.pk).update(history_count=0, history_anchor="")
    migration = importlib.import_module("clues.migrations.0006_history_anchor_existing")

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    migration.anchor_existing(None, editor)
    return Clue.objects.get(pk=history.pk)


def test_events_from_before_the_migration_keep_verifying(old_history, people):
    assert old_history.history_count == 3
    assert breaks_of() == []
    clue_step(clue=old_history, user=people["west_proc"], step="investigate")
    assert list(old_history.events.order_by("seq").values_list("version", flat=True)) == [1, 1, 1, 2]
    assert breaks_of() == []


def test_events_from_before_the_migration_cannot_be_rehashed(old_history):
    # Unkeyed hashes can be recomputed by anyone: the anchor, which is signed, still finds it.
    previous = GENESIS
    with as_owner() as cursor:
        cursor.execute("UPDATE clues_clueevent SET note = '改写' WHERE clue_id = %s AND seq = 2", [old_history.pk])
        for event in old_history.events.order_by("seq"):
            event.prev_hash = previous
            event.hash = old_digest(event)
            cursor.execute(
                "UPDATE clues_clueevent SET prev_hash = %s, hash = %s WHERE id = %s",
                [event.prev_hash, event.hash, event.pk],
            )
            previous = event.hash
    assert breaks_of() == [(old_history.code, 3, Tampering.REHASHED)]


def test_events_from_before_the_migration_still_show_a_change(old_history):
    with as_owner() as cursor:
        cursor.execute("UPDATE clues_clueevent SET note = '改写' WHERE clue_id = %s AND seq = 2", [old_history.pk])
    assert breaks_of() == [(old_history.code, 2, Tampering.ALTERED)]


def test_a_step_on_a_history_with_unanchored_events_is_409(history, people):
    last = history.events.order_by("-seq").first()
    forged = ClueEvent(
        clue=history, seq=4, version=2, action="close", actor=people["west_proc"], note="伪造",
        data={}, created_at=last.created_at, prev_hash=last.hash,
    )  # fmt: skip
    forged.hash = event_digest(forged, b"a guessed key")
    forged.save(force_insert=True)
    response = client_for(people["west_proc"]).post(f"/api/v1/clues/{history.pk}/steps/investigate/", {})
    assert response.status_code == 409 and "verify_history" in response.json()["detail"]
    assert Clue.objects.get(pk=history.pk).status == "accepted"


@pytest.mark.django_db(transaction=True)
def test_migrating_a_database_with_history_keeps_it_verifying(people):
    from django.db.migrations.executor import MigrationExecutor

    clue = register(people["west_ro"], "990001-RCO", 4_000, 1_050)
    clue_step(clue=clue, user=people["west_ro"], step="send")
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("clues")
    executor.migrate([("clues", "0004_clue_finding")])
    try:
        # The database as it was before migration 0005: no version, no anchor, unkeyed hashes.
        previous = GENESIS
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE clues_clueevent DISABLE TRIGGER USER")
            for event in ClueEvent.objects.filter(clue=clue).order_by("seq").defer("version"):
                event.prev_hash = previous
                event.hash = old_digest(event)
                cursor.execute(
                    "UPDATE clues_clueevent SET prev_hash = %s, hash = %s WHERE id = %s",
                    [event.prev_hash, event.hash, event.pk],
                )
                previous = event.hash
            cursor.execute("ALTER TABLE clues_clueevent ENABLE TRIGGER USER")
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)
    migrated = Clue.objects.get(pk=clue.pk)
    assert migrated.history_count == 2
    assert list(migrated.events.values_list("version", flat=True)) == [1, 1]
    assert breaks_of() == []
    clue_step(clue=migrated, user=people["west_proc"], step="accept")
    assert list(migrated.events.values_list("version", flat=True)) == [1, 1, 2]
    assert breaks_of() == []
    # And TRUNCATE is refused again after the round trip.
    with pytest.raises(DatabaseError, match="append-only: TRUNCATE"), connection.cursor() as cursor:
        cursor.execute("TRUNCATE clues_clueevent")
