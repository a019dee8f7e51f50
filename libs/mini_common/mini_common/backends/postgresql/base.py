"""Django's PostgreSQL backend with a health check that costs no round trip.

A persistent connection (``CONN_MAX_AGE``) may have been closed by the server
since the last request: PostgreSQL restarted, or an administrator terminated
the backend. Django's ``CONN_HEALTH_CHECKS`` finds out with a ``SELECT 1`` at
the start of every request that uses the database, one more round trip on each
hop of an order.

An idle connection has nothing to read: the server speaks only when asked,
except to say that it is closing the connection (an error message, then
end of stream). So a readable socket at the start of a request means the
connection is gone, and Django replaces it before the request's first query.
A network path that dies silently is caught by neither check: the query then
fails and the next request opens a new connection.
"""

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is None or self.connection.closed:
            return False
        readable, _, _ = select.select([self.connection.fileno()], [], [], 0)
        return not readable
