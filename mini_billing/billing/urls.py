from django.urls import path

from billing.apis import (
    AccountBalanceApi,
    AccountCreateApi,
    AccountFullApi,
    OperateApi,
    OperationListApi,
    PaymentVoidApi,
)

urlpatterns = [
    path("account/new", AccountCreateApi.as_view(), name="account-new"),
    path("account/balance", AccountBalanceApi.as_view(), name="account-balance"),
    path("account/full", AccountFullApi.as_view(), name="account-full"),
    path("account/operations", OperationListApi.as_view(), name="account-operations"),
    path("account/operate", OperateApi.as_view(), name="account-operate"),
    path("payment/void", PaymentVoidApi.as_view(), name="payment-void"),
]
