"""Authors write Markdown; nothing they write can run script in a reader's browser."""

import importlib

import pytest

from articles.models import Article
from articles.rendering import json_ld_script, render_markdown
from tests.factories import ArticleFactory


def test_markdown_subheadings_and_paragraphs():
    html = render_markdown("First *paragraph*.\n\n## Sub-heading\n\nSecond paragraph.")
    assert "<p>First <em>paragraph</em>.</p>" in html
    assert "<h2>Sub-heading</h2>" in html
    assert "<p>Second paragraph.</p>" in html


def test_top_level_heading_becomes_a_subheading():
    # The article title is the page's only <h1>.
    html = render_markdown("# Loud\n\ntext")
    assert "<h1" not in html
    assert "<h2>Loud</h2>" in html


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert('x')</script>",
        "Hello <script src=https://evil.example/x.js></script>",
        '<img src="x" onerror="alert(1)">',
        '<a href="#" onclick="alert(1)">click</a>',
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        '<iframe src="https://evil.example/"></iframe>',
        '<p style="background:url(javascript:alert(1))">painted</p>',
        "<svg onload=alert(1)></svg>",
        '<object data="evil.swf"></object>',
        "<style>body{display:none}</style>",
        '<form action="https://evil.example"><input name="card"></form>',
    ],
)
def test_hostile_markdown_is_neutralised(hostile):
    html = str(render_markdown(f"Intro.\n\n{hostile}\n\nOutro.")).lower()
    for forbidden in (
        "<script",
        "onerror",
        "onclick",
        "onload",
        "javascript:",
        "data:",
        "<iframe",
        "style",
        "<svg",
        "<object",
        "<form",
        "<input",
    ):
        assert forbidden not in html, (forbidden, html)
    assert "intro." in html and "outro." in html


def test_safe_links_are_kept_with_rel_noopener():
    html = render_markdown("[Source](https://example.org/report)")
    assert 'href="https://example.org/report"' in html
    assert "noopener" in html


def test_raw_html_text_is_escaped_not_dropped_when_harmless():
    html = render_markdown("5 < 6 & 7 > 3")
    assert "5 &lt; 6 &amp; 7 &gt; 3" in html


def test_json_ld_cannot_close_its_script_element():
    out = json_ld_script({"headline": "</script><script>alert(1)</script> & more"})
    assert out.count("</script>") == 1
    assert out.endswith("</script>")
    assert "\\u003C/script\\u003E" in out
    assert "\\u0026" in out


# --- the stored body: rendered once when saved, never per page view ---------------------------


@pytest.mark.django_db
def test_saving_an_article_stores_its_cleaned_body_html():
    article = ArticleFactory(body="Intro with *emphasis*.\n\n<script>alert(1)</script>")
    stored = Article.objects.values_list("body_html", flat=True).get(pk=article.pk)
    assert "<em>emphasis</em>" in stored
    assert "<script" not in stored

    article.body = "A **new** text."
    article.save(update_fields=["body"])
    assert Article.objects.get(pk=article.pk).body_html == "<p>A <strong>new</strong> text.</p>"


@pytest.mark.django_db
def test_a_save_that_leaves_the_body_alone_keeps_the_stored_html():
    article = ArticleFactory(body="Old text.")
    Article.objects.filter(pk=article.pk).update(body_html="<p>stored earlier</p>")
    article.refresh_from_db()
    article.title = "A new title"
    article.save(update_fields=["title"])
    assert Article.objects.get(pk=article.pk).body_html == "<p>stored earlier</p>"


@pytest.mark.django_db
def test_the_article_page_shows_the_stored_html_without_rendering_again(client):
    article = ArticleFactory(body="What the author wrote.")
    # Only the stored column reaches the page: a page view renders no Markdown.
    Article.objects.filter(pk=article.pk).update(body_html="<p>What was stored.</p>")
    page = client.get(article.get_absolute_url()).content.decode()
    assert "<p>What was stored.</p>" in page
    assert "What the author wrote." not in page


@pytest.mark.django_db
def test_the_migration_renders_articles_saved_before_the_column_existed():
    from django.apps import apps

    render_bodies = importlib.import_module("articles.migrations.0003_article_body_html").render_bodies
    article = ArticleFactory(body="## Heading\n\nText & more.")
    Article.objects.filter(pk=article.pk).update(body_html="")
    render_bodies(apps, None)
    assert Article.objects.get(pk=article.pk).body_html == render_markdown(article.body)
