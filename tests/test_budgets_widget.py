"""The widget's cost on an uncached article page: crispy renders the empty form once, an
article's supporters are counted once per change to them, not once per page."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.caching import page_cache_bump
from payments import services, widget
from tests.factories import AppreciationFactory, ArticleFactory
from tests.security.helpers import appreciate_url, form_data

pytestmark = pytest.mark.django_db

STAMPS = re.compile(r'name="(nonce|rendered)" value="([^"]*)"')


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    widget._EMPTY_FORMS.clear()
    yield
    widget._EMPTY_FORMS.clear()


@pytest.fixture
def crispy_renders(monkeypatch) -> list:
    calls = []
    real = widget.render_crispy_form

    def counting(form, helper=None, context=None):
        calls.append(form.is_bound)
        return real(form, helper, context)

    monkeypatch.setattr(widget, "render_crispy_form", counting)
    return calls


def _form(html: str) -> str:
    return html[html.index('<form action="') : html.index("</form>")]


def test_empty_form_is_rendered_by_crispy_once_per_language_with_fresh_stamps(client, crispy_renders):
    first, second = ArticleFactory(), ArticleFactory()
    one = client.get(first.get_absolute_url()).text
    two = client.get(second.get_absolute_url()).text
    assert crispy_renders == [False]
    stamps_one, stamps_two = dict(STAMPS.findall(one)), dict(STAMPS.findall(two))
    assert stamps_one["nonce"] != stamps_two["nonce"]  # every render gets its own nonce
    assert stamps_one["rendered"] and stamps_two["rendered"]
    # The same fields; only the action (the article) and the stamps differ.
    strip = lambda html, a: STAMPS.sub("", _form(html)).replace(a.slug, "SLUG")  # noqa: E731
    assert strip(one, first) == strip(two, second)
    assert f'formaction="/feedback/send/{second.slug}/"' in two  # "send without paying" per article

    english = client.get("/en" + first.get_absolute_url()).text
    assert len(crispy_renders) == 2
    assert "Appreciate this article!" in english


def test_a_form_with_errors_is_rendered_in_full_with_the_readers_input(client, crispy_renders):
    article = ArticleFactory()
    client.get(article.get_absolute_url())
    response = client.post(
        appreciate_url(article),
        form_data(preset=None, amount="0,50", display_name="Sanne"),
        HTTP_SEC_FETCH_SITE="same-origin",
    )
    assert response.status_code == 400
    assert crispy_renders == [False, True]
    html = response.content.decode()
    assert 'value="0,50"' in html and 'value="Sanne"' in html
    assert 'aria-invalid="true"' in html or "is-invalid" in html
    assert dict(STAMPS.findall(html))["rendered"]


def _counted(queries) -> list[str]:
    return [q["sql"] for q in queries if "payments_appreciation" in q["sql"]]


def test_supporters_are_counted_once_per_change_then_read_with_the_article(client):
    article = ArticleFactory()
    path = article.get_absolute_url()
    for _ in range(2):
        AppreciationFactory(article=article, status="paid", paid_at=timezone.now())
    with CaptureQueriesContext(connection) as queries:
        assert "2 lezers waardeerden dit artikel" in client.get(path).text
    assert len(_counted(queries)) == 1

    # Another page of the same article (its own page cache entry), and the same one again
    # once every stored page is gone: read with the article, nothing counted.
    for url in ("/en" + path, path):
        page_cache_bump()
        with CaptureQueriesContext(connection) as queries:
            html = client.get(url).text
        assert "2 lezers waardeerden dit artikel" in html or "2 readers appreciated this article" in html
        # The article with its supporters, and the section menu of the new generation.
        assert _counted(queries) == [] and len(queries) == 2

    # A payment makes them stale: counted once again.
    services.appreciation_mark_paid(appreciation_id=AppreciationFactory(article=article, status="pending").pk)
    page_cache_bump()  # as the payment's commit does
    with CaptureQueriesContext(connection) as queries:
        assert "3 lezers waardeerden dit artikel" in client.get(path).text
    assert len(_counted(queries)) == 1
    page_cache_bump()
    with CaptureQueriesContext(connection) as queries:
        assert "3 lezers waardeerden dit artikel" in client.get(path).text
    assert _counted(queries) == []
