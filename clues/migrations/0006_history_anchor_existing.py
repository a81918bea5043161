"""Anchor the history of the clues that exist: their count of events and the signed last hash.

The events themselves are not rewritten (they stay version 1, unkeyed); from now on the anchor
signs their last hash, so a removed tail or a re-hashed chain shows (clues.history).
"""

import hashlib
import hmac

from django.conf import settings
from django.db import migrations

# The key and the anchor as clues.history makes them in this version, copied so that this migration
# keeps doing what it did when clues.history changes.
KEY_SALT = b"clues.history.hmac-key"

LAST_EVENTS = """
SELECT DISTINCT ON (clue_id) clue_id, seq, hash FROM clues_clueevent ORDER BY clue_id, seq DESC
"""


def history_key() -> bytes:
    if settings.HISTORY_HMAC_KEY:
        return settings.HISTORY_HMAC_KEY.encode()
    return hmac.new(settings.SECRET_KEY.encode(), KEY_SALT, hashlib.sha256).digest()


def anchor_existing(apps, schema_editor):
    key = history_key()
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(LAST_EVENTS)
        anchors = [
            (
                seq,
                hmac.new(key, f"clue:{clue_id}:events:{seq}:last:{last_hash}".encode(), hashlib.sha256).hexdigest(),
                clue_id,
            )
            for clue_id, seq, last_hash in cursor.fetchall()
        ]
        cursor.executemany("UPDATE clues_clue SET history_count = %s, history_anchor = %s WHERE id = %s", anchors)


class Migration(migrations.Migration):
    dependencies = [("clues", "0005_history_anchor")]

    operations = [migrations.RunPython(anchor_existing, migrations.RunPython.noop)]
