from django.db import migrations

# The history of a clue can only grow: the database itself refuses to change or remove an event,
# whoever asks (the application, the admin, a shell, a script with the app's credentials).
APPEND_ONLY = """
CREATE FUNCTION clues_clueevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'clue history is append-only: % on clues_clueevent refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER clues_clueevent_append_only
    BEFORE UPDATE OR DELETE ON clues_clueevent
    FOR EACH ROW EXECUTE FUNCTION clues_clueevent_append_only();
"""

DROP = """
DROP TRIGGER clues_clueevent_append_only ON clues_clueevent;
DROP FUNCTION clues_clueevent_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("clues", "0001_initial")]

    operations = [migrations.RunSQL(APPEND_ONLY, DROP)]
