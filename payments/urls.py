from django.urls import path

from payments import views, webhooks

app_name = "payments"

urlpatterns: list = [
    path("appreciate/<str:ref>/", views.appreciate, name="appreciate"),
    path("thank-you/", views.thank_you, name="thank-you"),
    path("stripe/webhook/", webhooks.stripe_webhook, name="stripe-webhook"),
    path("sandbox/checkout/<str:session_id>/", views.sandbox_checkout, name="sandbox-checkout"),
]
