"""Order.payment_voided: whether mini_billing has recorded the order's payment as void.

Every existing order starts without it, so `reconcile` asks mini_billing once
about each CANCELLED one: its payment declared void now, or, if it was taken
after all, the order made PAID.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0003_shop_id_integer'),
    ]

    operations = [
        migrations.AddField(
            model_name='order',
            name='payment_voided',
            field=models.BooleanField(default=False),
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(condition=models.Q(('payment_voided', False), ('status', 'CANCELLED')), fields=['created_at'], name='order_void_pending_idx'),
        ),
    ]
