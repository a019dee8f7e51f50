"""An ORDER or PAYMENT parent id is a number: stored as its canonical digits.

The API now answers these ids as JSON integers and filters by their canonical
text, so an id stored with leading zeros ("007") becomes "7". Other stored
values (usernames of USER parents, and any non-numeric id) are kept as they are.
"""

from django.db import migrations

NUMBERED_PARENTS = ("ORDER", "PAYMENT")


def canonical_parent_ids(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    padded = Notification.objects.filter(
        parent_type__in=NUMBERED_PARENTS, parent_id__regex=r"^0[0-9]+$"
    )
    changed = []
    for notification in padded.only("pk", "parent_id").iterator(chunk_size=1000):
        notification.parent_id = str(int(notification.parent_id))
        changed.append(notification)
    Notification.objects.bulk_update(changed, ["parent_id"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]

    operations = [migrations.RunPython(canonical_parent_ids, migrations.RunPython.noop)]
