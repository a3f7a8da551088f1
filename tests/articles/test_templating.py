"""The Jinja2 environment's helpers behave as the Django template tags and filters they replace."""

from datetime import UTC, date, datetime

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from articles import templating


@pytest.mark.parametrize("empty", [None, ""])
def test_date_of_nothing_is_empty(empty):
    assert templating.date(empty, "j F Y") == ""


def test_date_is_in_the_current_time_zone_and_language(settings):
    settings.TIME_ZONE = "Europe/Amsterdam"
    moment = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # already 2 March in Amsterdam
    with translation.override("nl"):
        assert templating.date(moment, "j F Y, H:i") == "2 maart 2026, 00:30"
    with translation.override("en"):
        assert templating.date(date(2026, 3, 1), "j F Y") == "1 March 2026"


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 3, 1, 23, 30, tzinfo=UTC),  # winter time in Amsterdam
        datetime(2026, 7, 1, 12, 0, 5, 123456, tzinfo=UTC),  # summer time, microseconds
        datetime(2026, 3, 1, 23, 30),  # naive: as it is
    ],
)
def test_iso_date_is_django_s_in_the_current_time_zone(settings, moment):
    from django.template import defaultfilters
    from django.utils import timezone

    settings.TIME_ZONE = "Europe/Amsterdam"
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    assert templating.date(moment, "c") == defaultfilters.date(local, "c")
    if timezone.is_aware(moment):
        assert templating.date(moment, "c").endswith(("+01:00", "+02:00"))


@pytest.mark.django_db
def test_a_reading_page_renders_without_a_request():
    # Language links then offer each language's home page.
    with translation.override("nl"):
        html = render_to_string("payments/thank_you_unknown.html", {})
    assert 'href="/en/"' in html and 'hreflang="en"' in html


def test_static_urls_are_the_storage_s_and_follow_a_change_of_settings(settings):
    settings.STATIC_URL = "/static/"
    assert templating.static_memo("css/site.css") == "/static/css/site.css"
    settings.STATIC_URL = "https://cdn.example.org/waardeer/"
    assert templating.static_memo("css/site.css") == "https://cdn.example.org/waardeer/css/site.css"
