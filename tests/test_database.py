"""The PostgreSQL backend's health check (journalism.postgresql): no round trip on a quiet
connection, Django's `SELECT 1` whenever the connection may be gone."""

import select
import time

import pytest
from django.db import connection, connections

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the backend is PostgreSQL's"),
    pytest.mark.django_db,
]


@pytest.fixture
def other():
    """A second connection to the test database, as a gunicorn worker holds one between requests."""
    wrapper = connections.create_connection("default")
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def _pid(wrapper) -> int:
    return wrapper.connection.info.backend_pid


def _last_statement(wrapper) -> str:
    """What PostgreSQL last ran on that connection, as another session sees it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [_pid(wrapper)])
        return cursor.fetchone()[0]


def _next_request(wrapper) -> int:
    """What a request does to the connection (request_started, then its first query); the pid
    of the server process that answered."""
    wrapper.close_if_unusable_or_obsolete()
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_the_project_backend_is_in_use_with_health_checks():
    assert connection.settings_dict["ENGINE"] == "journalism.postgresql"
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True


def test_a_quiet_connection_is_reused_without_a_round_trip(other):
    pid = _pid(other)
    with other.cursor() as cursor:
        cursor.execute("SELECT 'the last statement'")

    assert other.is_usable()
    assert _last_statement(other) == "SELECT 'the last statement'"
    assert _next_request(other) == pid


def test_a_connection_the_server_closed_is_replaced_before_the_request_uses_it(other):
    pid = _pid(other)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    # The server's FATAL message arrives on the idle socket, as after a restart.
    deadline = time.monotonic() + 5
    while not select.select([other.connection.fileno()], [], [], 0.05)[0]:
        assert time.monotonic() < deadline, "the server did not close the connection"

    assert not other.is_usable()
    new_pid = _next_request(other)
    assert new_pid != pid


def test_a_connection_inside_a_transaction_gets_the_full_check(other):
    other.set_autocommit(False)
    with other.cursor() as cursor:
        cursor.execute("SELECT 'inside a transaction'")

    assert other.is_usable()
    assert _last_statement(other) == "SELECT 1"
    other.rollback()
    other.set_autocommit(True)
