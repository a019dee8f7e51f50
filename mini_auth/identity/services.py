"""Registration: a user, then their profile (mini_user) and account (mini_billing).

The user row and its Registration (the recovery point) are committed together
before any remote call, with the user inactive. Each remote step is
idempotent on the other side and recorded here once it succeeded; the user is
activated only when both did. A failure anywhere leaves a PENDING registration
that the same request repeated, or ``reconcile``, carries on from where it
stopped, so no half-registered user can ever log in.

Users are never deleted (``signals``), so a name once registered stays taken
here. The other services may still hold records of a name whose user was
deleted before that was so: a step that finds an earlier owner's profile or
account ends the registration FAILED, for good, instead of handing that
owner's money and history to the newcomer.
"""

import logging
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from identity import remote
from identity.errors import UsernameTaken
from identity.models import Registration
from mini_common.errors import ApiError, NotFound, ValidationFailed

logger = logging.getLogger("identity.registration")

User = get_user_model()


def user_register(
    *,
    username: str,
    password: str,
    email: str,
    phone: str = "",
    first_name: str = "",
    last_name: str = "",
) -> Registration:
    """Register a user, or finish the same pending registration; returns it COMPLETE.

    Raises ValidationFailed (weak password), UsernameTaken, DependencyUnavailable.
    """
    contact = {"email": email, "phone": phone, "first_name": first_name, "last_name": last_name}
    registration = registration_begin(username=username, password=password, contact=contact)
    return registration_complete(registration=registration)


def password_check(*, password: str, username: str, email: str) -> None:
    """Django's password validators, with the user's own attributes for the similarity check."""
    try:
        validate_password(password, user=User(username=username, email=email))
    except DjangoValidationError as exc:
        raise ValidationFailed(
            "The password is too weak", errors={"password": list(exc.messages)}
        ) from exc


def registration_begin(*, username: str, password: str, contact: dict[str, str]) -> Registration:
    """Create the inactive user and its PENDING registration, or find the same pending one."""
    password_check(password=password, username=username, email=contact["email"])
    existing = _resumable_registration(username=username, password=password, contact=contact)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            user = User(username=username, is_active=False)
            user.set_password(password)
            user.save()
            return Registration.objects.create(user=user, username=username, **contact)
    except IntegrityError:
        # Someone registered the same name (in any letter case) a moment ago.
        existing = _resumable_registration(username=username, password=password, contact=contact)
        if existing is None:
            raise UsernameTaken() from None
        return existing


def _resumable_registration(
    *, username: str, password: str, contact: dict[str, str]
) -> Registration | None:
    """None when the name is free; the registration when this is the same request
    repeated (same name, password and contact data, still PENDING); else UsernameTaken."""
    users = list(User.objects.filter(username__iexact=username).select_related("registration")[:2])
    if not users:
        return None
    user = next((candidate for candidate in users if candidate.username == username), None)
    registration = getattr(user, "registration", None)
    if (
        registration is None
        or registration.status != Registration.Status.PENDING
        or registration.contact != contact
        or not user.check_password(password)
    ):
        raise UsernameTaken()
    return registration


def registration_complete(*, registration: Registration) -> Registration:
    """Run the steps still missing, from the recovery point on; safe to repeat any time."""
    if registration.status == Registration.Status.COMPLETE:
        return registration
    if registration.status == Registration.Status.FAILED:
        raise UsernameTaken(registration.last_error.partition(": ")[2] or None)
    Registration.objects.filter(pk=registration.pk).update(
        attempts=F("attempts") + 1, updated_at=timezone.now()
    )
    step = {"username": registration.username, "registration_key": str(registration.key)}
    try:
        if not registration.profile_created:
            remote.profile_create(**step, **registration.contact)
            _record_step(registration, profile_created=True)
        if not registration.account_created:
            remote.account_create(**step)
            _record_step(registration, account_created=True)
    except ApiError as exc:
        # An earlier owner's records under the name end the registration for good;
        # anything else stops it where it is, for a retry or reconcile.
        final = {"status": Registration.Status.FAILED} if isinstance(exc, UsernameTaken) else {}
        _record_step(registration, last_error=f"{exc.code}: {exc.detail}"[:255], **final)
        logger.warning(
            "registration of %s %s: %s %s",
            registration.username,
            "failed for good" if final else "stopped",
            exc.code,
            exc.detail,
            extra={"registration": registration.pk, "code": exc.code},
        )
        raise
    return _activate(registration)


def _record_step(registration: Registration, **changes: object) -> None:
    """Commit one step's outcome at once: it is the new recovery point."""
    Registration.objects.filter(pk=registration.pk).update(**changes, updated_at=timezone.now())
    for name, value in changes.items():
        setattr(registration, name, value)


def _activate(registration: Registration) -> Registration:
    now = timezone.now()
    with transaction.atomic():
        User.objects.filter(pk=registration.user_id).update(is_active=True)
        Registration.objects.filter(pk=registration.pk).update(
            status=Registration.Status.COMPLETE, completed_at=now, last_error="", updated_at=now
        )
    registration.status = Registration.Status.COMPLETE
    registration.completed_at = now
    registration.last_error = ""
    registration.user.is_active = True
    logger.info("registration of %s complete", registration.username)
    return registration


def registration_resume(*, username: str) -> Registration:
    """Finish the registration of ``username`` if it is pending (the recovery job's unit)."""
    registration = Registration.objects.select_related("user").filter(username=username).first()
    if registration is None:
        raise NotFound(f"No registration for {username!r}")
    return registration_complete(registration=registration)


@dataclass
class ReconcileSummary:
    pending: int = 0
    completed: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # username -> error code


def registrations_reconcile() -> ReconcileSummary:
    """Complete every PENDING registration; safe to run any time, any number of times."""
    summary = ReconcileSummary()
    usernames = Registration.objects.filter(status=Registration.Status.PENDING).order_by(
        "created_at", "id"
    )
    for username in usernames.values_list("username", flat=True):
        summary.pending += 1
        try:
            registration_resume(username=username)
        except ApiError as exc:
            summary.failed[username] = exc.code
        except Exception:  # noqa: BLE001 - one broken registration must not stop the job
            logger.exception("reconcile of registration %s failed", username)
            summary.failed[username] = "internal_error"
        else:
            summary.completed += 1
    return summary
