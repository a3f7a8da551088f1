from django.shortcuts import get_object_or_404
from django.views.generic import DetailView, ListView

from articles.models import Article, Author, Section


class PublishedMixin:
    """Readers see only published articles whose time has come."""

    def get_queryset(self):
        return Article.objects.published().select_related("author", "section")


class HomeView(PublishedMixin, ListView):
    template_name = "articles/home.html"
    paginate_by = 12


class ArticleDetailView(PublishedMixin, DetailView):
    template_name = "articles/article_detail.html"


class SectionDetailView(PublishedMixin, ListView):
    template_name = "articles/section_detail.html"
    paginate_by = 12

    def get_queryset(self):
        self.section = get_object_or_404(Section, slug=self.kwargs["slug"])
        return super().get_queryset().filter(section=self.section)


class AuthorDetailView(PublishedMixin, ListView):
    template_name = "articles/author_detail.html"
    paginate_by = 12

    def get_queryset(self):
        self.author = get_object_or_404(Author, slug=self.kwargs["slug"])
        return super().get_queryset().filter(author=self.author)
