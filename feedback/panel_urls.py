"""Under /admin/panel/feedback/: behind the panel's login (admin_view), scoped in feedback.panel."""

from django.contrib import admin
from django.urls import path

from feedback import panel

app_name = "feedback_panel"

urlpatterns = [
    path("", admin.site.admin_view(panel.feedback_overview), name="overview"),
    path("<int:pk>/moderate/", admin.site.admin_view(panel.feedback_moderate), name="moderate"),
]
