from django.contrib.auth.models import AbstractBaseUser

ROLE_USER = "user"
ROLE_ADMIN = "admin"
KNOWN_ROLES = (ROLE_USER, ROLE_ADMIN)  # also the order in X-Roles


def user_roles(*, user: AbstractBaseUser) -> list[str]:
    """The roles a token carries: everyone is a user, staff are also admins."""
    return [ROLE_USER, ROLE_ADMIN] if getattr(user, "is_staff", False) else [ROLE_USER]
