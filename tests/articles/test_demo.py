"""The demo command builds a usable site and is idempotent."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from articles.models import Article, Author, Section
from articles.roles import author_of, is_editor

pytestmark = pytest.mark.django_db


def snapshot() -> dict:
    return {
        "sections": list(Section.objects.order_by("slug").values("slug", "name", "name_en", "position")),
        "authors": list(
            Author.objects.order_by("slug").values("slug", "name", "bio", "photo", "user__username")
        ),
        "articles": list(
            Article.objects.order_by("slug").values(
                "slug",
                "title",
                "lede",
                "body",
                "language",
                "status",
                "published_at",
                "section__slug",
                "author__slug",
                "hero_image",
                "hero_width",
                "hero_height",
                "hero_caption",
                "hero_credit",
                "appreciation_enabled",
            )
        ),
        "users": list(
            get_user_model().objects.order_by("username").values("username", "is_staff", "password")
        ),
    }


def test_demo_twice_gives_the_same_content(capsys):
    call_command("demo")
    first = snapshot()
    call_command("demo")
    assert snapshot() == first
    assert len(first["sections"]) >= 3
    assert len(first["authors"]) >= 2
    assert len(first["articles"]) >= 6


def test_demo_articles_are_published_bilingual_with_photos_and_subheadings(client):
    call_command("demo")
    articles = Article.objects.published()
    assert articles.count() == Article.objects.count() >= 6
    assert {a.language for a in articles} == {"nl", "en"}
    for article in articles:
        assert article.body.count("\n## ") >= 2
        assert len([p for p in article.body.split("\n\n") if not p.startswith("##")]) >= 5
        assert article.hero_image and article.hero_width and article.hero_caption and article.hero_credit
        response = client.get(article.get_absolute_url())
        assert response.status_code == 200
        assert 'class="hero__img"' in response.text


def test_demo_prints_logins_that_work(capsys, client):
    call_command("demo")
    out = capsys.readouterr().out
    User = get_user_model()
    editor = User.objects.get(username="redactie")
    assert is_editor(editor)
    assert "waardeer-editor-2026" in out
    for author in Author.objects.all():
        assert author.user is not None and author_of(author.user) == author
        assert author.user.username in out
    assert client.login(username="noor", password="sahel-correspondent-2026")
