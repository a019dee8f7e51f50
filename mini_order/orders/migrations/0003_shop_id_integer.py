"""shopId becomes an integer, as the IDL types it.

The text column is replaced by an integer one. A stored shop id made of decimal
digits within the integer range keeps its value; any other (a name such as
"shop-7", which the IDL never allowed) has no integer meaning and becomes null,
as does the blank that stood for "none".
"""

import re

from django.db import migrations, models
from django.db.models import Q

MAX_SHOP_ID = 2_147_483_647
DIGITS = re.compile(r"[0-9]{1,10}\Z")
BATCH = 1000


def shop_ids_to_numbers(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    rows = Order.objects.exclude(shop_id_text="").values_list("pk", "shop_id_text")
    changed = []
    for pk, text in rows.iterator(chunk_size=BATCH):
        number = int(text) if DIGITS.match(text) else None
        if number is not None and 1 <= number <= MAX_SHOP_ID:
            changed.append(Order(pk=pk, shop_id=number))
    Order.objects.bulk_update(changed, ["shop_id"], batch_size=BATCH)


def shop_ids_to_text(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    rows = Order.objects.exclude(shop_id=None).values_list("pk", "shop_id")
    changed = [Order(pk=pk, shop_id_text=str(number)) for pk, number in rows.iterator()]
    Order.objects.bulk_update(changed, ["shop_id_text"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [("orders", "0002_order_lease")]

    operations = [
        migrations.RenameField("order", "shop_id", "shop_id_text"),
        migrations.AddField("order", "shop_id", models.IntegerField(null=True, blank=True)),
        migrations.RunPython(shop_ids_to_numbers, shop_ids_to_text),
        migrations.RemoveField("order", "shop_id_text"),
        migrations.AddConstraint(
            "order",
            models.CheckConstraint(
                condition=Q(shop_id__isnull=True) | Q(shop_id__gte=1), name="order_shop_positive"
            ),
        ),
    ]
