"""Billing's own error codes, on top of mini_common's vocabulary."""

from mini_common.errors import ApiError, Conflict, InsufficientFunds, NotFound

__all__ = [
    "AccountNotFound",
    "BalanceLimitExceeded",
    "InsufficientFunds",
    "PaymentExists",
    "PaymentVoided",
]


class AccountNotFound(NotFound):
    code = "account_not_found"
    title = "Account not found"


class PaymentExists(Conflict):
    code = "payment_exists"
    title = "This order was already paid with another amount or from another account"


class BalanceLimitExceeded(ApiError):
    status_code = 422
    code = "balance_limit_exceeded"
    title = "The balance would exceed its limit"


class PaymentVoided(Conflict):
    """The order was cancelled (its payment declared void) before this PAYMENT arrived."""

    code = "payment_void"
    title = "This order was cancelled: its payment is void"
