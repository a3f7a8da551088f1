from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from articles.caching import reverse_in, reverse_memo
from articles.rendering import render_markdown


class Author(models.Model):
    """A journalist who publishes here; optionally linked to a staff login for the panel."""

    class Notify(models.TextChoices):
        EACH = "each", _("An email for every appreciation")
        DAILY = "daily", _("A daily digest")
        NONE = "none", _("No email")

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=140, unique=True)
    bio = models.CharField(
        _("short bio"), max_length=300, blank=True, help_text=_("One line, shown under every article.")
    )
    photo = models.ImageField(_("photo"), upload_to="authors/", blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("login"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="author",
        help_text=_("The staff login that writes as this author and sees only their figures."),
    )
    language = models.CharField(
        _("language for emails"), max_length=8, choices=settings.LANGUAGES, default="nl"
    )
    notify = models.CharField(_("notifications"), max_length=8, choices=Notify.choices, default=Notify.DAILY)

    class Meta:
        ordering = ["name"]
        verbose_name = _("author")
        verbose_name_plural = _("authors")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse_memo("articles:author-detail", slug=self.slug)


class Section(models.Model):
    """A rubric such as News or Analysis; every article belongs to exactly one."""

    name = models.CharField(_("name"), max_length=80)
    name_en = models.CharField(_("name in English"), max_length=80, blank=True)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("section")
        verbose_name_plural = _("sections")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse_memo("articles:section-detail", slug=self.slug)

    @property
    def display_name(self) -> str:
        """The name in the interface language: English when available under /en/, else Dutch."""
        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name


class ArticleQuerySet(models.QuerySet):
    def published(self) -> "ArticleQuerySet":
        """What readers may see: published status and a publication time that has come."""
        return self.filter(status=Article.Status.PUBLISHED, published_at__lte=timezone.now())


class Article(models.Model):
    """A piece of journalism. Readers see it only once published and its time has come."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=220, unique=True)
    section = models.ForeignKey(
        Section, verbose_name=_("section"), on_delete=models.PROTECT, related_name="articles"
    )
    author = models.ForeignKey(
        Author, verbose_name=_("author"), on_delete=models.PROTECT, related_name="articles"
    )
    lede = models.TextField(_("lede"), max_length=600, help_text=_("The standfirst under the title."))
    body = models.TextField(_("body"), help_text=_("Markdown; use ## for sub-headings."))
    # The body as readers get it, rendered and cleaned on save: a page view then costs no
    # Markdown, which was a sixth of an uncached article page.
    body_html = models.TextField(_("body as HTML"), blank=True, editable=False)
    hero_image = models.ImageField(
        _("hero image"),
        upload_to="heroes/",
        blank=True,
        width_field="hero_width",
        height_field="hero_height",
        help_text=_("At least 1200 pixels wide looks sharp on every screen."),
    )
    # Stored so pages can give width/height (no layout shift) without opening the file.
    hero_width = models.PositiveIntegerField(_("hero image width"), null=True, blank=True, editable=False)
    hero_height = models.PositiveIntegerField(_("hero image height"), null=True, blank=True, editable=False)
    hero_alt = models.CharField(
        _("image description"), max_length=250, blank=True, help_text=_("For readers who cannot see it.")
    )
    hero_caption = models.CharField(_("caption"), max_length=300, blank=True)
    hero_credit = models.CharField(_("photo credit"), max_length=120, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="nl")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(
        _("publication time"),
        null=True,
        blank=True,
        help_text=_("A time in the future schedules the article."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    appreciation_enabled = models.BooleanField(
        _("appreciation enabled"), default=True, help_text=_("Show the appreciation widget.")
    )

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        indexes = [models.Index(fields=["status", "-published_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False),
                name="article_published_has_time",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "body" in update_fields:
            self.body_html = render_markdown(self.body)
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "body_html"}
        super().save(*args, **kwargs)

    def get_absolute_url(self, language: str | None = None) -> str:
        """In the active language, or in `language`."""
        return reverse_in(language or get_language(), "articles:article-detail", slug=self.slug)

    @property
    def body_markup(self) -> SafeString:
        """The body for the page: HTML that render_markdown cleaned when the article was saved."""
        return mark_safe(self.body_html)  # noqa: S308 - cleaned by nh3 in render_markdown
