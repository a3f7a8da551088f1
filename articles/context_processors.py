from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from django.utils.functional import SimpleLazyObject

from articles.caching import GenerationMemo
from articles.selectors import sections_in_order

# One menu per language; sections change only in the panel, whose saves bump the generation.
_MENUS = GenerationMemo(size=len(settings.LANGUAGES))


def section_menu() -> list[dict[str, str]]:
    """The sections as the header lists them: name and address in the current language."""
    language = translation.get_language()
    return _MENUS.get(
        language,
        lambda: [
            {"name": section.display_name, "url": section.get_absolute_url()}
            for section in sections_in_order()
        ],
    )


def site(request: HttpRequest) -> dict:
    # Lazy: the admin and other pages that never show the section menu never build it.
    return {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_URL": settings.SITE_URL,
        "nav_sections": SimpleLazyObject(section_menu),
    }
