"""Database helpers shared by the services' hot paths."""

from contextlib import nullcontext

from django.db import transaction


def savepoint_if_nested(using: str | None = None):
    """A savepoint inside a transaction; nothing outside one.

    A single INSERT in autocommit mode is its own transaction: wrapping it in
    ``atomic()`` would only add a BEGIN and a COMMIT round trip. Inside a
    caller's transaction, a statement expected to fail (an IntegrityError on a
    unique key) needs a savepoint so that it does not abort that transaction.
    """
    if transaction.get_connection(using).in_atomic_block:
        return transaction.atomic(using=using)
    return nullcontext()
