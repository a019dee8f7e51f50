"""The calling service becomes part of an Idempotency-Key's scope.

Before, the scope was (username, method, path, key), and a service calling for a
user shared the user's scope: a client could send ``order-<next id>-payment``
itself and take the key mini_order would use. Now it is (service, username,
method, path, key), ``service`` being the caller's ``X-Service`` ("" for a
client through the gateway, which strips that header).

Stored keys: a service's call for no user was stored as username
``service:<name>``; it becomes service ``<name>`` and no username, as the code
now writes it. A stored key of a service's call for a user cannot be told from
the user's own (both had the username only): it stays in the client's scope, so
the service's next request with that key runs again instead of being replayed.
That is what the views are built for (the body decides: mini_billing answers an
order's repeated PAYMENT with the recorded payment, mini_user and mini_billing's
creations answer the existing object), and stored keys expire after a day anyway.

Backwards, the keys of a service's calls for a user are dropped (they would
collide with the user's own in the old scope), with the same consequence.
"""

from django.db import migrations, models

SERVICE_PREFIX = "service:"


def service_owners_to_service(apps, schema_editor):
    Record = apps.get_model("mini_common", "IdempotencyRecord")
    for pk, owner in Record.objects.filter(username__startswith=SERVICE_PREFIX).values_list(
        "pk", "username"
    ):
        Record.objects.filter(pk=pk).update(service=owner[len(SERVICE_PREFIX) :], username="")


def service_to_service_owners(apps, schema_editor):
    Record = apps.get_model("mini_common", "IdempotencyRecord")
    Record.objects.exclude(service="").exclude(username="").delete()
    for pk, service in Record.objects.exclude(service="").values_list("pk", "service"):
        Record.objects.filter(pk=pk).update(username=SERVICE_PREFIX + service, service="")


class Migration(migrations.Migration):
    dependencies = [("mini_common", "0001_initial")]

    operations = [
        migrations.RemoveConstraint("idempotencyrecord", "idempotency_scope_unique"),
        migrations.AddField(
            "idempotencyrecord",
            "service",
            models.CharField(max_length=40, blank=True, default=""),
        ),
        migrations.RunPython(service_owners_to_service, service_to_service_owners),
        migrations.AddConstraint(
            "idempotencyrecord",
            models.UniqueConstraint(
                fields=["service", "username", "method", "path", "key"],
                name="idempotency_caller_scope_unique",
            ),
        ),
    ]
