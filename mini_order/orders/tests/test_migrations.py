"""Data migrations: stored orders keep their meaning across a change of type."""

from decimal import Decimal

import pytest

from mini_common.testing import migrated_to, migrations_restored  # noqa: F401 (fixture)

BEFORE, AFTER = "0002_order_lease", "0003_shop_id_integer"


@pytest.mark.usefixtures("migrations_restored")
def test_text_shop_ids_become_integers_and_names_become_null():
    old = migrated_to("orders", BEFORE).get_model("orders", "Order")
    texts = ["7", "0012", "", "shop-7", "0", "99999999999", "2147483647"]
    ids = [
        old.objects.create(username="alice", shop_id=text, total_cost=Decimal("1.00")).pk
        for text in texts
    ]

    new = migrated_to("orders", AFTER).get_model("orders", "Order")

    shop_ids = dict(new.objects.values_list("pk", "shop_id"))
    assert [shop_ids[pk] for pk in ids] == [7, 12, None, None, None, None, 2147483647]


@pytest.mark.usefixtures("migrations_restored")
def test_the_migration_reverses_to_text():
    migrated_to("orders", AFTER).get_model("orders", "Order").objects.create(
        username="alice", shop_id=7, total_cost=Decimal("1.00")
    )
    old = migrated_to("orders", BEFORE).get_model("orders", "Order")
    assert list(old.objects.values_list("shop_id", flat=True)) == ["7"]
