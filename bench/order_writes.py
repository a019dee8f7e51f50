"""What mini_order's writes cost in Python through the ORM, against the same SQL by hand.

Run inside mini_order's Django, on its PostgreSQL database, with tracing on as
in the services (it writes orders of the user "bench-writes" and deletes them):

    cd mini_order && DATABASE_URL=postgresql://postgres@127.0.0.1:5432/mini_order \\
        ../.venv/bin/python manage.py shell < ../bench/order_writes.py

It prints the process CPU per operation (the median of 5 rounds of 300,
interleaved, so that a drifting machine moves every line alike). Session 5
measured it to decide whether raw SQL on the order path was worth its cost in
readability and a second code path for SQLite (README, Performance).
"""

import time
import uuid
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from mini_common.tracing import setup_tracing
from orders.models import Order, OrderPosition
from orders.services import order_create

USERNAME = "bench-writes"
POSITIONS = [
    {"product_id": 1, "price": Decimal("2.00"), "quantity": 1},
    {"product_id": 2, "price": Decimal("1.00"), "quantity": 2},
]
# order_create's two INSERTs as one statement (no BEGIN/COMMIT needed).
ORDER_WITH_POSITIONS_SQL = """
WITH o AS (
    INSERT INTO orders_order (username, shop_id, total_cost, status, idempotency_key,
        payment_operation_id, notified_status, locked_until, created_at, updated_at)
    VALUES (%s, '', %s, 'NEW', %s, '', '', %s, %s, %s) RETURNING id)
INSERT INTO orders_orderposition (order_id, product_id, price, quantity)
SELECT o.id, p.product_id, p.price, p.quantity
FROM o, (VALUES (%s::integer, %s::numeric, %s::integer), (%s, %s, %s))
    AS p(product_id, price, quantity)
RETURNING order_id, id
"""


def orm_order_create():
    order_create(
        username=USERNAME,
        positions=POSITIONS,
        total_cost=Decimal("4.00"),
        idempotency_key=uuid.uuid4().hex,
    )


def orm_atomic_block():
    with transaction.atomic():
        Order.objects.filter(pk=-1).exists()


def orm_select():
    Order.objects.filter(pk=-1).exists()


def orm_create():
    Order.objects.create(
        username=USERNAME, total_cost=Decimal("4.00"), idempotency_key="x" + uuid.uuid4().hex
    )


def orm_bulk_create_two_positions():
    OrderPosition.objects.bulk_create(
        OrderPosition(order=target, **position) for position in POSITIONS
    )


def orm_conditional_update():
    Order.objects.filter(pk=target.pk, status="NEW").update(status="NEW", locked_until=None)


def sql_order_with_positions():
    now = timezone.now()
    values = [p[k] for p in POSITIONS for k in ("product_id", "price", "quantity")]
    with connection.cursor() as cursor:
        cursor.execute(
            ORDER_WITH_POSITIONS_SQL,
            [USERNAME, Decimal("4.00"), uuid.uuid4().hex, now, now, now, *values],
        )
        cursor.fetchall()


def sql_conditional_update():
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE orders_order SET status = %s, locked_until = NULL, updated_at = %s "
            "WHERE id = %s AND status = %s",
            ["NEW", timezone.now(), target.pk, "NEW"],
        )


def measure(operations, rounds=5, count=300):
    for operation in operations:  # warm-up: connection, caches
        for _ in range(50):
            operation()
    times = {operation.__name__: [] for operation in operations}
    for _ in range(rounds):
        for operation in operations:
            started = time.process_time()
            for _ in range(count):
                operation()
            times[operation.__name__].append(1000 * (time.process_time() - started) / count)
    return {name: sorted(values)[rounds // 2] for name, values in times.items()}


setup_tracing("mini_order")
target = Order.objects.create(username=USERNAME, total_cost=Decimal("1.00"))
try:
    results = measure(
        [
            orm_order_create,
            sql_order_with_positions,
            orm_atomic_block,
            orm_select,
            orm_create,
            orm_bulk_create_two_positions,
            orm_conditional_update,
            sql_conditional_update,
        ]
    )
    for name, ms in results.items():
        print(f"{name:32} {ms:.3f} ms CPU per operation")
finally:
    Order.objects.filter(username=USERNAME).delete()
