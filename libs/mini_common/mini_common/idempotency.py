"""Idempotency-Key: one primitive, ``claim_row``, for every POST that creates or moves something.

The row that holds a key is the key's record. Where the request creates a
domain row that says everything its answer needs (an order, a notification),
that row carries the key; elsewhere (a request whose answer may be a refusal,
such as a PAYMENT over the balance) an ``IdempotencyRecord`` holds the key and
the stored answer, through the ``@idempotent`` view decorator. Either way
``claim_row`` decides, and answers one of:

- CREATED: this request inserted the row (the unique key lets only one INSERT
  win): it does the work;
- FINAL: the key's earlier request finished: its answer is replayed, with
  ``Idempotent-Replayed: true`` (that header means this, and only this,
  everywhere);
- RESUMED: the earlier request left work undone and its lease (``locked_until``)
  has expired (a 5xx, or a process that died): this request takes the row over
  and finishes the work;
- or raises 409 ``request_in_progress`` while the earlier request's lease is
  live, and 422 ``idempotency_key_reused`` when the key came with another request.

A key's scope is (calling service, user, method, path, key): the service is the
caller's ``X-Service`` (trusted only with the internal token), "" for a client
through the gateway, which strips that header. So the keys services derive
from business objects (mini_order's ``order-17-payment``) live in a scope no
client can write to: a client sending that key gets a key of its own.

``@idempotent`` stores the final answer, success or business failure alike; a
400 stores nothing (a corrected retry may reuse the key), and a 5xx leaves the
key claimable at once, so that a retry resumes the work. With
``one_transaction=True`` (views that change nothing but rows of their own
database) the claim, the work and the answer are one transaction.
"""

import enum
import functools
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from mini_common import metrics
from mini_common.conf import mini_setting
from mini_common.db import savepoint_if_nested, update_if_unchanged
from mini_common.errors import IdempotencyKeyReused, RequestInProgress, ValidationFailed
from mini_common.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"

Row = TypeVar("Row")


def validate_key(key: str) -> str:
    if not 1 <= len(key) <= 255 or not all(0x21 <= ord(ch) <= 0x7E for ch in key):
        raise ValidationFailed(
            "Idempotency-Key must be 1-255 printable ASCII characters",
            errors={HEADER: ["Must be 1-255 printable ASCII characters without spaces."]},
        )
    return key


def request_key(request) -> str | None:
    """The request's Idempotency-Key, validated (400 when malformed); None without one."""
    key = request.headers.get(HEADER)
    return None if key is None else validate_key(key)


def calling_service(request) -> str:
    """The service that sent ``request`` (its X-Service), "" for a client through the gateway."""
    return getattr(request.user, "service", "") or ""


def mark_replayed(request, response: Response) -> Response:
    """Tell the client, and the metrics, that this answer is an earlier request's."""
    response[REPLAYED_HEADER] = "true"
    metrics.idempotent_replay_observed(request)
    return response


def payload_fingerprint(data) -> str:
    """A keyed hash of the canonical payload: bodies may hold passwords, so no plain sha256."""
    canonical = json.dumps(data, cls=JSONEncoder, sort_keys=True, separators=(",", ":"))
    secret = str(settings.SECRET_KEY).encode()
    return hmac.new(secret, canonical.encode(), hashlib.sha256).hexdigest()


# --- the primitive -------------------------------------------------------------------------


class Claim(enum.Enum):
    CREATED = "created"  # this request inserted the key's row: it does the work
    RESUMED = "resumed"  # an earlier request left work undone; this one took the row over
    FINAL = "final"  # an earlier request finished: answer what it did (a replay)


@dataclass(frozen=True)
class Claimed(Generic[Row]):
    row: Row
    claim: Claim

    @property
    def replayed(self) -> bool:
        return self.claim == Claim.FINAL


def lease_from(now: datetime, seconds: float | None = None) -> datetime:
    """The end of a lease taken ``now``: IDEMPOTENCY_LEASE seconds unless told otherwise."""
    return now + timedelta(
        seconds=mini_setting("IDEMPOTENCY_LEASE") if seconds is None else seconds
    )


def _insert_or_find(
    create: Callable[[datetime], Row],
    find: Callable[[], Row | None],
    lease: datetime,
    *,
    again: bool = True,
) -> tuple[Row, bool]:
    """The row this INSERT created, or the one that holds the key; and whether it is ours."""
    try:
        with savepoint_if_nested():  # one INSERT: the unique key decides
            return create(lease), True
    except IntegrityError:
        row = find()
        if row is not None:
            return row, False
        if not again:  # no key, or the conflict was another constraint's: a real error
            raise
    # The holder was purged between our INSERT and the read: once more.
    return _insert_or_find(create, find, lease, again=False)


def claim_row(
    *,
    create: Callable[[datetime], Row],
    find: Callable[[], Row | None],
    same_request: Callable[[Row], bool],
    finished: Callable[[Row], bool],
    lease_seconds: float | None = None,
    takeover: Callable[[Row], dict[str, Any]] = lambda row: {},
) -> Claimed[Row]:
    """Insert the row that holds a key, or find the one that does and say what to do with it.

    ``create(lease)`` inserts the row with ``locked_until = lease``; its unique
    key makes a second INSERT raise IntegrityError, and then ``find()`` reads
    the row that holds the key. ``same_request(row)``: the key came with this
    request before (else 422). ``finished(row)``: nothing is left to do, the
    row is the answer. An unfinished row whose lease has expired is taken over
    with one conditional UPDATE of ``locked_until`` (and ``takeover(row)``'s
    plain values), so two retries never resume it both.
    """
    now = timezone.now()
    lease = lease_from(now, lease_seconds)
    row, created = _insert_or_find(create, find, lease)
    if created:
        return Claimed(row, Claim.CREATED)
    if not same_request(row):
        raise IdempotencyKeyReused("This Idempotency-Key was already used with another request")
    if finished(row):
        return Claimed(row, Claim.FINAL)
    held_until = row.locked_until  # type: ignore[attr-defined]
    if held_until is not None and held_until > now:
        raise RequestInProgress("The first request with this key has not finished yet")
    # Work left and nobody on it: take the row over, unless another retry does first.
    if not update_if_unchanged(
        row, where={"locked_until": held_until}, locked_until=lease, **takeover(row)
    ):
        raise RequestInProgress("Another request with this key took it over")
    return Claimed(row, Claim.RESUMED)


# --- @idempotent: the key's record is an IdempotencyRecord with the stored answer ----------


def _record_scope(request, key: str) -> dict[str, str]:
    return {
        "service": calling_service(request),
        "username": getattr(request.user, "username", "") or "",
        "method": request.method,
        "path": request.path[:255],
        "key": key,
    }


def _new_record(scope: dict[str, str], fingerprint: str, lease: datetime) -> IdempotencyRecord:
    return IdempotencyRecord.objects.create(
        **scope,
        fingerprint=fingerprint,
        state=IdempotencyRecord.State.PROCESSING,
        locked_until=lease,
    )


def _record_claim(scope: dict[str, str], fingerprint: str) -> Claimed[IdempotencyRecord]:
    Record = IdempotencyRecord
    return claim_row(
        create=lambda lease: _new_record(scope, fingerprint, lease),
        find=lambda: Record.objects.filter(**scope).first(),
        same_request=lambda record: record.fingerprint == fingerprint,
        finished=lambda record: record.state == Record.State.COMPLETED,
        takeover=lambda record: {"state": Record.State.PROCESSING},
    )


def _record_answer(
    record: IdempotencyRecord, response: Response, secret_fields: tuple[str, ...]
) -> None:
    """Store the final answer; free the key when the outcome is not final."""
    rows = IdempotencyRecord.objects.filter(pk=record.pk)
    status = response.status_code
    if status == 400:
        rows.delete()  # a corrected request may reuse the key
    elif status >= 500:
        rows.update(state=IdempotencyRecord.State.RETRYABLE, locked_until=timezone.now())
    else:
        rows.update(state=IdempotencyRecord.State.COMPLETED, **_stored(response, secret_fields))


def _stored(response: Response, secret_fields: tuple[str, ...]) -> dict:
    body = json.loads(json.dumps(response.data, cls=JSONEncoder))
    if secret_fields and isinstance(body, dict):
        # Never kept: a replay answers without them (tokens: the client logs in).
        body = {name: value for name, value in body.items() if name not in secret_fields}
    return {
        "response_status": response.status_code,
        "response_body": body,
        "response_content_type": response.content_type or "",
    }


def _replay(record: IdempotencyRecord) -> Response:
    response = Response(record.response_body, status=record.response_status)
    if record.response_content_type.startswith("application/problem+json"):
        response.content_type = "application/problem+json"
    return response


def _answer_of(view, request, view_method, args, kwargs) -> Response:
    """The view's answer; an exception rendered as DRF would (a database error is raised)."""
    try:
        return view_method(view, request, *args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - rendered like DRF would, then stored
        return view.handle_exception(exc)


class _KeyTaken(Exception):
    """The key's record exists: an earlier request's, or a concurrent one's now committed."""


class _Undone(Exception):
    """An answer that is not stored (a 400 or a 5xx): its transaction rolls back."""

    def __init__(self, response: Response):
        super().__init__(response.status_code)
        self.response = response


def _in_one_transaction(view, request, view_method, args, kwargs, *, scope, fingerprint, secret):
    """The key's claim, the view's work and its stored answer, committed together or not at all."""
    try:
        with transaction.atomic():
            try:
                # No savepoint: a taken key ends this transaction before any work.
                record = _new_record(scope, fingerprint, lease_from(timezone.now()))
            except IntegrityError:
                raise _KeyTaken from None
            response = _answer_of(view, request, view_method, args, kwargs)
            if response.status_code == 400 or response.status_code >= 500:
                raise _Undone(response)  # the claim goes with the work: the key stays free
            _record_answer(record, response, secret)
    except _Undone as undone:
        return undone.response
    return response


def idempotent(
    view_method=None, *, secret_fields: tuple[str, ...] = (), one_transaction: bool = False
):
    """Honour the Idempotency-Key header on a DRF view method (see the module's docstring).

    The view runs with the key claimed and its answer is stored afterwards; an
    exception is rendered as DRF would render it, then stored like any answer.

    ``one_transaction``: for views whose only effects are rows of this database
    (mini_billing's money moves): the claim, the work and the stored answer are
    one transaction, one commit instead of three. The view's own ``atomic()``
    blocks become savepoints. A concurrent request with the same key waits at
    its claim until the first commits, then gets its answer; a key held
    otherwise is settled by ``claim_row`` as usual.

    ``secret_fields``: top-level fields of the answer that are never stored, so
    a replay answers without them (mini_auth's tokens: a stored token would be
    a session readable in the database and replayed to whoever repeats the request).
    """
    if view_method is None:
        return functools.partial(
            idempotent, secret_fields=secret_fields, one_transaction=one_transaction
        )

    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request_key(request)
        if key is None:
            return view_method(self, request, *args, **kwargs)
        scope = _record_scope(request, key)
        fingerprint = payload_fingerprint(request.data)
        if one_transaction:
            try:
                return _in_one_transaction(
                    self,
                    request,
                    view_method,
                    args,
                    kwargs,
                    scope=scope,
                    fingerprint=fingerprint,
                    secret=secret_fields,
                )
            except _KeyTaken:
                pass  # claim_row finds the key's record: replay, 409, 422 or resume
        claimed = _record_claim(scope, fingerprint)
        if claimed.replayed:
            return mark_replayed(request, _replay(claimed.row))
        try:
            response = _answer_of(self, request, view_method, args, kwargs)
        except Exception:
            # DRF does not render it (a database error): free the key, then fail.
            _record_answer(claimed.row, Response(status=500), secret_fields)
            raise
        _record_answer(claimed.row, response, secret_fields)
        return response

    return wrapper


def purge_expired_keys() -> int:
    cutoff = timezone.now() - timedelta(seconds=mini_setting("IDEMPOTENCY_TTL"))
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
