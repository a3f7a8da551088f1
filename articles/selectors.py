"""Reads for the reading site: absolute URLs and the metadata search engines and social sites use."""

import functools
import re
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone, translation

from articles import rows
from articles.images import Variant
from articles.models import Article, Author, Section
from payments.selectors import StoredSupporters, stored_supporters_sql

# What Article.slug (a SlugField) or a primary key can look like.
_REF = re.compile(r"[-a-zA-Z0-9_]{1,220}")


def appreciable_article(ref: str) -> Article:
    """A published article that shows the widget, by slug or pk from the URL (never from a POST); else 404."""
    if not _REF.fullmatch(ref):
        # Not a slug or pk: never reaches the database (a NUL byte would make PostgreSQL raise).
        raise Http404
    articles = Article.objects.published().filter(appreciation_enabled=True).select_related("author")
    # isdigit() is true for "²" and "٣", which int() refuses or reads as another number.
    lookup = {"pk": int(ref)} if ref.isascii() and ref.isdecimal() and len(ref) < 19 else {"slug": ref}
    return get_object_or_404(articles, **lookup)


# An article page reads one row of these three tables, in this order.
_ARTICLE_PAGE: rows.Models = (Article, Section, Author)


@functools.cache
def _article_page_sql() -> str:
    """Article.objects.published().select_related("section", "author").filter(slug=...), written
    out once (articles.rows): compiling it took the ORM longer than PostgreSQL took to answer."""
    slug, status, published_at = (rows.column(Article, name) for name in ("slug", "status", "published_at"))
    # With the supporters the widget shows, as last stored (payments.models.SupporterSummary).
    supporters, supporters_join = stored_supporters_sql(rows.column(Article, "id"))
    return (
        f"SELECT {rows.columns(_ARTICLE_PAGE)}, {supporters} FROM {rows.table(Article)}"  # noqa: S608 - names from the models; values are bound
        f"{rows.join(Article.section)}{rows.join(Article.author)}{supporters_join}"
        f" WHERE {slug} = %s AND {status} = %s AND {published_at} <= %s"
    )


def published_article(slug: str) -> Article:
    """The published article with this slug, its section and author loaded with it; else 404."""
    with connection.cursor() as cursor:
        cursor.execute(_article_page_sql(), [slug, Article.Status.PUBLISHED, timezone.now()])
        row = cursor.fetchone()
    if row is None:
        raise Http404
    *fields, version, count, newest = row
    article, section, author = rows.instances(fields, _ARTICLE_PAGE)
    rows.attach(article, Article.section, section)
    rows.attach(article, Article.author, author)
    # For the widget (payments.widget), which would otherwise count them.
    article.stored_supporters = StoredSupporters(version, count, newest)
    return article


def absolute_url(path_or_url: str) -> str:
    """SITE_URL + path; URLs that are already absolute (a media CDN) pass unchanged."""
    if path_or_url.startswith(("http://", "https://")):
        return path_or_url
    return settings.SITE_URL + path_or_url


def article_canonical_path(article: Article) -> str:
    """An article's one true address is in its own language: Dutch at /, English under /en/."""
    return article.get_absolute_url(article.language)


def article_canonical_url(article: Article) -> str:
    return absolute_url(article_canonical_path(article))


def article_structured_data(*, article: Article, hero: list[Variant], url: str) -> dict[str, Any]:
    """schema.org NewsArticle, as search engines read it; `url`: article_canonical_url()."""
    author = article.author
    with translation.override(article.language):
        author_url = absolute_url(author.get_absolute_url())
        section_name = article.section.display_name
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title,
        "description": article.lede,
        "inLanguage": article.language,
        "mainEntityOfPage": url,
        "url": url,
        "datePublished": article.published_at.isoformat(),
        "dateModified": max(article.updated_at, article.published_at).isoformat(),
        "articleSection": section_name,
        "author": [{"@type": "Person", "name": author.name, "url": author_url}],
        "publisher": {"@type": "Organization", "name": settings.SITE_NAME, "url": settings.SITE_URL + "/"},
    }
    if hero:
        data["image"] = [absolute_url(variant.url) for variant in reversed(hero)]
    return data


def authors_with_articles():
    """Authors who have at least one article readers can see."""
    return Author.objects.filter(articles__in=Article.objects.published()).distinct()


def sections_in_order():
    return Section.objects.all()
