from django.urls import path

from outbox import views

app_name = "outbox"
urlpatterns = [
    path("", views.outbox_list, name="message-list"),
    path("<int:pk>/html/", views.outbox_html, name="message-html"),
    path("<int:pk>/attachment/", views.outbox_attachment, name="message-attachment"),
]
