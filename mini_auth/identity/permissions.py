from rest_framework.permissions import BasePermission

from mini_common.errors import NotAuthenticated
from mini_common.middleware import internal_token_valid


class HasInternalToken(BasePermission):
    """The caller holds the deployment's internal token (nginx's auth_request).

    No user or service identity is needed: the identity is what is being checked.
    """

    def has_permission(self, request, view) -> bool:
        if not internal_token_valid(request):
            raise NotAuthenticated("Only the gateway may call this endpoint")
        return True
