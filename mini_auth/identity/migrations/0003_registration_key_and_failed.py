"""Registration.key (one UUID per registration, for its steps' Idempotency-Keys) and FAILED.

A unique UUID needs a value per existing row: the column is added empty,
filled row by row, then made unique and required.
"""

import uuid

from django.db import migrations, models


def give_each_registration_a_key(apps, schema_editor):
    Registration = apps.get_model("identity", "Registration")
    for registration in Registration.objects.filter(key__isnull=True).only("pk").iterator():
        Registration.objects.filter(pk=registration.pk).update(key=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("identity", "0002_token_families_and_cutoffs")]

    operations = [
        migrations.AddField(
            model_name="registration",
            name="key",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.RunPython(give_each_registration_a_key, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="registration",
            name="key",
            field=models.UUIDField(default=uuid.uuid4, unique=True, editable=False),
        ),
        migrations.AlterField(
            model_name="registration",
            name="status",
            field=models.CharField(
                choices=[("PENDING", "Pending"), ("COMPLETE", "Complete"), ("FAILED", "Failed")],
                default="PENDING",
                max_length=16,
            ),
        ),
    ]
