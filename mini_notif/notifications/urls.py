from django.urls import path

from notifications.apis import NotificationApi

urlpatterns = [
    path("notification", NotificationApi.as_view(), name="notification"),
]
