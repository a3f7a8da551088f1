"""Logins and books for the author panel tests: two authors, an editor, paid appreciations."""

from datetime import datetime

from articles.models import Author
from articles.roles import author_role_grant, editor_role_grant
from payments.models import Appreciation
from tests.factories import AppreciationFactory, AuthorFactory, UserFactory


def author_login(username: str, **author_fields) -> tuple:
    """A staff user in the Authors group, linked to a new Author."""
    user = UserFactory(username=username, is_staff=True)
    author = AuthorFactory(**author_fields)
    author_role_grant(user, author)
    user.refresh_from_db()
    return user, author


def editor_login(username: str = "editor"):
    user = UserFactory(username=username, is_staff=True)
    editor_role_grant(user)
    user.refresh_from_db()
    return user


def paid(article, *, paid_at: datetime, amount: int = 500, fee: int | None = 40, **fields) -> Appreciation:
    """An appreciation in the PAID state as the books would leave it after Stripe's events."""
    return AppreciationFactory(
        article=article,
        status=Appreciation.Status.PAID,
        paid_at=paid_at,
        amount=amount,
        fee_amount=fee,
        **fields,
    )


__all__ = ["Author", "author_login", "editor_login", "paid"]
