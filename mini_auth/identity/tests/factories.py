import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from identity.models import Registration

PASSWORD = "Correct-Horse-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password(PASSWORD)
    is_active = True


class RegistrationFactory(factory.django.DjangoModelFactory):
    """A finished registration (its user active); pass ``pending=True`` for one mid-way."""

    class Meta:
        model = Registration

    class Params:
        pending = factory.Trait(
            status=Registration.Status.PENDING,
            profile_created=False,
            account_created=False,
            completed_at=None,
            user=factory.SubFactory(UserFactory, is_active=False),
        )

    user = factory.SubFactory(UserFactory)
    username = factory.SelfAttribute("user.username")
    email = factory.LazyAttribute(lambda r: f"{r.username}@example.com")
    first_name = "Ada"
    status = Registration.Status.COMPLETE
    profile_created = True
    account_created = True
    completed_at = factory.LazyFunction(timezone.now)
