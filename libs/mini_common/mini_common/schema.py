"""OpenAPI description of the gateway trust scheme (picked up by drf-spectacular)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class GatewayHeaderScheme(OpenApiAuthenticationExtension):
    target_class = "mini_common.auth.GatewayHeaderAuthentication"
    name = "gatewayIdentity"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Username",
            "description": (
                "Set by the gateway from the JWT (with X-Roles) or by a calling service "
                "(with X-Service); trusted only together with X-Internal-Token. Through the "
                "gateway, send `Authorization: Bearer <accessToken>` instead."
            ),
        }
