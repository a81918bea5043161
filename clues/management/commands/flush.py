"""Django's flush, able to empty the clue history, which refuses TRUNCATE (migration 0005).

Flush is the owner's "empty every table" (the test runner flushes after each transactional test):
it lifts the history's TRUNCATE guard inside its own transaction, which only the table's owner may
do. The application's role owns no table, so it can neither flush nor lift the guard.
"""

from django.core.management.commands import flush
from django.db import connections, transaction

GUARD_EXISTS = "SELECT 1 FROM pg_trigger WHERE tgname = 'clues_clueevent_no_truncate' AND NOT tgisinternal"


class Command(flush.Command):
    def handle(self, **options):
        connection = connections[options["database"]]
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(GUARD_EXISTS)
            guarded = cursor.fetchone() is not None
            if guarded:
                cursor.execute("ALTER TABLE clues_clueevent DISABLE TRIGGER clues_clueevent_no_truncate")
            super().handle(**options)
            if guarded:
                cursor.execute("ALTER TABLE clues_clueevent ENABLE TRIGGER clues_clueevent_no_truncate")
