"""No cookies on public pages; reader POSTs accepted only from our own origin (no CSRF token)."""

import pytest
from django.utils import timezone

from payments.models import Appreciation
from tests.factories import AppreciationFactory, ArticleFactory
from tests.security.helpers import (
    answer_session_create,
    appreciate_url,
    bare_client,
    form_data,
    session_creations,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def stripe(stripe_transport):
    answer_session_create(stripe_transport)
    return stripe_transport


@pytest.fixture
def article():
    return ArticleFactory(slug="de-dijk", title="De dijk")


def test_public_pages_set_no_cookie_and_carry_no_csrf_token(client, article):
    paid = AppreciationFactory(
        article=article, status="paid", paid_at=timezone.now(), stripe_checkout_session_id="cs_test_paid1"
    )
    for url in (
        "/",
        "/en/",
        article.get_absolute_url(),
        f"/en/artikel/{article.slug}/",
        f"/rubriek/{article.section.slug}/",
        f"/auteur/{article.author.slug}/",
        f"/payments/thank-you/?session_id={paid.stripe_checkout_session_id}",
    ):
        response = bare_client().get(url)
        assert response.status_code == 200, url
        assert "Set-Cookie" not in response.headers, url
        assert not response.cookies, url
        assert b"csrfmiddlewaretoken" not in response.content, url


def test_a_refused_widget_post_sets_no_cookie_either(article):
    response = bare_client().post(appreciate_url(article), form_data(amount="0,01"), headers={})
    assert response.status_code == 403
    assert not response.cookies


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "same-site", "Origin": "https://shop.testserver"},
        # A cross-site page cannot send same-origin fetch metadata, but an old browser sends none:
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://testserver.evil.example"},
        {"Origin": "https://testserver"},  # same host, other scheme: another origin
        {"Referer": "https://evil.example/artikel/de-dijk/"},
        {"Referer": "not a url"},
        {},
    ],
    ids=[
        "cross-site",
        "same-site-subdomain",
        "foreign-origin",
        "null-origin",
        "lookalike-origin",
        "other-scheme",
        "foreign-referer",
        "junk-referer",
        "no-headers",
    ],
)
def test_cross_site_posts_are_refused_with_a_translated_403_and_nothing_happens(stripe, article, headers):
    response = bare_client().post(appreciate_url(article, "/en"), form_data(), headers=headers)
    assert response.status_code == 403
    assert "This request did not come from our site" in response.content.decode()
    assert Appreciation.objects.count() == 0 and session_creations(stripe) == 0


def test_the_403_page_follows_the_language(stripe, article):
    response = bare_client().post(
        appreciate_url(article), form_data(), headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403
    html = response.content.decode()
    assert '<html lang="nl">' in html and "This request did not come from our site" not in html


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"},
        {"Sec-Fetch-Site": "none"},
        {"Origin": "http://testserver"},
        {"Referer": "http://testserver/artikel/de-dijk/"},
    ],
    ids=["fetch-metadata", "typed-by-reader", "origin", "referer"],
)
def test_same_origin_posts_are_accepted(stripe, article, headers):
    response = bare_client().post(appreciate_url(article), form_data(), headers=headers)
    assert response.status_code == 303
    assert response["Location"].startswith("https://checkout.stripe.com/")
    assert Appreciation.objects.count() == 1 and session_creations(stripe) == 1


def test_an_origin_listed_in_csrf_trusted_origins_may_post(stripe, article, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://www.example.org"]
    for headers in (
        {"Origin": "https://www.example.org"},
        {"Sec-Fetch-Site": "same-site", "Origin": "https://www.example.org"},
    ):
        assert bare_client().post(appreciate_url(article), form_data(), headers=headers).status_code == 303
    refused = bare_client().post(
        appreciate_url(article),
        form_data(),
        headers={"Sec-Fetch-Site": "cross-site", "Origin": "https://x.org"},
    )
    assert refused.status_code == 403


def test_https_behind_the_proxy_compares_the_https_origin(stripe, article, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    headers = {"Origin": "https://testserver", "X-Forwarded-Proto": "https", "Host": "testserver"}
    assert bare_client().post(appreciate_url(article), form_data(), headers=headers).status_code == 303
    plain = {"Origin": "http://testserver", "X-Forwarded-Proto": "https", "Host": "testserver"}
    assert bare_client().post(appreciate_url(article), form_data(), headers=plain).status_code == 403


def test_the_admin_keeps_djangos_csrf_token(admin_user):
    client = bare_client()
    client.handler.enforce_csrf_checks = True
    page = client.get("/admin/login/")
    assert "csrfmiddlewaretoken" in page.content.decode()
    response = client.post("/admin/login/", {"username": admin_user.username, "password": "password"})
    assert response.status_code == 403  # no token: Django's CSRF refusal
