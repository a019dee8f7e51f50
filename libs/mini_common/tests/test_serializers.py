from rest_framework import serializers

from mini_common.fields import EnumField, StrictCharField
from mini_common.serializers import Serializer


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
