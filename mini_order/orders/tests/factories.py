from decimal import Decimal

import factory

from orders.models import Order, OrderPosition


class OrderFactory(factory.django.DjangoModelFactory):
    """An order of 2 x product 1 at 150 (total 300); pass ``positions=[...]`` for others."""

    class Meta:
        model = Order
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    total_cost = Decimal("300.00")
    status = Order.Status.NEW

    @factory.post_generation
    def positions(order, create, extracted, **kwargs):
        if not create:
            return
        specs = extracted or [{"product_id": 1, "price": Decimal("150.00"), "quantity": 2}]
        OrderPosition.objects.bulk_create(OrderPosition(order=order, **spec) for spec in specs)
