"""Running counts behind the joint-meeting figures (clues.figures): what each city's clues, transfers and
suggestions add to each section, by the clue's day of registration (Asia/Shanghai).

A municipal procuratorate counts every clue of its city (DESIGN §5); at municipal scale (10^6 clues a year)
counting them again for each request took seconds (issue 10). Triggers keep the counts instead, in two
tables:

- clues_figuredelta: what each statement on clues_clue, clues_transfer or clues_suggestion changed,
  appended by a statement-level trigger (one INSERT per statement, no row shared between writers: a
  registration never waits for another one's counts);
- clues_figuretally: the same rows summed, one per key; tallies_fold() (the beat task clues.tasks.
  fold_figure_tallies) moves the deltas into it in one transaction, so a reader summing both tables in
  one snapshot counts every change exactly once, folded or not.

A row is a part: (city, day, dim, value, due) counting `n` items, `confidential` of them confidential.
The clue parts are one per section (category, status, source, district); a transfer adds a 'transfers'
part, a 'first_answer' part and, once feedback is owed, a 'feedback' part; a suggestion a 'suggestions'
part, an 'escalated' part once escalated and a 'reply' part. A deadline's value is 'in_time' or 'late'
once met, and 'open' with its `due` date while not: whether it is overdue depends on the day the figures
are judged on, so the reader decides (clues.figures). The same templates count the clues of a scope
directly (the visible clues outside the user's cities), so both ways count alike by construction.
"""

from __future__ import annotations

from django.db import connection, transaction

TZ = "Asia/Shanghai"  # clues.figures.LOCAL_TZ: the figures' days are the agencies' days

# Whether a deadline was met: `done` a timestamp, `due` a date.
STATE_SQL = (
    "CASE WHEN {done} IS NULL THEN 'open' "
    "WHEN {due} IS NULL OR ({done} AT TIME ZONE '" + TZ + "')::date <= {due} THEN 'in_time' ELSE 'late' END"
)
OPEN_DUE_SQL = "CASE WHEN {done} IS NULL THEN {due} END"

# The parts of the clues of `{clues}` (a table or a transition table), each counted `{sign}` (1 or -1).
CLUE_PARTS_SQL = """
SELECT c.city_id, (c.created_at AT TIME ZONE '{tz}')::date AS day, part.dim, part.value, NULL::date AS due,
       {sign} AS n, CASE WHEN c.confidential THEN {sign} ELSE 0 END AS confidential
FROM {clues} AS c
CROSS JOIN LATERAL (VALUES ('category', c.category::text), ('status', c.status::text), ('source', c.source::text),
                           ('district', coalesce(c.district_id::text, ''))) AS part(dim, value)
"""

# The parts of the transfers of `{transfers}`, dated and placed by their clue in `{clues}`.
TRANSFER_PARTS_SQL = (
    """
SELECT c.city_id, (c.created_at AT TIME ZONE '{tz}')::date AS day, part.dim, part.value, part.due,
       {sign} AS n, 0 AS confidential
FROM {transfers} AS t JOIN {clues} AS c ON c.id = t.clue_id
CROSS JOIN LATERAL (VALUES
    ('transfers', '', NULL::date),
    ('first_answer', """
    + STATE_SQL.format(done="t.first_answer_at", due="t.first_answer_due")
    + ", "
    + OPEN_DUE_SQL.format(done="t.first_answer_at", due="t.first_answer_due")
    + """),
    -- feedback is owed only once the clue is closed (feedback_due set)
    ('feedback', CASE WHEN t.feedback_due IS NOT NULL THEN """
    + STATE_SQL.format(done="t.feedback_at", due="t.feedback_due")
    + " END, "
    + OPEN_DUE_SQL.format(done="t.feedback_at", due="t.feedback_due")
    + """)
) AS part(dim, value, due)
WHERE part.value IS NOT NULL
"""
)

SUGGESTION_PARTS_SQL = (
    """
SELECT c.city_id, (c.created_at AT TIME ZONE '{tz}')::date AS day, part.dim, part.value, part.due,
       {sign} AS n, 0 AS confidential
FROM {suggestions} AS s JOIN {clues} AS c ON c.id = s.clue_id
CROSS JOIN LATERAL (VALUES
    ('suggestions', '', NULL::date),
    ('escalated', CASE WHEN s.escalated_at IS NOT NULL THEN '' END, NULL::date),
    ('reply', """
    + STATE_SQL.format(done="s.reply_at", due="s.reply_due")
    + ", "
    + OPEN_DUE_SQL.format(done="s.reply_at", due="s.reply_due")
    + """)
) AS part(dim, value, due)
WHERE part.value IS NOT NULL
"""
)

KEY = "city_id, day, dim, value, due"


def clue_parts(clues: str, sign: int = 1) -> str:
    return CLUE_PARTS_SQL.format(tz=TZ, clues=clues, sign=sign)


def transfer_parts(transfers: str, clues: str, sign: int = 1) -> str:
    return TRANSFER_PARTS_SQL.format(tz=TZ, transfers=transfers, clues=clues, sign=sign)


def suggestion_parts(suggestions: str, clues: str, sign: int = 1) -> str:
    return SUGGESTION_PARTS_SQL.format(tz=TZ, suggestions=suggestions, clues=clues, sign=sign)


def delta_insert(parts: list[str]) -> str:
    """The statement appending the sum of `parts` (SELECTs of KEY, n, confidential) to the deltas; only
    the clues of a city are counted there (a clue in no city is in no municipal procuratorate's tally)."""
    union = "\n    UNION ALL\n".join(parts)
    return f"""
    INSERT INTO clues_figuredelta ({KEY}, n, confidential)
    SELECT {KEY}, sum(n), sum(confidential) FROM (
    {union}
    ) AS parts
    WHERE city_id IS NOT NULL
    GROUP BY {KEY}
    HAVING sum(n) <> 0 OR sum(confidential) <> 0"""  # noqa: S608 - constant templates


# The triggers (migration clues 0008_figure_tallies). For a clue whose city or day changes (neither does
# in the workflow; a correction might), the parts of its transfers and suggestions move with it: a second
# statement, run only then, since joining the transfers costs more than the rest of the trigger.
KEY_CHANGED = (
    "old_rows o JOIN new_rows n ON n.id = o.id "
    "WHERE o.city_id IS DISTINCT FROM n.city_id OR o.created_at <> n.created_at"
)
CLUE_KEY_CHANGED_OLD = f"(SELECT o.* FROM {KEY_CHANGED})"  # noqa: S608 - constants
CLUE_KEY_CHANGED_NEW = f"(SELECT n.* FROM {KEY_CHANGED})"  # noqa: S608 - constants


def trigger_functions() -> str:
    """Return the SQL creating the three trigger functions and their nine statement-level triggers."""
    moved_with_clue = delta_insert(
        [
            transfer_parts("clues_transfer", CLUE_KEY_CHANGED_OLD, -1),
            transfer_parts("clues_transfer", CLUE_KEY_CHANGED_NEW),
            suggestion_parts("clues_suggestion", CLUE_KEY_CHANGED_OLD, -1),
            suggestion_parts("clues_suggestion", CLUE_KEY_CHANGED_NEW),
        ]
    )
    if_key_changed = f";\n        IF EXISTS (SELECT 1 FROM {KEY_CHANGED}) THEN{moved_with_clue};\n        END IF;"  # noqa: S608
    clue = {
        "INSERT": delta_insert([clue_parts("new_rows")]) + ";",
        "DELETE": delta_insert([clue_parts("old_rows", -1)]) + ";",
        "UPDATE": delta_insert([clue_parts("old_rows", -1), clue_parts("new_rows")]) + if_key_changed,
    }
    transfer = {
        "INSERT": delta_insert([transfer_parts("new_rows", "clues_clue")]) + ";",
        "DELETE": delta_insert([transfer_parts("old_rows", "clues_clue", -1)]) + ";",
        "UPDATE": delta_insert([transfer_parts("old_rows", "clues_clue", -1), transfer_parts("new_rows", "clues_clue")])
        + ";",
    }
    suggestion = {
        "INSERT": delta_insert([suggestion_parts("new_rows", "clues_clue")]) + ";",
        "DELETE": delta_insert([suggestion_parts("old_rows", "clues_clue", -1)]) + ";",
        "UPDATE": delta_insert(
            [suggestion_parts("old_rows", "clues_clue", -1), suggestion_parts("new_rows", "clues_clue")]
        )
        + ";",
    }
    statements = []
    for table, by_operation in (("clues_clue", clue), ("clues_transfer", transfer), ("clues_suggestion", suggestion)):
        function = f"{table}_figure_deltas"
        branches = "\n".join(
            f"    {'IF' if i == 0 else 'ELSIF'} TG_OP = '{operation}' THEN{sql}"
            for i, (operation, sql) in enumerate(by_operation.items())
        )
        statements.append(
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n{branches}\n    END IF;\n    RETURN NULL;\nEND\n$$;"
        )
        for operation, transitions in (
            ("INSERT", "NEW TABLE AS new_rows"),
            # (no column list: PostgreSQL refuses one beside transition tables)
            ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("DELETE", "OLD TABLE AS old_rows"),
        ):
            statements.append(
                f"CREATE TRIGGER {table}_figure_{operation.lower()} AFTER {operation} ON {table} "
                f"REFERENCING {transitions} FOR EACH STATEMENT EXECUTE FUNCTION {function}();"
            )
    return "\n".join(statements)


def trigger_functions_drop() -> str:
    return "\n".join(
        f"DROP FUNCTION IF EXISTS {table}_figure_deltas() CASCADE;"
        for table in ("clues_clue", "clues_transfer", "clues_suggestion")
    )


# Everything counted from the tables themselves (a migration on existing data; the bench after loading).
REBUILD_SQL = f"""
DELETE FROM clues_figuredelta;
DELETE FROM clues_figuretally;
INSERT INTO clues_figuretally ({KEY}, n, confidential)
SELECT {KEY}, sum(n), sum(confidential) FROM (
    {clue_parts("clues_clue")}
    UNION ALL
    {transfer_parts("clues_transfer", "clues_clue")}
    UNION ALL
    {suggestion_parts("clues_suggestion", "clues_clue")}
) AS parts
WHERE city_id IS NOT NULL
GROUP BY {KEY}
"""  # noqa: S608 - constant templates

# Move the deltas into the tally: one transaction, keys in order (two folds at once lock alike). Answers
# how many keys changed and which of their rows now count nothing.
FOLD_SQL = f"""
WITH moved AS (DELETE FROM clues_figuredelta RETURNING {KEY}, n, confidential),
summed AS (SELECT {KEY}, sum(n) AS n, sum(confidential) AS confidential FROM moved GROUP BY {KEY}),
folded AS (
    INSERT INTO clues_figuretally AS tally ({KEY}, n, confidential)
    SELECT {KEY}, n, confidential FROM summed ORDER BY {KEY}
    ON CONFLICT ({KEY}) DO UPDATE
    SET n = tally.n + excluded.n, confidential = tally.confidential + excluded.confidential
    RETURNING tally.id, tally.n, tally.confidential
)
SELECT count(*), coalesce(array_agg(id ORDER BY id) FILTER (WHERE n = 0 AND confidential = 0), '{{}}')
FROM folded
"""  # noqa: S608 - constants
# A key whose every part has gone (all of a day's clues moved on from a status, every open deadline of a
# due date met) counts nothing: its row goes, or the tally would keep one per key ever counted and every
# reader sum them. (Not in FOLD_SQL: a statement cannot delete the rows its own upsert wrote.)
PRUNE_SQL = "DELETE FROM clues_figuretally WHERE id = ANY(%s) AND n = 0 AND confidential = 0"


def tallies_fold() -> int:
    """Move the figures' deltas into their tally, dropping the keys left at nothing; return how many keys
    changed."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(FOLD_SQL)
        changed, empty = cursor.fetchone()
        if empty:
            cursor.execute(PRUNE_SQL, [empty])
    return changed


def tallies_rebuild() -> None:
    """Count the figures' tallies again from the clues, transfers and suggestions."""
    with connection.cursor() as cursor:
        cursor.execute(REBUILD_SQL)
