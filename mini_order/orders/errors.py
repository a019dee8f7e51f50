"""This service's additions to the shared error vocabulary (mini_common.errors)."""

from mini_common.errors import ApiError, Conflict


class TotalMismatch(ApiError):
    status_code = 422
    code = "total_mismatch"
    title = "totalCost differs from the sum of the positions"


class PaymentRejected(ApiError):
    """mini_billing refused the payment for a reason other than the balance (e.g. no account)."""

    status_code = 422
    code = "payment_rejected"
    title = "The payment was rejected"


class OrderCancelled(Conflict):
    """A retry found its order cancelled: its payment never happened within the retry window."""

    code = "order_cancelled"
    title = "The order was cancelled"
