"""The public reading site. Every list and page starts from Article.objects.published()."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET
from django.views.generic import DetailView, ListView

from articles import selectors, services
from articles.models import Article, Author, Section

PAGE_SIZE = 12


class PublishedMixin:
    """Readers see only published articles whose time has come; drafts and scheduled ones 404."""

    def get_queryset(self):
        return Article.objects.published().select_related("author", "section")


class HomeView(PublishedMixin, ListView):
    template_name = "articles/home.html"
    context_object_name = "articles"
    paginate_by = PAGE_SIZE


class ArticleDetailView(PublishedMixin, DetailView):
    template_name = "articles/article_detail.html"
    context_object_name = "article"

    def get_object(self, queryset=None) -> Article:
        return selectors.published_article(self.kwargs["slug"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        article = self.object
        hero = services.article_hero_variants(article=article)
        canonical_url = selectors.article_canonical_url(article)
        context.update(
            hero=hero,
            canonical_url=canonical_url,
            structured_data=selectors.article_structured_data(article=article, hero=hero, url=canonical_url),
        )
        return context


class SectionDetailView(PublishedMixin, ListView):
    template_name = "articles/section_detail.html"
    context_object_name = "articles"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        self.section = get_object_or_404(Section, slug=self.kwargs["slug"])
        return super().get_queryset().filter(section=self.section)

    def get_context_data(self, **kwargs):
        return super().get_context_data(section=self.section, **kwargs)


class AuthorDetailView(PublishedMixin, ListView):
    template_name = "articles/author_detail.html"
    context_object_name = "articles"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        self.author = get_object_or_404(Author, slug=self.kwargs["slug"])
        return super().get_queryset().filter(author=self.author)

    def get_context_data(self, **kwargs):
        return super().get_context_data(author=self.author, **kwargs)


@require_GET
@cache_control(max_age=86400, public=True)
def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /en/admin/",
        "Disallow: /payments/",
        "Disallow: /en/payments/",
        "",
        f"Sitemap: {settings.SITE_URL}/sitemap.xml",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
