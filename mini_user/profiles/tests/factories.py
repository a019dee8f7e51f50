import factory

from profiles.models import Profile


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Profile

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda p: f"{p.username}@example.com")
    phone = "+1 555 0100"
    first_name = "Ada"
    last_name = "Lovelace"
