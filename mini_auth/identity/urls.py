from django.urls import path

from identity.apis import LoginApi, LogoutApi, RefreshApi, RegisterApi, VerifyApi

urlpatterns = [
    path("register", RegisterApi.as_view(), name="auth-register"),
    path("login", LoginApi.as_view(), name="auth-login"),
    path("refresh", RefreshApi.as_view(), name="auth-refresh"),
    path("logout", LogoutApi.as_view(), name="auth-logout"),
    path("verify", VerifyApi.as_view(), name="auth-verify"),
]
