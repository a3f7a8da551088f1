from django.urls import path

from feedback import views

app_name = "feedback"

urlpatterns = [
    path("send/<str:ref>/", views.feedback_send, name="send"),
    path("thanks/<str:ref>/", views.feedback_thanks, name="thanks"),
]
