"""Under /admin/panel/funnel/: behind the panel's login (admin_view), scoped in funnel.panel."""

from django.contrib import admin
from django.urls import path

from funnel import panel

app_name = "funnel_panel"

urlpatterns = [
    path("", admin.site.admin_view(panel.funnel_overview), name="overview"),
]
