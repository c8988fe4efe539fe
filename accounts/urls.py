from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("language/", views.set_language, name="set-language"),
]
