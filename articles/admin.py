"""Authors, sections and articles in the author panel.

Authors write only their own articles: the author field is set for them and never offered;
every queryset is narrowed to their rows, and anything outside it is a 404 (not the admin's
usual redirect, which would confirm the object exists). Editors see everything.
"""

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from articles.models import Article, Author, Section
from articles.roles import viewer_of

# Changelist parameters that name an article by id; anything else about authors or articles
# is refused for authors, who only ever have their own.
ARTICLE_ID_LOOKUPS = ("article", "article__exact", "article__id__exact", "article__pk__exact")


class OwnedModelAdmin(admin.ModelAdmin):
    """A model admin whose rows belong to one author; authors see and touch only theirs."""

    owner_lookup = "author"

    def owner_id(self, obj: Model) -> int | None:
        return obj.author_id

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request)
        viewer = viewer_of(request)
        if viewer.editor:
            return qs
        if viewer.author is None:
            return qs.none()
        return qs.filter(**{self.owner_lookup: viewer.author.pk})

    def owns(self, request: HttpRequest, obj: Model | None) -> bool:
        if obj is None:
            return True
        viewer = viewer_of(request)
        return viewer.editor or (viewer.author is not None and self.owner_id(obj) == viewer.author.pk)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_view_permission(request, obj) and self.owns(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_change_permission(request, obj) and self.owns(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_delete_permission(request, obj) and self.owns(request, obj)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Django redirects with "does not exist"; for another author's object that is a 404.
        raise Http404

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        viewer = viewer_of(request)
        if not viewer.editor:
            self.refuse_foreign_lookups(request, viewer.author)
        return super().changelist_view(request, extra_context)

    @staticmethod
    def refuse_foreign_lookups(request: HttpRequest, author: Author | None) -> None:
        """403 for a filter an author could only use to look at someone else's rows."""
        own_articles: set[str] | None = None
        for key, values in request.GET.lists():
            if key.startswith("author") or key.startswith("user"):
                raise PermissionDenied
            if key.startswith("article"):
                if key not in ARTICLE_ID_LOOKUPS or author is None:
                    raise PermissionDenied
                if own_articles is None:
                    own_articles = {
                        str(pk) for pk in Article.objects.filter(author=author).values_list("pk", flat=True)
                    }
                if not set(values) <= own_articles:
                    raise PermissionDenied


@admin.register(Author)
class AuthorAdmin(OwnedModelAdmin):
    owner_lookup = "pk"
    list_display = ["name", "slug", "user", "notify", "language"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name",)}

    def owner_id(self, obj: Model) -> int | None:
        return obj.pk

    def get_fieldsets(self, request: HttpRequest, obj: Author | None = None):
        profile = ["name", "slug", "bio", "photo"] if viewer_of(request).editor else ["name", "bio", "photo"]
        fieldsets = [
            (None, {"fields": profile}),
            (
                _("Notifications"),
                {
                    "fields": ["notify", "language"],
                    "description": _(
                        "An email for every appreciation, a daily digest of yesterday's "
                        "appreciations, or nothing. Emails go to the login's email address."
                    ),
                },
            ),
        ]
        if viewer_of(request).editor:
            fieldsets.append((_("Login"), {"fields": ["user"]}))
        return fieldsets

    def get_prepopulated_fields(self, request: HttpRequest, obj: Author | None = None) -> dict:
        return self.prepopulated_fields if viewer_of(request).editor else {}

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "user" and field is not None:
            field.queryset = field.queryset.filter(is_staff=True)
        return field


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "slug", "position"]
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ["name", "name_en"]


class ArticleAdminForm(forms.ModelForm):
    """Publishing needs a complete article; a publication time defaults to now."""

    class Meta:
        model = Article
        fields = [
            "title",
            "slug",
            "section",
            "language",
            "author",
            "lede",
            "body",
            "hero_image",
            "hero_alt",
            "hero_caption",
            "hero_credit",
            "status",
            "published_at",
            "appreciation_enabled",
        ]

    def clean(self) -> dict:
        data = super().clean()
        if data.get("status") != Article.Status.PUBLISHED:
            return data
        required = {"title": _("a title"), "lede": _("a lede"), "body": _("a body")}
        for name, what in required.items():
            if name in self.fields and not (data.get(name) or "").strip() and name not in self.errors:
                self.add_error(name, gettext("A published article needs %(what)s.") % {"what": what})
        has_author = data.get("author") is not None if "author" in self.fields else self.instance.author_id
        if not has_author and "author" not in self.errors:
            self.add_error(
                "author" if "author" in self.fields else None,
                gettext("A published article needs an author."),
            )
        if not data.get("published_at") and "published_at" not in self.errors:
            data["published_at"] = timezone.now()
        return data


@admin.register(Article)
class ArticleAdmin(OwnedModelAdmin):
    form = ArticleAdminForm
    list_display = ["title", "author", "section", "status", "published_at", "publication_state"]
    list_select_related = ["author", "section"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ("title",)}
    autocomplete_fields = ["author"]
    date_hierarchy = "published_at"
    change_form_template = "admin/articles/article/change_form.html"

    class Media:
        css = {"all": ["css/panel.css"]}
        js = ["js/preview.js"]

    def get_list_display(self, request: HttpRequest) -> list[str]:
        if viewer_of(request).editor:
            return self.list_display
        return [name for name in self.list_display if name != "author"]

    def get_list_filter(self, request: HttpRequest) -> list[str]:
        return ["status", "section", "author"] if viewer_of(request).editor else ["status", "section"]

    def get_fieldsets(self, request: HttpRequest, obj: Article | None = None):
        main = ["title", "slug", "section", "language"]
        if viewer_of(request).editor:
            main.append("author")
        return [
            (None, {"fields": main}),
            (_("Text"), {"fields": ["lede", "body"]}),
            (
                _("Hero image"),
                {"fields": ["hero_image", "hero_alt", "hero_caption", "hero_credit"]},
            ),
            (
                _("Publication"),
                {
                    "fields": ["status", "published_at", "appreciation_enabled"],
                    "description": _(
                        "Published with a time in the future: the article appears at that time. "
                        "Published without a time: it appears now."
                    ),
                },
            ),
        ]

    def get_form(self, request: HttpRequest, obj: Article | None = None, change: bool = False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        viewer = viewer_of(request)
        if viewer.editor:
            return form

        class AuthorArticleForm(form):
            # The author is the login's own; set before validation so the checks see it.
            def __init__(self, *args, **form_kwargs):
                super().__init__(*args, **form_kwargs)
                if viewer.author is not None:
                    self.instance.author = viewer.author

        return AuthorArticleForm

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "body" and field is not None:
            field.widget.attrs.update(
                {
                    "rows": 24,
                    "data-preview-url": reverse("admin:panel-preview", current_app=self.admin_site.name),
                    "data-preview-label": gettext("Preview"),
                }
            )
        return field

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and viewer_of(request).has_role

    def save_model(self, request: HttpRequest, obj: Article, form, change: bool) -> None:
        viewer = viewer_of(request)
        if not viewer.editor:
            if viewer.author is None:
                raise PermissionDenied
            obj.author = viewer.author
        super().save_model(request, obj, form, change)

    @admin.display(description=_("on the site"))
    def publication_state(self, obj: Article) -> str:
        if obj.status != Article.Status.PUBLISHED:
            return gettext("draft")
        if obj.published_at and obj.published_at > timezone.now():
            return gettext("scheduled")
        return gettext("live")

    # Preview of the public page, also for drafts and scheduled articles -------------------

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="{}_{}_preview".format(*info),
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request: HttpRequest, object_id: str) -> TemplateResponse:
        """The public article template for an article the user may see, whatever its status."""
        from articles import selectors, services

        article = self.get_object(request, unquote(object_id))
        if article is None or not self.has_view_or_change_permission(request, article):
            raise Http404
        # No real payments on a preview: the widget stays off whatever the article says.
        # A draft shows "now" as its dateline; nothing here is saved.
        article.appreciation_enabled = False
        article.published_at = article.published_at or timezone.now()
        hero = services.article_hero_variants(article=article)
        response = TemplateResponse(
            request,
            "articles/article_detail.html",
            {
                "article": article,
                "object": article,
                "is_preview": True,
                "hero": hero,
                "canonical_url": selectors.article_canonical_url(article),
                # No structured data: search engines never see a preview.
                "structured_data": {},
            },
        )
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response
