import time

from rest_framework import serializers

from mini_common.fields import EnumField, StrictCharField
from mini_common.serializers import (
    NAME_SHOWN,
    UNKNOWN_FIELDS_SHOWN,
    QuerySerializer,
    Serializer,
)


class ContextSuffixField(serializers.CharField):
    """Appends the serializer's context["suffix"]: shows which instance a field is bound to."""

    def to_internal_value(self, data):
        return super().to_internal_value(data) + self.context["suffix"]


class Item(Serializer):
    name = ContextSuffixField()


class Basket(Serializer):
    label = StrictCharField(max_length=5)
    kind = EnumField(choices=["A", "B"])
    owner = Item()
    items = Item(many=True)
    tags = serializers.ListField(child=ContextSuffixField())


class DrfBasket(serializers.Serializer):
    label = StrictCharField(max_length=5)
    kind = EnumField(choices=["A", "B"])


def basket(suffix: str, name: str) -> Basket:
    data = {
        "label": "box",
        "kind": "A",
        "owner": {"name": name},
        "items": [{"name": name}],
        "tags": [name],
    }
    return Basket(data=data, context={"suffix": suffix})


def test_each_instance_has_its_own_bound_leaf_fields():
    first, second = Basket(), Basket()
    declared = Basket._declared_fields["label"]
    assert first.fields["label"] is not second.fields["label"]
    assert first.fields["label"].parent is first
    assert second.fields["label"].parent is second
    assert declared.parent is None and declared.field_name is None


def test_nested_lists_and_children_see_their_own_instance_context():
    # Two instances validated in turn: a child shared between them would see the
    # first one's context (or none: it would be bound to the declaration).
    first, second = basket("-1", "x"), basket("-2", "y")
    assert first.is_valid(), first.errors
    assert second.is_valid(), second.errors
    assert first.validated_data["owner"] == {"name": "x-1"}
    assert first.validated_data["items"] == [{"name": "x-1"}]
    assert first.validated_data["tags"] == ["x-1"]
    assert second.validated_data["items"] == [{"name": "y-2"}]
    assert second.validated_data["tags"] == ["y-2"]


def test_validation_is_drfs():
    for data in ({"label": "box", "kind": "A"}, {"label": "toolong", "kind": "C"}, {}):
        ours, drfs = Basket(data=data, partial=True), DrfBasket(data=data, partial=True)
        assert ours.is_valid() == drfs.is_valid()
        assert ours.errors == drfs.errors
        assert dict(ours.validated_data) == dict(drfs.validated_data)


def test_a_refused_value_leaves_the_declaration_unchanged():
    refused = Basket(data={"label": "toolong", "kind": "A"}, partial=True)
    assert not refused.is_valid()
    assert Basket(data={"label": "ok", "kind": "B"}, partial=True).is_valid()
    assert Basket._declared_fields["kind"].parent is None


# --- unknown fields (docs/CONVENTIONS.md, "JSON bodies") --------------------------------


class Order(Serializer):
    ignored_fields = ("id", "status")
    label = StrictCharField(max_length=5)
    owner = Item(required=False)
    items = Item(many=True, required=False)


class Filters(QuerySerializer):
    kind = EnumField(choices=["A", "B"], required=False)


def errors_of(serializer: Serializer) -> dict:
    assert not serializer.is_valid()
    return serializer.errors


def test_an_unknown_field_is_refused_by_name():
    order = Order(data={"label": "box", "lable": "typo"}, context={"suffix": ""})
    assert errors_of(order) == {"lable": ["Unknown field."]}


def test_unknown_fields_of_nested_objects_and_list_items_are_refused_where_they_are():
    data = {"label": "box", "owner": {"name": "x", "nmae": "y"}, "items": [{"name": "x", "n": 1}]}
    errors = errors_of(Order(data=data, context={"suffix": ""}))
    assert errors == {
        "owner": {"nmae": ["Unknown field."]},
        "items": {0: {"n": ["Unknown field."]}},
    }


def test_ignored_fields_are_accepted_and_dropped():
    order = Order(data={"label": "box", "id": 9, "status": "PAID"}, context={"suffix": ""})
    assert order.is_valid(), order.errors
    assert dict(order.validated_data) == {"label": "box"}


def test_a_query_serializer_leaves_other_parameters_alone():
    filters = Filters(data={"kind": "a", "page": "2", "pageSize": "5"})
    assert filters.is_valid(), filters.errors
    assert dict(filters.validated_data) == {"kind": "A"}


def test_a_flood_of_unknown_fields_is_bounded_in_work_and_in_the_answer():
    data = {"label": "box", **{f"junk{n:06d}" + "x" * 200: n for n in range(100_000)}}
    started = time.perf_counter()
    errors = errors_of(Order(data=data, context={"suffix": ""}))
    elapsed = time.perf_counter() - started
    shown = [name for name in errors if name != "non_field_errors"]
    assert len(shown) == UNKNOWN_FIELDS_SHOWN
    assert all(len(name) == NAME_SHOWN + 3 and name.endswith("...") for name in shown)
    assert errors["non_field_errors"] == [
        f"{100_000 - UNKNOWN_FIELDS_SHOWN} more unknown fields are not listed."
    ]
    assert elapsed < 0.5, elapsed  # one pass over the keys (1.5 s for 900 KiB before)
