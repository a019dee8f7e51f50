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


def update_if_unchanged(instance, *, where: dict, **values) -> bool:
    """UPDATE ``instance``'s row to ``values`` if it still matches ``where``; True if it did.

    The instance is brought up to date either way, with no read on success: the
    written values are copied onto it. When the row no longer matched (another
    actor changed it first), it is re-read. ``values`` are plain values, not
    expressions such as ``F()``, since they are copied as they are.
    """
    manager = type(instance)._default_manager
    if not manager.filter(pk=instance.pk, **where).update(**values):
        instance.refresh_from_db()
        return False
    for name, value in values.items():
        setattr(instance, name, value)
    return True
