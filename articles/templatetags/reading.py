"""Template helpers for the reading site: hero images, language links, absolute URLs, JSON-LD."""

from django import template
from django.conf import settings
from django.urls import NoReverseMatch
from django.utils import translation
from django.utils.encoding import iri_to_uri
from django.utils.safestring import SafeString

from articles import selectors, services
from articles.caching import reverse_memo
from articles.models import Article
from articles.rendering import json_ld_script

register = template.Library()


@register.inclusion_tag("includes/hero_img.html")
def hero_img(article: Article, sizes: str = "100vw", lazy: bool = True, css_class: str = "") -> dict:
    """<img> with srcset/sizes and intrinsic width/height; `lazy` only for images below the fold."""
    variants = services.article_hero_variants(article=article)
    return {
        "variants": variants,
        "default": variants[-1] if variants else None,
        "alt": article.hero_alt or article.hero_caption,
        "sizes": sizes,
        "lazy": lazy,
        "css_class": css_class,
    }


@register.simple_tag(takes_context=True)
def language_links(context) -> list[dict]:
    """The current page in each language, as plain links (no form, no JS, cacheable per URL)."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    # Encoded as get_full_path() does (translate_url kept the query of the full path).
    query = iri_to_uri(request.META.get("QUERY_STRING", "")) if request else ""
    current = translation.get_language()
    links = []
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            try:
                # The view this request resolved to, reversed in the other language: what
                # translate_url() does, without resolving the path a second time.
                url = reverse_memo(match.view_name, *match.args, **match.kwargs) if match else None
            except NoReverseMatch:
                url = None
            if url is None:
                # Not a page we can translate (a 404, say): offer that language's home page.
                url = reverse_memo("articles:home")
            elif query:
                url = f"{url}?{query}"
        info = translation.get_language_info(code)
        links.append({"code": code, "name": info["name_local"], "url": url, "current": code == current})
    return links


@register.simple_tag
def link(viewname: str, *args: str | int) -> str:
    """`{% url %}` for the reading pages, remembered per process (articles.caching.reverse_memo)."""
    return reverse_memo(viewname, *args)


@register.filter
def absolute(path_or_url: str) -> str:
    return selectors.absolute_url(str(path_or_url))


@register.filter
def json_ld(data: dict) -> SafeString:
    return json_ld_script(data)
