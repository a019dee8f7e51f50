"""Database helpers shared by the services' hot paths."""

from contextlib import contextmanager, nullcontext
from contextvars import ContextVar

from django.db import transaction

# True inside request_transaction(): a database error there re-runs the request.
_request_rerun_on_error: ContextVar[bool] = ContextVar("request_rerun_on_error", default=False)


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


@contextmanager
def request_transaction(using: str | None = None):
    """One transaction around a whole request whose caller re-runs it on a database error.

    ``@idempotent(atomic=True)`` opens it: the work, and the key's claim with
    its answer, commit together. Since a database error rolls everything
    back and the request runs again the usual way, the blocks inside need no
    savepoints of their own (see ``atomic_step``).
    """
    token = _request_rerun_on_error.set(True)
    try:
        with transaction.atomic(using=using):
            yield
    finally:
        _request_rerun_on_error.reset(token)


def atomic_step(using: str | None = None):
    """``transaction.atomic()`` for one write of a service, savepoint included when nested,
    except inside ``request_transaction()``, whose rollback and re-run replace it.

    Saves the SAVEPOINT and RELEASE round trips on the hot path. A caller that
    catches an error raised inside this block may only use the database again
    outside ``request_transaction()``; inside it, the next query raises
    TransactionManagementError, which ends in the re-run.
    """
    return transaction.atomic(using=using, savepoint=not _request_rerun_on_error.get())


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
