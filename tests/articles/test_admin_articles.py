"""Articles and authors in the panel: authors write only their own; editors everything."""

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, Author
from tests.factories import ArticleFactory, SectionFactory, UserFactory
from tests.panel_helpers import author_login, editor_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair():
    user_a, author_a = author_login("anna", name="Anna")
    user_b, author_b = author_login("bram", name="Bram")
    own = ArticleFactory(author=author_a, title="Anna's piece")
    foreign = ArticleFactory(
        author=author_b, title="Bram's draft", slug="brams-secret-draft", status=Article.Status.DRAFT
    )
    return user_a, author_a, own, user_b, author_b, foreign


def article_post(section, **overrides) -> dict:
    data = {
        "title": "New piece",
        "slug": "new-piece",
        "section": section.pk,
        "language": "nl",
        "lede": "A lede.",
        "body": "Body text.",
        "hero_alt": "",
        "hero_caption": "",
        "hero_credit": "",
        "status": "draft",
        "published_at_0": "",
        "published_at_1": "",
        "appreciation_enabled": "on",
    }
    data.update(overrides)
    return data


def test_author_creates_an_article_that_is_theirs_without_choosing(client, pair):
    user_a, author_a, _, _, author_b, _ = pair
    client.force_login(user_a)
    form_page = client.get(reverse("admin:articles_article_add"))
    assert form_page.status_code == 200
    assert "author" not in form_page.context["adminform"].form.fields
    # A forged author field is ignored: the login's own author is set.
    response = client.post(
        reverse("admin:articles_article_add"), article_post(SectionFactory(), author=author_b.pk)
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Article.objects.get(slug="new-piece").author == author_a


def test_hero_image_fields_share_one_fieldset(client, pair):
    client.force_login(pair[0])
    fieldsets = client.get(reverse("admin:articles_article_add")).context["adminform"].fieldsets
    hero = [options["fields"] for _, options in fieldsets if "hero_image" in options["fields"]]
    assert hero == [["hero_image", "hero_alt", "hero_caption", "hero_credit"]]


def test_author_lists_only_own_articles(client, pair):
    user_a, *_ = pair
    client.force_login(user_a)
    response = client.get(reverse("admin:articles_article_changelist"))
    assert response.status_code == 200
    titles = [article.title for article in response.context["cl"].result_list]
    assert titles == ["Anna's piece"]


@pytest.mark.parametrize("param", ["author__id__exact", "author", "author__slug"])
def test_author_filtering_by_another_author_is_forbidden(client, pair, param):
    user_a, _, _, _, author_b, _ = pair
    client.force_login(user_a)
    value = author_b.slug if param.endswith("slug") else author_b.pk
    response = client.get(reverse("admin:articles_article_changelist"), {param: value})
    assert response.status_code == 403


@pytest.mark.parametrize("view", ["change", "history", "delete", "preview"])
def test_author_cannot_reach_another_authors_article(client, pair, view):
    user_a, *_, foreign = pair
    client.force_login(user_a)
    url = reverse(f"admin:articles_article_{view}", args=[foreign.pk])
    assert client.get(url).status_code in (403, 404)
    assert client.post(url, article_post(foreign.section, title="Taken over")).status_code in (403, 404)
    foreign.refresh_from_db()
    assert foreign.title == "Bram's draft"


def test_author_cannot_delete_even_own_article(client, pair):
    user_a, _, own, *_ = pair
    client.force_login(user_a)
    assert (
        client.post(reverse("admin:articles_article_delete", args=[own.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert Article.objects.filter(pk=own.pk).exists()


def test_author_previews_own_draft_with_the_public_template(client, pair):
    user_a, author_a, *_ = pair
    draft = ArticleFactory(
        author=author_a, status=Article.Status.DRAFT, published_at=None, body="## Sub\n\n<script>x()</script>"
    )
    client.force_login(user_a)
    response = client.get(reverse("admin:articles_article_preview", args=[draft.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    # The page readers get, header and all, without the widget: a preview takes no payments.
    assert 'class="site-header"' in content and 'id="article-title"' in content
    assert 'id="waardeer"' not in content
    assert "<h2>Sub</h2>" in content
    assert "<script>x()" not in content
    assert response["X-Robots-Tag"].startswith("noindex")
    # The public page does not show the draft.
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_editor_sees_and_edits_every_article_and_filters_by_author(client, pair):
    _, _, _, _, author_b, foreign = pair
    client.force_login(editor_login())
    listing = client.get(reverse("admin:articles_article_changelist"))
    assert {a.title for a in listing.context["cl"].result_list} == {"Anna's piece", "Bram's draft"}
    filtered = client.get(reverse("admin:articles_article_changelist"), {"author__id__exact": author_b.pk})
    assert [a.title for a in filtered.context["cl"].result_list] == ["Bram's draft"]
    change = client.get(reverse("admin:articles_article_change", args=[foreign.pk]))
    assert change.status_code == 200
    assert "author" in change.context["adminform"].form.fields


def test_publishing_requires_a_complete_article_and_defaults_the_time_to_now(client, pair):
    user_a, *_ = pair
    client.force_login(user_a)
    section = SectionFactory()
    incomplete = client.post(
        reverse("admin:articles_article_add"), article_post(section, status="published", body="  ")
    )
    assert incomplete.status_code == 200
    assert "body" in incomplete.context["adminform"].form.errors
    before = timezone.now()
    response = client.post(reverse("admin:articles_article_add"), article_post(section, status="published"))
    assert response.status_code == 302
    article = Article.objects.get(slug="new-piece")
    assert article.status == Article.Status.PUBLISHED
    assert article.published_at >= before - timedelta(seconds=1)


def test_author_schedules_an_article_in_the_future(client, pair):
    user_a, *_ = pair
    client.force_login(user_a)
    later = timezone.localtime(timezone.now() + timedelta(days=3))
    response = client.post(
        reverse("admin:articles_article_add"),
        article_post(
            SectionFactory(),
            status="published",
            published_at_0=later.strftime("%Y-%m-%d"),
            published_at_1=later.strftime("%H:%M:%S"),
        ),
    )
    assert response.status_code == 302
    article = Article.objects.get(slug="new-piece")
    assert article.published_at > timezone.now() + timedelta(days=2)
    assert not Article.objects.published().filter(pk=article.pk).exists()


def test_body_field_carries_the_live_preview_endpoint(client, pair):
    client.force_login(pair[0])
    content = client.get(reverse("admin:articles_article_add")).content.decode()
    assert f'data-preview-url="{reverse("admin:panel-preview")}"' in content
    assert "js/preview.js" in content
    assert 'id="id_slug"' in content and "prepopulated" in content


# --- live preview endpoint ------------------------------------------------------------------


def test_markdown_preview_renders_like_the_public_page(client, pair):
    client.force_login(pair[0])
    response = client.post(
        reverse("admin:panel-preview"),
        {"body": "## Sub\n\n*yes* <script>alert(1)</script> [x](javascript:alert(1))"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h2>Sub</h2>" in html
    assert "<em>yes</em>" in html
    assert "<script" not in html
    assert "javascript:" not in html


def test_markdown_preview_needs_post_csrf_and_a_writer(pair):
    user_a = pair[0]
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user_a)
    assert strict.post(reverse("admin:panel-preview"), {"body": "x"}).status_code == 403
    lax = Client()
    lax.force_login(user_a)
    assert lax.get(reverse("admin:panel-preview")).status_code == 405
    anonymous = Client().post(reverse("admin:panel-preview"), {"body": "x"})
    assert anonymous.status_code == 302
    no_role = Client()
    no_role.force_login(UserFactory(username="loose", is_staff=True))
    assert no_role.post(reverse("admin:panel-preview"), {"body": "x"}).status_code == 403


# --- view on site, autocomplete, author profile ---------------------------------------------


def test_view_on_site_redirect_only_for_own_articles(client, pair):
    user_a, _, own, *_, foreign = pair
    client.force_login(user_a)
    content_type = ContentType.objects.get_for_model(Article)
    own_response = client.get(reverse("admin:view_on_site", args=[content_type.pk, own.pk]))
    assert own_response.status_code == 302
    assert own.slug in own_response["Location"]
    foreign_response = client.get(reverse("admin:view_on_site", args=[content_type.pk, foreign.pk]))
    assert foreign_response.status_code == 404
    assert "brams-secret-draft" not in foreign_response.get("Location", "")
    assert client.get(reverse("admin:view_on_site", args=[content_type.pk, "x"])).status_code == 404


def test_autocomplete_offers_only_own_author_and_articles(client, pair):
    user_a, author_a, *_ = pair
    client.force_login(user_a)
    authors = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "articles", "model_name": "article", "field_name": "author", "term": ""},
    )
    assert authors.status_code == 200
    assert [row["id"] for row in authors.json()["results"]] == [str(author_a.pk)]
    articles = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "payments", "model_name": "appreciation", "field_name": "article", "term": "B"},
    )
    assert articles.status_code == 200
    assert [row["text"] for row in articles.json()["results"]] == []


def test_author_sets_own_notifications_but_not_login_or_slug(client, pair):
    user_a, author_a, *_ = pair
    client.force_login(user_a)
    url = reverse("admin:articles_author_change", args=[author_a.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert set(page.context["adminform"].form.fields) == {"name", "bio", "photo", "notify", "language"}
    response = client.post(
        url, {"name": "Anna", "bio": "", "notify": "each", "language": "en", "slug": "hijack", "user": ""}
    )
    assert response.status_code == 302
    author_a.refresh_from_db()
    assert (author_a.notify, author_a.language, author_a.slug) == ("each", "en", author_a.slug)
    assert author_a.user == user_a
    assert author_a.slug != "hijack"


def test_author_cannot_see_another_author_profile(client, pair):
    user_a, *_, author_b, _ = pair
    client.force_login(user_a)
    assert client.get(reverse("admin:articles_author_change", args=[author_b.pk])).status_code == 404
    assert client.get(reverse("admin:articles_author_history", args=[author_b.pk])).status_code == 404
    listing = client.get(reverse("admin:articles_author_changelist"))
    assert [a.name for a in listing.context["cl"].result_list] == ["Anna"]
    assert client.get(reverse("admin:articles_author_add")).status_code == 403
    assert Author.objects.count() == 2


def test_author_login_command_creates_a_panel_login():
    from django.contrib.auth import get_user_model
    from django.core.management import CommandError, call_command

    from articles.roles import viewer_of
    from tests.factories import AuthorFactory

    author = AuthorFactory(slug="els")
    call_command(
        "author_login",
        "--author",
        "els",
        "--username",
        "els",
        "--email",
        "els@example.org",
        "--password",
        "a-long-enough-passphrase",
    )
    user = get_user_model().objects.get(username="els")
    assert user.is_staff and user.check_password("a-long-enough-passphrase")
    author.refresh_from_db()
    assert author.user == user

    class Request:
        pass

    request = Request()
    request.user = user
    assert viewer_of(request).author == author
    assert not viewer_of(request).editor
    with pytest.raises(CommandError):
        call_command(
            "author_login", "--author", "nobody", "--username", "x", "--password", "a-long-enough-passphrase"
        )
    with pytest.raises(CommandError):
        call_command("author_login", "--author", "els", "--username", "els", "--password", "short")
