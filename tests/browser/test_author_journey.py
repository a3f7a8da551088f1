"""The author's journey in Chromium, on a phone and a desktop: a reader's appreciation arrives
through the sandbox, the author finds it on the panel's dashboard with the amounts of the
books, hides the reader's message from the article, and another author never sees it."""

import re

import pytest
from django.utils import translation
from django.utils.text import capfirst

from articles.roles import author_role_grant
from payments import sandbox
from payments.models import Appreciation
from payments.money import format_money
from tests.browser.conftest import assert_accessible, ntr, screenshot, tr
from tests.browser.journeys import (
    article_path,
    fill_widget,
    sandbox_choose,
    submit_to_sandbox,
    supporter_count_text,
    supporters_list,
    wait_for_thank_you,
)
from tests.factories import ArticleFactory, AuthorFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple"  # tests.factories.UserFactory
MESSAGE = "Dank voor het geduld met de bronnen."


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Django's default hasher spends about a second per login on this machine, by design.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _author_with_login(username: str, name: str):
    author = AuthorFactory(name=name, slug=username)
    user = UserFactory(username=username)
    author_role_grant(user, author)
    return author


def _log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/admin/")
    # Django labels the fields with the model's verbose names, capitalised.
    page.get_by_label(re.compile(tr("username"), re.IGNORECASE)).fill(username)
    page.get_by_label(re.compile(tr("password"), re.IGNORECASE)).fill(PASSWORD)
    page.get_by_role("button", name=tr("Log in")).click()
    page.wait_for_url(f"{base_url}/admin/")


def _totals(page) -> dict[str, str]:
    """The dashboard's totals as label → figure."""
    region = page.get_by_role("region", name=tr("Totals"), exact=True)
    return region.evaluate(
        """section => Object.fromEntries([...section.querySelectorAll("dt")].map(
               dt => [dt.innerText.trim(), dt.nextElementSibling.innerText.trim()]))"""
    )


def _appreciations_changelist(page) -> None:
    """From the dashboard's "Manage" list, as an author would click."""
    with translation.override("nl"):
        name = capfirst(str(Appreciation._meta.verbose_name_plural))
    manage = page.get_by_role("region", name=tr("Manage"), exact=True)
    # The app is called "Appreciations" too: its link is the table's caption, the model's a row.
    manage.get_by_role("row").get_by_role("link", name=name, exact=True).click()
    page.wait_for_url("**/admin/payments/appreciation/")


def test_author_finds_the_appreciation_hides_the_message_and_another_author_does_not_see_it(
    open_page, sandbox_site, viewport_name
):
    noor = _author_with_login("noor", "Noor van Dalen")
    _author_with_login("mila", "Mila Radić")
    article = ArticleFactory(title="Zand in de Sahel", slug="zand-in-de-sahel", author=noor)

    reader = open_page("desktop")
    reader.goto(sandbox_site + article_path(article))
    fill_widget(reader, amount="2,50", name="Sanne de Wit", message=MESSAGE, public=True)
    submit_to_sandbox(reader)
    sandbox_choose(reader, "paid")
    wait_for_thank_you(reader)
    appreciation = Appreciation.objects.get()
    assert appreciation.status == "paid"
    # The fee comes from the sandbox's balance transaction, read by the books.
    assert appreciation.fee_amount == sandbox.fee_estimate(250)

    def eur(cents: int) -> str:
        return format_money(cents, "EUR", "nl")

    panel = open_page(viewport_name)
    _log_in(panel, sandbox_site, "noor")
    heading = tr("Dashboard of %(name)s") % {"name": "Noor van Dalen"}
    assert panel.get_by_role("heading", level=1).inner_text() == heading
    totals = _totals(panel)
    assert totals[tr("Supporters")] == "1"
    assert totals[tr("Gross")] == eur(250)
    assert totals[tr("Stripe fees")] == eur(appreciation.fee_amount)
    assert totals[tr("Net")] == eur(appreciation.amount - appreciation.fee_amount)
    row = panel.get_by_role("row").filter(has=panel.get_by_role("rowheader", name=article.title))
    assert row.get_by_role("cell").all_inner_texts()[:3] == [
        "1",
        eur(250),
        eur(appreciation.amount - appreciation.fee_amount),
    ]
    latest = panel.get_by_role("region", name=tr("Latest messages from readers"))
    assert MESSAGE in latest.inner_text()
    assert "Sanne de Wit" in latest.inner_text()
    # On a phone the per-article table scrolls on its own; the page does not scroll sideways.
    assert panel.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(panel, f"dashboard-{viewport_name}")
    assert_accessible(panel)

    _appreciations_changelist(panel)
    panel.get_by_role("row").filter(has_text="Sanne de Wit").get_by_role("checkbox").check()
    panel.get_by_label(tr("Action:")).select_option(label=tr("Hide name and message from the article"))
    panel.get_by_role("button", name=tr("Go"), exact=True).click()
    panel.wait_for_load_state()
    hidden = ntr("%(count)d appreciation hidden.", "%(count)d appreciations hidden.", 1) % {"count": 1}
    assert panel.get_by_text(hidden).is_visible()
    appreciation.refresh_from_db()
    assert appreciation.hidden_by_author is True

    # Another reader (a browser without a cached copy) opens the article.
    later = open_page(viewport_name)
    later.goto(sandbox_site + article_path(article))
    assert later.get_by_text(supporter_count_text(1)).is_visible()
    main = later.locator("main").inner_text()
    assert MESSAGE not in main
    assert "Sanne de Wit" not in main
    assert supporters_list(later).count() == 0

    other = open_page(viewport_name)
    _log_in(other, sandbox_site, "mila")
    dashboard = other.locator("main, #content").first.inner_text()
    assert MESSAGE not in dashboard
    assert "Sanne de Wit" not in dashboard
    assert _totals(other)[tr("Supporters")] == "0"
    _appreciations_changelist(other)
    assert "Sanne de Wit" not in other.locator("#content").inner_text()
    response = other.goto(f"{sandbox_site}/admin/payments/appreciation/{appreciation.pk}/change/")
    assert response.status == 404
    assert MESSAGE not in other.content()
