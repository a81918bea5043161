"""config.database.PreparedStatement: planned once per connection, prepared again on a new one."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from config.database import PreparedStatement

PLUS_ONE = PreparedStatement("test_plus_one", ("int",), "SELECT $1 + 1")


def run(value: int) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries, connection.cursor() as cursor:
        PLUS_ONE.execute(cursor, [value])
        (answer,) = cursor.fetchone()
    return answer, [query["sql"].split()[0] for query in queries]


@pytest.mark.django_db(transaction=True)
def test_prepared_once_per_connection_and_again_after_a_reconnect():
    assert run(1) == (2, ["PREPARE", "EXECUTE"])
    assert run(41) == (42, ["EXECUTE"])
    # A rolled-back transaction keeps the session's prepared statements.
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        run(2)
        1 / 0  # noqa: B018 - the rollback is the point
    assert run(2) == (3, ["EXECUTE"])
    connection.close()
    assert run(3) == (4, ["PREPARE", "EXECUTE"])
