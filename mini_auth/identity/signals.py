"""Users are never deleted; tokens die with their user's rights (deactivation, demotion).

A deleted user would leave their profile, account, orders and notifications
in the other services, and their name free for someone else to register and
inherit all of it. So a user is deactivated instead (the admin's action), and
deleting one is refused here, whatever does it (the admin, the ORM, a shell).

A token says who its user is and which roles they had when it was issued;
``verify`` cannot ask the database whether that is still true. So when a
user is deactivated, or stops being staff, a per-user "not valid before"
mark voids every token issued until then (revocation.user_tokens_cutoff).

Signals see changes made through the model (admin, ``save()``, ``delete()``);
a bulk ``QuerySet.update()`` bypasses them: code that deactivates users that
way must call ``user_tokens_cutoff`` itself.
"""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save, pre_delete, pre_save
from django.dispatch import receiver

from identity.revocation import user_tokens_cutoff

User = get_user_model()


@receiver(pre_save, sender=User, dispatch_uid="identity.user_rights_before")
def remember_rights(sender, instance, raw=False, update_fields=None, **kwargs):
    """Note whether this save takes rights away, for ``cut_off_tokens`` below."""
    instance._identity_lost_rights = None
    if raw or instance.pk is None:
        return
    if update_fields is not None and not {"is_active", "is_staff"} & set(update_fields):
        return  # e.g. last_login or a re-hashed password: nothing to compare
    before = sender.objects.filter(pk=instance.pk).values("is_active", "is_staff").first()
    if before is None:
        return
    if before["is_active"] and not instance.is_active:
        instance._identity_lost_rights = "deactivated"
    elif before["is_staff"] and not instance.is_staff:
        instance._identity_lost_rights = "admin role removed"


@receiver(post_save, sender=User, dispatch_uid="identity.user_rights_after")
def cut_off_tokens(sender, instance, created=False, raw=False, **kwargs):
    reason = getattr(instance, "_identity_lost_rights", None)
    instance._identity_lost_rights = None
    if reason and not raw:
        user_tokens_cutoff(username=instance.get_username(), reason=reason)


class UserDeletionRefused(Exception):
    """Users are deactivated, never deleted."""


class UsernameChangeRefused(Exception):
    """A username is the key of the user's records in every service: it never changes."""


@receiver(pre_save, sender=User, dispatch_uid="identity.username_never_changes")
def refuse_username_change(sender, instance, raw=False, update_fields=None, **kwargs):
    # Renaming alice and giving her name to someone else would hand them her
    # account, orders and notifications, which the other services keep by name.
    if raw or instance.pk is None:
        return
    if update_fields is not None and "username" not in update_fields:
        return
    stored = sender.objects.filter(pk=instance.pk).values_list("username", flat=True).first()
    if stored is not None and stored != instance.get_username():
        raise UsernameChangeRefused(f"User {stored!r} keeps their name")


@receiver(pre_delete, sender=User, dispatch_uid="identity.user_never_deleted")
def refuse_user_deletion(sender, instance, **kwargs):
    raise UserDeletionRefused(
        f"User {instance.get_username()!r} is not deleted: deactivate it (is_active = False). "
        "Their records in the other services, and their name, stay theirs."
    )
