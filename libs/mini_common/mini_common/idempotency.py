"""Idempotency-Key handling for POST views (IETF httpapi draft, Stripe's practice).

Decorate a DRF view method with ``@idempotent``:

- no key: the view runs as usual;
- first use of a key: the key is claimed (a unique row), the view runs, and its
  final response is stored, success or business failure alike;
- same key and payload after completion: the stored response is replayed with
  ``Idempotent-Replayed: true``;
- same key, other payload: 422 ``idempotency_key_reused``;
- same key while the first is still running: 409 ``request_in_progress``;
- a 400 stores nothing (a corrected retry may reuse the key); a 5xx leaves the
  key claimable again, so that a retry resumes the work.

A key's scope is (calling service, user, method, path, key): the service is the
caller's ``X-Service`` (trusted only with the internal token), "" for a client
through the gateway, which strips that header. So the keys services derive
from business objects (mini_order's ``order-17-payment``) live in a scope no
client can write to: a client sending that key gets a key of its own.

``@idempotent(atomic=True)`` is for views whose only effects are rows of this
service's database (mini_billing's money moves): the work and the stored
response are one transaction, committed together or not at all, and the
response is stored last, in the one INSERT that claims the key: one commit
instead of three, and one round trip less than the usual way. A key already
taken (by an earlier or a concurrent request) fails that INSERT, which rolls
the work back with it; the request then goes the usual way and gets the stored
answer (a concurrent one first waits a few milliseconds for the first to
commit), or 409 while a request that went the usual way holds the key. So the
view may run and be rolled back: anything it does besides rows (a log line, a
metric) belongs in ``transaction.on_commit``.
When the view hits a database error (a rare conflict, such as a second
payment for an order under another key), everything is rolled back and the
request runs again the usual way, where the view's own handling applies.
"""

import functools
import hashlib
import hmac
import json
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, IntegrityError
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from mini_common import metrics
from mini_common.conf import mini_setting
from mini_common.db import request_transaction, savepoint_if_nested
from mini_common.errors import IdempotencyKeyReused, RequestInProgress, ValidationFailed
from mini_common.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"


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


def mark_replayed(request, response: Response) -> Response:
    """Tell the client, and the metrics, that this answer is a replay of an earlier one."""
    response[REPLAYED_HEADER] = "true"
    metrics.idempotent_replay_observed(request)
    return response


def payload_fingerprint(data) -> str:
    """A keyed hash of the canonical payload: bodies may hold passwords, so no plain sha256."""
    canonical = json.dumps(data, cls=JSONEncoder, sort_keys=True, separators=(",", ":"))
    secret = str(settings.SECRET_KEY).encode()
    return hmac.new(secret, canonical.encode(), hashlib.sha256).hexdigest()


def key_scope(*, service: str = "", username: str = "", method: str, path: str, key: str) -> dict:
    """The fields that name one key's record: ``service`` "" is a client through the gateway."""
    return {
        "service": service,
        "username": username,
        "method": method,
        "path": path[:255],
        "key": key,
    }


def request_scope(request, key: str) -> dict:
    """The scope of ``key`` sent with ``request``: its calling service, user, method and path."""
    user = request.user
    return key_scope(
        service=getattr(user, "service", "") or "",
        username=getattr(user, "username", "") or "",
        method=request.method,
        path=request.path,
        key=key,
    )


def claim_key(
    *, service: str = "", username: str, method: str, path: str, key: str, fingerprint: str
):
    """Claim the key for this request; returns the completed record to replay, or None.

    Raises IdempotencyKeyReused or RequestInProgress when the key is not ours.
    """
    now = timezone.now()
    lease = now + timedelta(seconds=mini_setting("IDEMPOTENCY_LEASE"))
    scope = key_scope(service=service, username=username, method=method, path=path, key=key)
    try:
        with savepoint_if_nested():  # one INSERT: the unique constraint decides
            IdempotencyRecord.objects.create(
                **scope,
                fingerprint=fingerprint,
                state=IdempotencyRecord.State.PROCESSING,
                locked_until=lease,
            )
        return None
    except IntegrityError:
        pass

    record = IdempotencyRecord.objects.filter(**scope).first()
    if record is None:  # purged between our insert and this read: try once more
        return claim_key(**scope, fingerprint=fingerprint)
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used with a different request body"
        )
    if record.state == IdempotencyRecord.State.COMPLETED:
        return record
    if record.state == IdempotencyRecord.State.PROCESSING and record.locked_until > now:
        raise RequestInProgress("The first request with this key has not finished yet")

    # A retryable failure, or a holder that died (lease expired): take it over,
    # unless another request does so first.
    taken = IdempotencyRecord.objects.filter(
        pk=record.pk, state=record.state, locked_until=record.locked_until
    ).update(state=IdempotencyRecord.State.PROCESSING, locked_until=lease)
    if not taken:
        raise RequestInProgress("Another request with this key is being processed")
    return None


def release_key(*, scope: dict, response: Response, secret_fields: tuple[str, ...] = ()) -> None:
    """Store the final response, or free the key when the outcome is not final."""
    records = IdempotencyRecord.objects.filter(**scope)
    status = response.status_code
    if status == 400:
        records.delete()
    elif status >= 500:
        records.update(state=IdempotencyRecord.State.RETRYABLE, locked_until=timezone.now())
    else:
        stored = _stored_answer(response, secret_fields)
        records.update(state=IdempotencyRecord.State.COMPLETED, **stored)


def _stored_answer(response: Response, secret_fields: tuple[str, ...] = ()) -> dict:
    body = json.loads(json.dumps(response.data, cls=JSONEncoder))
    if secret_fields and isinstance(body, dict):
        # Never kept: a replay answers without them (tokens: the client logs in).
        body = {name: value for name, value in body.items() if name not in secret_fields}
    return {
        "response_status": response.status_code,
        "response_body": body,
        "response_content_type": response.content_type or "",
    }


def replay(record: IdempotencyRecord) -> Response:
    response = Response(record.response_body, status=record.response_status)
    if record.response_content_type.startswith("application/problem+json"):
        response.content_type = "application/problem+json"
    return response


def _is_final(response: Response) -> bool:
    """A response to store and replay: success or business failure, not a 400 or a 5xx."""
    return response.status_code != 400 and response.status_code < 500


def _call_view(view, request, view_method, args, kwargs) -> Response:
    try:
        return view_method(view, request, *args, **kwargs)
    except DatabaseError:
        raise
    except Exception as exc:  # noqa: BLE001 - rendered like DRF would, then stored
        return view.handle_exception(exc)


class _KeyTaken(Exception):
    """The key's record exists (committed by an earlier or concurrent request)."""


class _Unstored(Exception):
    """A response that must not be stored: its transaction rolls back."""

    def __init__(self, response: Response):
        super().__init__(response.status_code)
        self.response = response


def _run_atomically(
    view, request, view_method, args, kwargs, *, scope, fingerprint, secret_fields
) -> Response:
    """The view, then its stored answer, in one transaction; _KeyTaken if the key is not free."""
    with request_transaction():
        response = _call_view(view, request, view_method, args, kwargs)
        if not _is_final(response):
            raise _Unstored(response)
        try:
            # The key's claim and its answer in one row, last: a taken key undoes the work.
            IdempotencyRecord.objects.create(
                **scope,
                fingerprint=fingerprint,
                state=IdempotencyRecord.State.COMPLETED,
                locked_until=timezone.now(),
                **_stored_answer(response, secret_fields),
            )
        except IntegrityError:
            raise _KeyTaken from None
    return response


def _run_claimed(
    view, request, view_method, args, kwargs, *, scope, fingerprint, secret_fields
) -> Response:
    """Claim in autocommit, run the view (its own transactions), store its answer."""
    stored = claim_key(**scope, fingerprint=fingerprint)
    if stored is not None:
        return mark_replayed(request, replay(stored))
    try:
        response = _call_view(view, request, view_method, args, kwargs)
    except Exception:
        release_key(scope=scope, response=Response(status=500))
        raise
    release_key(scope=scope, response=response, secret_fields=secret_fields)
    return response


def idempotent(view_method=None, *, atomic: bool = False, secret_fields: tuple[str, ...] = ()):
    """Honour the Idempotency-Key header on a DRF view method (see the module's docstring).

    ``secret_fields``: top-level fields of the answer that are never stored, so a
    replay answers without them (mini_auth's tokens: a stored token would be a
    session readable in the database and replayed to whoever repeats the request).
    """
    if view_method is None:
        return functools.partial(idempotent, atomic=atomic, secret_fields=secret_fields)

    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request_key(request)
        if key is None:
            return view_method(self, request, *args, **kwargs)
        run = {
            "scope": request_scope(request, key),
            "fingerprint": payload_fingerprint(request.data),
            "secret_fields": secret_fields,
        }
        if atomic:
            try:
                return _run_atomically(self, request, view_method, args, kwargs, **run)
            except _Unstored as unstored:
                return unstored.response
            except (_KeyTaken, DatabaseError):
                pass  # the usual way finds the stored answer, or runs the view again
        return _run_claimed(self, request, view_method, args, kwargs, **run)

    return wrapper


def purge_expired_keys() -> int:
    cutoff = timezone.now() - timedelta(seconds=mini_setting("IDEMPOTENCY_TTL"))
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
