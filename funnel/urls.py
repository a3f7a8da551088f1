from django.urls import path, re_path

from funnel import views

app_name = "funnel"

urlpatterns = [
    path("b/", views.beacon, name="beacon"),
    re_path(r"^v/(?P<article_id>[0-9]{1,19})\.gif$", views.pixel, name="pixel"),
]
