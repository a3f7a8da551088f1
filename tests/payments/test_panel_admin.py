"""Appreciations and Stripe events in the admin: read-only money, isolation between authors."""

from datetime import UTC, datetime

import pytest
from django.contrib.admin import helpers
from django.urls import reverse

from payments.models import Appreciation, StripeEvent
from tests.factories import ArticleFactory, UserFactory
from tests.panel_helpers import author_login, editor_login, paid

pytestmark = pytest.mark.django_db

WHEN = datetime(2026, 2, 3, 12, tzinfo=UTC)


@pytest.fixture
def pair():
    user_a, author_a = author_login("anna")
    _, author_b = author_login("bram")
    own_article = ArticleFactory(author=author_a)
    foreign_article = ArticleFactory(author=author_b)
    own = paid(own_article, paid_at=WHEN, display_name="Els", message="Mooi", is_public=True)
    foreign = paid(foreign_article, paid_at=WHEN, display_name="Piet", message="For Bram only")
    return user_a, own, foreign


@pytest.fixture
def superuser():
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def test_author_lists_only_appreciations_of_own_articles(client, pair):
    user_a, own, _ = pair
    client.force_login(user_a)
    response = client.get(reverse("admin:payments_appreciation_changelist"))
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [own]
    assert "For Bram only" not in response.content.decode()


@pytest.mark.parametrize(
    "param", ["article__id__exact", "article", "author__id__exact", "article__author__id__exact"]
)
def test_author_filtering_on_foreign_ids_is_forbidden(client, pair, param):
    user_a, _, foreign = pair
    client.force_login(user_a)
    value = foreign.author_id if "author" in param else foreign.article_id
    response = client.get(reverse("admin:payments_appreciation_changelist"), {param: value})
    assert response.status_code == 403


def test_author_may_filter_on_own_article(client, pair):
    user_a, own, _ = pair
    client.force_login(user_a)
    response = client.get(
        reverse("admin:payments_appreciation_changelist"), {"article__id__exact": own.article_id}
    )
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [own]


@pytest.mark.parametrize("view", ["change", "history", "delete"])
def test_author_cannot_reach_another_authors_appreciation(client, pair, view):
    user_a, _, foreign = pair
    client.force_login(user_a)
    url = reverse(f"admin:payments_appreciation_{view}", args=[foreign.pk])
    assert client.get(url).status_code in (403, 404)
    assert client.post(url, {"hidden_by_author": "on", "post": "yes"}).status_code in (403, 404)
    foreign.refresh_from_db()
    assert foreign.hidden_by_author is False


def test_nobody_adds_or_deletes_appreciations(client, pair, superuser):
    _, own, _ = pair
    client.force_login(superuser)
    assert client.get(reverse("admin:payments_appreciation_add")).status_code == 403
    delete = reverse("admin:payments_appreciation_delete", args=[own.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    changelist = client.get(reverse("admin:payments_appreciation_changelist"))
    assert "delete_selected" not in changelist.context["action_form"].fields["action"].choices.__repr__()
    assert Appreciation.objects.filter(pk=own.pk).exists()


@pytest.mark.parametrize("who", ["author", "superuser"])
def test_money_fields_cannot_be_changed_by_anyone(client, pair, superuser, who):
    user_a, own, _ = pair
    client.force_login(user_a if who == "author" else superuser)
    url = reverse("admin:payments_appreciation_change", args=[own.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert list(page.context["adminform"].form.fields) == ["hidden_by_author"]
    response = client.post(
        url,
        {
            "hidden_by_author": "on",
            "amount": "1",
            "status": "failed",
            "refunded_amount": "500",
            "fee_amount": "0",
            "message": "changed",
        },
    )
    assert response.status_code == 302
    own.refresh_from_db()
    assert own.hidden_by_author is True
    assert (own.amount, own.status, own.refunded_amount, own.fee_amount, own.message) == (
        500,
        "paid",
        0,
        40,
        "Mooi",
    )


def test_hide_and_show_actions_touch_only_own_appreciations(client, pair):
    user_a, own, foreign = pair
    client.force_login(user_a)
    url = reverse("admin:payments_appreciation_changelist")
    selected = [str(own.pk), str(foreign.pk)]
    response = client.post(url, {"action": "hide_from_page", helpers.ACTION_CHECKBOX_NAME: selected})
    assert response.status_code == 302
    own.refresh_from_db()
    foreign.refresh_from_db()
    assert own.hidden_by_author is True
    assert foreign.hidden_by_author is False
    client.post(url, {"action": "show_on_page", helpers.ACTION_CHECKBOX_NAME: [str(own.pk)]})
    own.refresh_from_db()
    assert own.hidden_by_author is False


def test_editor_sees_every_appreciation_read_only(client, pair):
    _, own, foreign = pair
    client.force_login(editor_login())
    listing = client.get(reverse("admin:payments_appreciation_changelist"))
    assert set(listing.context["cl"].result_list) == {own, foreign}
    page = client.get(reverse("admin:payments_appreciation_change", args=[foreign.pk]))
    assert page.status_code == 200
    assert list(page.context["adminform"].form.fields) == ["hidden_by_author"]


def test_reader_text_is_escaped_in_the_admin(client):
    user, author = author_login("anna")
    appreciation = paid(
        ArticleFactory(author=author),
        paid_at=WHEN,
        display_name="<i>x</i>",
        message="<script>boom()</script>",
    )
    client.force_login(user)
    for url in (
        reverse("admin:payments_appreciation_changelist"),
        reverse("admin:payments_appreciation_change", args=[appreciation.pk]),
    ):
        content = client.get(url).content.decode()
        assert "<script>boom()" not in content
        assert "&lt;script&gt;boom()" in content
        assert "<i>x</i>" not in content


def test_appreciation_changelist_queries_do_not_depend_on_rows(client, django_assert_max_num_queries):
    user, author = author_login("anna")
    article = ArticleFactory(author=author)
    for _ in range(3):
        paid(article, paid_at=WHEN)
    client.force_login(user)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("admin:payments_appreciation_changelist"))
    for _ in range(40):
        paid(ArticleFactory(author=author), paid_at=WHEN)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("admin:payments_appreciation_changelist"))
    assert len(few) == len(many)


# --- Stripe events --------------------------------------------------------------------------


@pytest.fixture
def event():
    return StripeEvent.objects.create(
        stripe_event_id="evt_1", type="charge.refunded", created=WHEN, payload={"id": "evt_1"}
    )


def test_editor_views_stripe_events_but_cannot_change_them(client, event):
    client.force_login(editor_login())
    url = reverse("admin:payments_stripeevent_change", args=[event.pk])
    assert client.get(reverse("admin:payments_stripeevent_changelist")).status_code == 200
    assert client.get(url).status_code == 200
    client.post(url, {"type": "tampered", "outcome": "processed"})
    event.refresh_from_db()
    assert (event.type, event.outcome) == ("charge.refunded", "received")
    assert client.get(reverse("admin:payments_stripeevent_add")).status_code == 403
    assert (
        client.post(
            reverse("admin:payments_stripeevent_delete", args=[event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )


def test_author_cannot_see_stripe_events(client, event):
    user, _ = author_login("anna")
    client.force_login(user)
    assert client.get(reverse("admin:payments_stripeevent_changelist")).status_code == 403
    assert client.get(reverse("admin:payments_stripeevent_change", args=[event.pk])).status_code == 403
