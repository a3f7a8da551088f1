from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from articles.selectors import sections_in_order


def site(request: HttpRequest) -> dict:
    # Lazy: the admin and other pages that never show the section menu pay no query for it.
    return {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_URL": settings.SITE_URL,
        "nav_sections": SimpleLazyObject(lambda: list(sections_in_order())),
    }
