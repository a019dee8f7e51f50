"""Data migrations: stored notifications keep their meaning."""

import pytest

from mini_common.testing import migrated_to, migrations_restored  # noqa: F401 (fixture)


@pytest.mark.usefixtures("migrations_restored")
def test_numbered_parent_ids_lose_their_leading_zeros_and_usernames_stay():
    old = migrated_to("notifications", "0001_initial").get_model("notifications", "Notification")
    rows = [("ORDER", "007"), ("PAYMENT", "0"), ("ORDER", "17"), ("USER", "007"), ("ORDER", "")]
    ids = [
        old.objects.create(
            notification_type="INFO", parent_type=kind, parent_id=parent, username="u1", text="t"
        ).pk
        for kind, parent in rows
    ]

    new = migrated_to("notifications", "0002_parent_id_canonical")

    stored = dict(
        new.get_model("notifications", "Notification").objects.values_list("pk", "parent_id")
    )
    assert [stored[pk] for pk in ids] == ["7", "0", "17", "007", ""]
