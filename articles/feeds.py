"""RSS and Atom feeds for the site and for each author; links are absolute via SITE_URL."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.translation import gettext as _

from articles.models import Article, Author
from articles.selectors import absolute_url, article_canonical_url

FEED_SIZE = 20


class LatestArticlesFeed(Feed):
    """The newest published articles of the whole site."""

    feed_type = Rss201rev2Feed
    feed_url_name = "articles:feed-rss"

    def title(self) -> str:
        return settings.SITE_NAME

    def link(self) -> str:
        return absolute_url(reverse("articles:home"))

    def feed_url(self) -> str:
        return absolute_url(reverse(self.feed_url_name))

    def description(self) -> str:
        return _("The latest articles on %(site)s") % {"site": settings.SITE_NAME}

    subtitle = description

    def items(self):
        return Article.objects.published().select_related("author", "section")[:FEED_SIZE]

    def item_title(self, item: Article) -> str:
        return item.title

    def item_description(self, item: Article) -> str:
        return item.lede

    def item_link(self, item: Article) -> str:
        return article_canonical_url(item)

    def item_guid(self, item: Article) -> str:
        return article_canonical_url(item)

    def item_author_name(self, item: Article) -> str:
        return item.author.name

    def item_author_link(self, item: Article) -> str:
        return absolute_url(item.author.get_absolute_url())

    def item_pubdate(self, item: Article):
        return item.published_at

    def item_updateddate(self, item: Article):
        return max(item.updated_at, item.published_at)

    def item_categories(self, item: Article) -> list[str]:
        return [item.section.display_name]


class LatestArticlesAtomFeed(LatestArticlesFeed):
    feed_type = Atom1Feed
    feed_url_name = "articles:feed-atom"


class AuthorFeed(LatestArticlesFeed):
    """One author's published articles, for readers who follow a correspondent."""

    feed_url_name = "articles:author-feed-rss"

    def get_object(self, request, slug: str) -> Author:
        return get_object_or_404(Author, slug=slug)

    def title(self, obj: Author) -> str:
        return f"{obj.name} — {settings.SITE_NAME}"

    def link(self, obj: Author) -> str:
        return absolute_url(obj.get_absolute_url())

    def feed_url(self, obj: Author) -> str:
        return absolute_url(reverse(self.feed_url_name, kwargs={"slug": obj.slug}))

    def description(self, obj: Author) -> str:
        return _("The latest articles by %(author)s") % {"author": obj.name}

    subtitle = description

    def items(self, obj: Author):
        return Article.objects.published().filter(author=obj).select_related("author", "section")[:FEED_SIZE]


class AuthorAtomFeed(AuthorFeed):
    feed_type = Atom1Feed
    feed_url_name = "articles:author-feed-atom"
