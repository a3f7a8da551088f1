"""sitemap.xml with absolute URLs on SITE_URL (not the request's host, which a proxy may rewrite)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from articles import selectors
from articles.models import Article


class SiteUrlSitemap(Sitemap):
    def get_domain(self, site=None) -> str:
        return urlsplit(settings.SITE_URL).netloc

    def get_protocol(self, protocol=None) -> str:
        return urlsplit(settings.SITE_URL).scheme or "https"


class ArticleSitemap(SiteUrlSitemap):
    """Each article once, at its canonical address in its own language."""

    changefreq = "weekly"
    priority = 0.8

    def items(self):
        return Article.objects.published().only("slug", "language", "published_at", "updated_at")

    def location(self, item: Article) -> str:
        return selectors.article_canonical_path(item)

    def lastmod(self, item: Article):
        return max(item.updated_at, item.published_at)


class PagesSitemap(SiteUrlSitemap):
    """Home, section and author pages, in both interface languages."""

    i18n = True
    alternates = True
    x_default = True
    changefreq = "daily"
    priority = 0.5

    def items(self) -> list[tuple[str, dict[str, str]]]:
        # URL names, not paths: the sitemap reverses each one once per language.
        pages = [("articles:home", {})]
        pages += [("articles:section-detail", {"slug": s.slug}) for s in selectors.sections_in_order()]
        pages += [("articles:author-detail", {"slug": a.slug}) for a in selectors.authors_with_articles()]
        return pages

    def location(self, item: tuple[str, dict[str, str]]) -> str:
        name, kwargs = item
        return reverse(name, kwargs=kwargs)


SITEMAPS = {"articles": ArticleSitemap, "pages": PagesSitemap}
