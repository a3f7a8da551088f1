"""Honeypot and minimum fill-in time: bots are answered as if all went well; nothing is made."""

import re
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import signing

from payments.models import Appreciation
from tests.factories import ArticleFactory
from tests.security.helpers import answer_session_create, appreciate_url, form_data, session_creations

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _minimum_on(settings):
    settings.APPRECIATION_MIN_SUBMIT_SECONDS = 3
    settings.APPRECIATION_FORM_MAX_AGE = 86400


@pytest.fixture
def stripe(stripe_transport):
    answer_session_create(stripe_transport)
    return stripe_transport


@pytest.fixture
def article():
    return ArticleFactory(slug="de-dijk", title="De dijk")


def assert_silently_dropped(response, stripe, article):
    assert response.status_code == 303
    assert response["Location"] == f"{article.get_absolute_url()}#waardeer"
    assert Appreciation.objects.count() == 0 and session_creations(stripe) == 0


def test_the_honeypot_is_hidden_from_people_keyboards_and_screen_readers(client, article):
    html = client.get(article.get_absolute_url()).content.decode()
    wrapper = re.search(r'<div[^>]*class="appreciation-hp"[^>]*>(.*?)</div>', html, re.S)
    assert wrapper and 'aria-hidden="true"' in wrapper.group(0)
    field = re.search(r'<input[^>]*name="website"[^>]*>', html).group(0)
    assert 'tabindex="-1"' in field and 'autocomplete="off"' in field and 'type="text"' in field
    css = (Path(django_settings.BASE_DIR) / "static" / "css" / "widget.css").read_text()
    assert ".appreciation-hp { position: absolute; left: -10000px" in css


def test_the_page_carries_a_signed_render_time(client, article):
    before = int(time.time())
    html = client.get(article.get_absolute_url()).content.decode()
    token = re.search(r'name="rendered" value="([^"]+)"', html).group(1)
    assert before <= signing.loads(token, salt="payments.forms.appreciation-rendered") <= time.time()


def test_the_render_time_is_signed_with_the_current_secret_key(settings):
    from payments.forms import rendered_stamp

    now = time.time()
    first = rendered_stamp(now=now)
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"
    second = rendered_stamp(now=now)
    assert second != first
    assert signing.loads(second, salt="payments.forms.appreciation-rendered") == int(now)


def test_a_filled_honeypot_is_dropped_silently(client, stripe, article):
    response = client.post(appreciate_url(article), form_data(website="http://spam.example"))
    assert_silently_dropped(response, stripe, article)


def test_a_filled_honeypot_is_dropped_even_with_an_invalid_amount(client, stripe, article):
    response = client.post(appreciate_url(article), form_data(amount="abc", website="x"))
    assert_silently_dropped(response, stripe, article)


def test_a_submit_faster_than_the_minimum_is_dropped_silently(client, stripe, article):
    response = client.post(appreciate_url(article), form_data(seconds_ago=1))
    assert_silently_dropped(response, stripe, article)


def test_a_render_time_in_the_future_is_dropped(client, stripe, article):
    response = client.post(appreciate_url(article), form_data(seconds_ago=-600))
    assert_silently_dropped(response, stripe, article)


def test_a_missing_render_time_is_dropped(client, stripe, article):
    response = client.post(appreciate_url(article), form_data(rendered=None))
    assert_silently_dropped(response, stripe, article)


def test_the_minimum_is_configurable(client, stripe, article, settings):
    settings.APPRECIATION_MIN_SUBMIT_SECONDS = 30
    assert_silently_dropped(client.post(appreciate_url(article), form_data(seconds_ago=20)), stripe, article)
    assert client.post(appreciate_url(article), form_data(seconds_ago=31)).status_code == 303
    assert session_creations(stripe) == 1


def test_a_reader_after_the_minimum_goes_to_stripe(client, stripe, article):
    response = client.post(appreciate_url(article), form_data(seconds_ago=4))
    assert response.status_code == 303 and response["Location"].startswith("https://checkout.stripe.com/")
    assert Appreciation.objects.count() == 1 and session_creations(stripe) == 1


def test_a_cached_page_a_day_old_still_works(client, stripe, article):
    response = client.post(appreciate_url(article), form_data(seconds_ago=23 * 3600))
    assert response.status_code == 303 and session_creations(stripe) == 1


@pytest.mark.parametrize(
    "rendered",
    [
        lambda: signing.dumps(int(time.time()) - 25 * 3600, salt="payments.forms.appreciation-rendered"),
        lambda: "MTc5NTgyNzAzMw:1xX6eJ:forged-signature",
        lambda: signing.dumps(int(time.time()) - 60, salt="another-purpose"),
        lambda: signing.dumps("not a time", salt="payments.forms.appreciation-rendered"),
    ],
    ids=["older-than-a-day", "forged", "other-salt", "not-a-number"],
)
def test_an_old_or_unsigned_form_asks_to_try_again_and_the_retry_works(client, stripe, article, rendered):
    data = form_data(rendered=rendered(), message="Dank je")
    response = client.post(appreciate_url(article, "/en"), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "This form was open for a long time" in html
    assert "Dank je</textarea>" in html  # the reader's input is kept
    assert Appreciation.objects.count() == 0 and session_creations(stripe) == 0
    fresh = re.search(r'name="rendered" value="([^"]+)"', html).group(1)
    assert fresh != data["rendered"]
    # Pressing the button again at once is fine: the reader already spent long on the page.
    retry = client.post(appreciate_url(article), {**data, "rendered": fresh})
    assert retry.status_code == 303 and session_creations(stripe) == 1


def test_an_invalid_amount_rerender_keeps_the_original_render_time(client, stripe, article):
    data = form_data(amount="abc")
    html = client.post(appreciate_url(article), data).content.decode()
    assert f'name="rendered" value="{data["rendered"]}"' in html
