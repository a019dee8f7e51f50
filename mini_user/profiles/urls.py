from django.urls import path

from profiles.apis import ProfileCreateApi, ProfileDetailApi

urlpatterns = [
    path("user", ProfileCreateApi.as_view(), name="profile-create"),
    path("user/<str:username>", ProfileDetailApi.as_view(), name="profile-detail"),
]
