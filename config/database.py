"""The web's statement timeout, prepared statements for the hottest queries, and querysets embedded in
hand-written statements.

No request holds a database backend longer than DB_STATEMENT_TIMEOUT_MS.

A web process (config.wsgi, config.asgi) opens every connection with the timeout as a startup option
(web_connections_start_with_timeout): no statement per request sets it, and neither a rollback nor a RESET
undoes it. Elsewhere (tests, the bench's own statements) StatementTimeoutMiddleware sets it for each
request and gives a persistent connection (CONN_MAX_AGE) back to the server's default when the request
ends. Celery workers and management commands (migrate, load_bundle) are neither web processes nor
requests, and run without the short timeout.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse

# PostgreSQL's SQLSTATE for a statement cancelled by statement_timeout (or by pg_cancel_backend).
QUERY_CANCELED = "57014"
RETRY_AFTER_S = 30

SET_TIMEOUT_SQL = "SELECT set_config('statement_timeout', %s, false)"
RESET_TIMEOUT_SQL = "RESET statement_timeout"


def timeout_option(timeout_ms: int) -> str:
    """Return the libpq startup option that runs a connection's statements under `timeout_ms`."""
    return f"-c statement_timeout={int(timeout_ms)}"


def web_connections_start_with_timeout() -> None:
    """Open this process's connections under DB_STATEMENT_TIMEOUT_MS: for web processes only.

    Setting it for each request, and resetting it after, cost two round trips per request (issue 10). As
    a startup option it is the connection's own default: RESET and rolled-back transactions come back to
    it. A connection already open keeps what it had, and the middleware goes on setting it per request.
    """
    timeout_ms = settings.DB_STATEMENT_TIMEOUT_MS
    if timeout_ms:
        _connections_start_with(timeout_option(timeout_ms))


# Web requests are short: starting parallel workers for one cost more than they saved (10 ms of a 20 ms
# clue-list statement, issue 10), and under load they take the cores other requests are waiting for.
SERIAL_OPTION = "-c max_parallel_workers_per_gather=0"


def web_connections_configure() -> None:
    """Open this process's connections as a web process's: under the statement timeout, and without
    parallel workers. Celery workers and management commands keep both (their statements are long)."""
    web_connections_start_with_timeout()
    _connections_start_with(SERIAL_OPTION)


def _connections_start_with(option: str) -> None:
    """Add the libpq startup `option` to this process's connections (those opened from now on), once."""
    options = connections.settings[DEFAULT_DB_ALIAS].setdefault("OPTIONS", {})
    if not _has_option(options.get("options", ""), option):
        options["options"] = f"{options.get('options', '')} {option}".strip()


def started_with_timeout(connection, timeout_ms: int) -> bool:  # noqa: ANN001 - a Django connection, open
    """Return whether `connection` was opened with statement_timeout = `timeout_ms` (a web process's).

    Read from the driver's own record of the connection's parameters (no round trip), not from the
    settings: a connection opened before they changed does not have it.
    """
    parameters = connection.connection.get_dsn_parameters()
    return _has_option(parameters.get("options", ""), timeout_option(timeout_ms))


def _has_option(options: str, option: str) -> bool:
    return f" {option} " in f" {options} "  # whole words: =300 is not =3000


def statement_cancelled(exc: BaseException) -> bool:
    """Return whether `exc` is a database statement cancelled by the server (a timeout)."""
    cause = exc.__cause__
    return isinstance(exc, OperationalError) and getattr(cause, "pgcode", None) == QUERY_CANCELED


class StatementTimeoutMiddleware:
    """Run each request's statements under statement_timeout; a cancelled one answers 503 JSON."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        timeout_ms = settings.DB_STATEMENT_TIMEOUT_MS
        if not timeout_ms:
            return self.get_response(request)
        connection = connections[DEFAULT_DB_ALIAS]
        connection.ensure_connection()
        if started_with_timeout(connection, timeout_ms):
            return self.get_response(request)
        # Session settings go through the driver's connection, as Django's own time zone setting
        # does: they are not the request's queries (nor counted or wrapped as such).
        with connection.connection.cursor() as cursor:
            cursor.execute(SET_TIMEOUT_SQL, [f"{int(timeout_ms)}ms"])
        try:
            return self.get_response(request)
        finally:
            # A connection closed by the request needs no reset. One in a failed transaction refuses it,
            # but that transaction's rollback undoes the setting; one that broke is closed by Django.
            if connection.connection is not None:
                with contextlib.suppress(connection.Database.Error), connection.connection.cursor() as cursor:
                    cursor.execute(RESET_TIMEOUT_SQL)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not statement_cancelled(exception):
            return None
        response = JsonResponse(
            {
                "detail": f"数据库查询超过 {settings.DB_STATEMENT_TIMEOUT_MS} 毫秒被取消，请稍后重试 / the database "
                f"query was cancelled after {settings.DB_STATEMENT_TIMEOUT_MS} ms (DB_STATEMENT_TIMEOUT_MS); "
                "try again later"
            },
            status=503,
        )
        response["Retry-After"] = str(RETRY_AFTER_S)
        return response


@dataclass(frozen=True)
class PreparedStatement:
    """A statement PostgreSQL plans once per connection (PREPARE), then only executes.

    For a statement whose planning costs more than running it (routing's: 1.5 ms of planning for 1 ms
    of work, issue 10). `sql` uses $1, $2… for the parameters, of `types`. Prepared statements belong to
    the session, not the transaction: a rollback keeps them, a new connection prepares again.
    """

    name: str
    types: tuple[str, ...]
    sql: str

    def execute(self, cursor, params: Sequence) -> None:  # noqa: ANN001 - Django's cursor wrapper
        database = cursor.db
        prepared = database.__dict__.setdefault("prepared_statements", {})
        if prepared.get(self.name) is not database.connection:
            cursor.execute(f"PREPARE {self.name} ({', '.join(self.types)}) AS {self.sql}")
            prepared[self.name] = database.connection
        placeholders = ", ".join(["%s"] * len(self.types))
        cursor.execute(f"EXECUTE {self.name} ({placeholders})", list(params))  # noqa: S608 - a constant name


def embedded_sql(queryset, prefix: str = "q") -> tuple[str, dict]:  # noqa: ANN001 - a QuerySet
    """Return `queryset`'s SQL with named placeholders (`prefix`0, `prefix`1…) and their values, to embed in
    a statement whose own parameters are named: Django writes %s, and the two kinds cannot be mixed."""
    sql, params = queryset.query.sql_with_params()
    names = [f"{prefix}{index}" for index in range(len(params))]
    named = sql.replace("%%", "%%%%") % tuple(f"%({name})s" for name in names)
    return named, dict(zip(names, params, strict=True))
