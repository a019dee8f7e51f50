from decimal import Decimal

import factory

from billing.models import Account, Operation
from billing.services import operation_perform


class AccountFactory(factory.django.DjangoModelFactory):
    """An account; ``deposit=...`` funds it through the service, so the ledger stays consistent."""

    class Meta:
        model = Account
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")

    @factory.post_generation
    def deposit(account, create, amount, **kwargs):  # noqa: N805 - factory_boy's signature
        if create and amount:
            operation_perform(
                username=account.username,
                operation_type=Operation.Type.DEPOSIT,
                amount=Decimal(amount),
            )
