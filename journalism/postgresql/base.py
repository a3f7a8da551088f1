"""Django's PostgreSQL backend with a health check that costs no round trip on a quiet connection.

CONN_HEALTH_CHECKS makes Django run `SELECT 1` before the first query of every request that
reuses a persistent connection: on an uncached article page that was one round trip in three,
and a tenth of the page's CPU. An idle connection outside a transaction receives nothing from
the server unless something happened to it: PostgreSQL writes a FATAL error before it closes a
connection (a restart, pg_terminate_backend, idle_session_timeout), and the kernel marks a
closed socket readable. So an idle connection whose socket has nothing to read is used as it
is. Anything to read, a transaction left open or failed, or a socket that cannot be polled
gets Django's own `SELECT 1`, which reconnects without failing the request when the
connection is gone.

What this cannot see is a connection that died without a word reaching it: the database host
rebooted or failed over to another address, a firewall forgot the connection. Django's
`SELECT 1` would get the reset and reconnect; here the request's first query fails instead,
once per process, and Django drops the connection after that request. CONN_MAX_AGE (60 s)
keeps connections younger than the idle timeouts of firewalls and NAT.
"""

import select

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is None or self.connection.closed:
            return False
        if self.connection.info.transaction_status != TransactionStatus.IDLE:
            return super().is_usable()
        try:
            readable, _, _ = select.select([self.connection.fileno()], [], [], 0)
        except (OSError, ValueError, base.Database.Error):
            readable = True
        return not readable or super().is_usable()
