"""OpenAPI description of mini_common's MoneyField (drf-spectacular cannot infer it).

Loaded by OrdersConfig.ready(). Belongs in mini_common once it describes its own fields.
"""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension

from mini_common.money import MAX_AMOUNT


class MoneyFieldSchema(OpenApiSerializerFieldExtension):
    target_class = "mini_common.fields.MoneyField"

    def map_serializer_field(self, auto_schema, direction):
        schema = {"type": "number", "format": "decimal", "maximum": float(MAX_AMOUNT)}
        if direction == "request":
            schema["description"] = (
                "Money: a JSON number or numeric string with at most 2 decimals, "
                f"up to {MAX_AMOUNT}."
            )
        return schema
