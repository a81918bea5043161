"""The history of a clue cannot be rewritten: the database refuses, and the hash chain tells."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError

from clues.models import ClueEvent
from clues.workflow import clue_step
from tests.clues.conftest import register


@pytest.fixture
def history(people):
    clue = register(people["west_ro"], "990001-RCO", 4_000, 1_050)
    clue_step(clue=clue, user=people["west_ro"], step="send", note="首批移送")
    clue_step(clue=clue, user=people["west_proc"], step="accept")
    return clue


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


def test_events_chain_their_hashes(history):
    events = list(history.events.order_by("seq"))
    assert [e.action for e in events] == ["register", "send", "accept"]
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert events[1].note == "首批移送" and events[1].actor.username == "west_ro"
    call_command("verify_history")


def test_verify_history_finds_a_tampered_row(history, capsys):
    # The table's owner (the role migrations and these tests run as) can switch the trigger off and rewrite.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # pending foreign-key checks forbid ALTER TABLE
        cursor.execute("ALTER TABLE clues_clueevent DISABLE TRIGGER USER")
        cursor.execute("UPDATE clues_clueevent SET note = '改写' WHERE clue_id = %s AND seq = 2", [history.pk])
        cursor.execute("ALTER TABLE clues_clueevent ENABLE TRIGGER USER")
    with pytest.raises(CommandError, match="history broken"):
        call_command("verify_history")
    assert f"{history.code} #2: content does not match its hash" in capsys.readouterr().err


def test_verify_history_finds_a_removed_row(history, capsys):
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # pending foreign-key checks forbid ALTER TABLE
        cursor.execute("ALTER TABLE clues_clueevent DISABLE TRIGGER USER")
        cursor.execute("DELETE FROM clues_clueevent WHERE clue_id = %s AND seq = 2", [history.pk])
        cursor.execute("ALTER TABLE clues_clueevent ENABLE TRIGGER USER")
    with pytest.raises(CommandError):
        call_command("verify_history")
    err = capsys.readouterr().err
    assert f"{history.code} #3: sequence jumps" in err
    assert "does not follow the previous event's hash" in err
