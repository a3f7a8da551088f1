"""Jinja2 for the pages readers see (templates/jinja2/); the panel and emails keep Django templates.

Jinja2 compiles a template to Python: the Django template language was about half of an
uncached article page, mostly per-variable work (lookups, localisation, escaping).

Texts are translated with `_("...")` (with `|format(name=...)` for values), which Django's
`makemessages` extracts from these files as it does from Django templates; plurals are made in
Python with ngettext. Values are escaped on output, as in Django templates.
"""

import datetime
import functools
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.template import defaultfilters
from django.templatetags.static import static
from django.urls import NoReverseMatch
from django.utils import timezone, translation
from django.utils.encoding import iri_to_uri
from django.utils.safestring import SafeString
from jinja2 import Environment

from articles import selectors, services
from articles.caching import reverse_in, reverse_memo
from articles.images import Variant
from articles.models import Article
from articles.rendering import json_ld_script


@functools.lru_cache(maxsize=256)
def static_memo(path: str) -> str:
    """A static file's URL, looked up once per process. With hashed names each lookup in the
    manifest cost about 20 µs, and a page links half a dozen files; the manifest is read once
    when the process starts, so the URLs cannot change while it runs."""
    return static(path)


@receiver(setting_changed)
def _static_settings_changed(*, setting: str, **kwargs: Any) -> None:
    # Tests that switch the storage (hashed names, another STATIC_URL) get the new URLs; DEBUG
    # decides whether the manifest's hashed names are used at all.
    if setting in {"STATIC_URL", "STATIC_ROOT", "STORAGES", "DEBUG"}:
        static_memo.cache_clear()


def hero_variants(article: Article) -> list[Variant]:
    return services.article_hero_variants(article=article)


def language_links(request: HttpRequest | None) -> list[dict[str, Any]]:
    """The current page in each language, as plain links (no form, no JS, cacheable per URL);
    each language's home page when rendered without a request."""
    if not isinstance(request, HttpRequest):  # Jinja2's Undefined when there is none
        request = None
    match = getattr(request, "resolver_match", None)
    # Encoded as get_full_path() does (translate_url kept the query of the full path).
    query = iri_to_uri(request.META.get("QUERY_STRING", "")) if request else ""
    current = translation.get_language()
    links = []
    for code, _name in settings.LANGUAGES:
        try:
            # The view this request resolved to, reversed in the other language: what
            # translate_url() does, without resolving the path a second time.
            url = reverse_in(code, match.view_name, *match.args, **match.kwargs) if match else None
        except NoReverseMatch:
            url = None
        if url is None:
            # Not a page we can translate (a 404, say): offer that language's home page.
            url = reverse_in(code, "articles:home")
        elif query:
            url = f"{url}?{query}"
        info = translation.get_language_info(code)
        links.append({"code": code, "name": info["name_local"], "url": url, "current": code == current})
    return links


def absolute(path_or_url: str) -> str:
    return selectors.absolute_url(str(path_or_url))


def date(value, format_string: str) -> str:
    """Django's `date` filter, given an aware datetime in the current time zone as Django
    templates give it; month names in the current language, "" for None or ""."""
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
        if format_string == "c":
            # What the "c" format gives (ISO 8601), without a formatter: three per article page.
            return value.isoformat()
    return defaultfilters.date(value, format_string)


def json_ld(data: dict) -> SafeString:
    return json_ld_script(data)


def environment(**options: Any) -> Environment:
    from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field

    from payments.widget import appreciation_widget

    # Readers' text reaches these pages: escaping is not an option (Django's default is the same).
    options.pop("autoescape", None)
    env = Environment(autoescape=True, **options)
    env.globals.update(
        _=translation.gettext,
        static=static_memo,
        link=reverse_memo,
        language_links=language_links,
        hero_variants=hero_variants,
        appreciation_widget=appreciation_widget,
    )
    env.filters.update(
        absolute=absolute,
        as_crispy_field=as_crispy_field,
        date=date,
        json_ld=json_ld,
        linebreaksbr=defaultfilters.linebreaksbr,
        truncatewords=defaultfilters.truncatewords,
    )
    return env
