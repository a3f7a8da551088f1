"""The admin app with our site class, kept apart from payments.panel.

INSTALLED_APPS imports this module before models are ready, so it must not import
payments.panel (which needs models); `default_site` is imported lazily by Django.
"""

from django.contrib.admin.apps import AdminConfig


class PanelAdminConfig(AdminConfig):
    default_site = "payments.panel.PanelSite"
