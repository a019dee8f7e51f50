"""mini_auth's own error codes, on top of mini_common's vocabulary."""

from typing import Any

from mini_common.errors import ApiError, Conflict


class UsernameTaken(Conflict):
    code = "username_taken"
    title = "This username is already taken"


class InvalidCredentials(ApiError):
    status_code = 401
    code = "invalid_credentials"
    title = "Invalid username or password"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="mini"'}, **kwargs)


class InvalidToken(ApiError):
    status_code = 401
    code = "invalid_token"
    title = "The token is invalid, expired or revoked"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        super().__init__(
            detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}, **kwargs
        )


class MissingToken(ApiError):
    status_code = 401
    code = "not_authenticated"
    title = "A bearer access token is required"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="mini"'}, **kwargs)
