"""What we hold about one reader's appreciation, and erasing it (a data subject request).

We store no reader email addresses: Stripe collects the email on its own checkout page and
we never copy it (see README, Privacy). So a request is matched by what the reader can give
us from their receipt or thank-you link: the appreciation's public id or the Checkout Session
id (`cs_…`). `--erase` blanks the name and message and withdraws the public flag; the money
fields stay, because bookkeeping must keep every payment. Running it again changes nothing.

    python manage.py reader_data --session cs_live_a1B2c3
    python manage.py reader_data --appreciation 0b7c…-… --erase
"""

import uuid

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q

from payments.models import Appreciation
from payments.money import format_money
from payments.services import supporters_changed


def appreciation_reader_data_erase(*, appreciation_id: int) -> bool:
    """Blank the reader's own words on one appreciation; True if anything changed."""
    with transaction.atomic():
        appreciation = Appreciation.objects.select_for_update().get(pk=appreciation_id)
        if not (appreciation.display_name or appreciation.message or appreciation.is_public):
            return False
        appreciation.display_name = ""
        appreciation.message = ""
        appreciation.is_public = False
        appreciation.save(update_fields=["display_name", "message", "is_public", "updated_at"])
        supporters_changed(article_ids=[appreciation.article_id])  # the name may be listed there
    return True


class Command(BaseCommand):
    help = "Show, and with --erase blank, what we hold about a reader's appreciation."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--email", help="Accepted, but we hold no reader emails (see README).")
        parser.add_argument("--appreciation", action="append", default=[], help="public id (UUID)")
        parser.add_argument("--session", action="append", default=[], help="Checkout Session id, cs_…")
        parser.add_argument("--erase", action="store_true", help="blank name and message; keep money rows")

    def handle(
        self, *args, email: str | None, appreciation: list[str], session: list[str], erase: bool, **opts
    ):
        if not (email or appreciation or session):
            raise CommandError("Give --appreciation, --session or --email.")
        if email:
            self.stdout.write(
                "We hold no reader email addresses: Stripe collects them on its checkout page and "
                "we never copy them. Ask the reader for the appreciation id or the session id (cs_…) "
                "from their thank-you link, or look the email up in the Stripe Dashboard."
            )
        public_ids = []
        for value in appreciation:
            try:
                public_ids.append(uuid.UUID(value))
            except ValueError:
                raise CommandError(f"Not an appreciation id: {value!r}") from None
        found = list(
            Appreciation.objects.filter(
                Q(public_id__in=public_ids) | Q(stripe_checkout_session_id__in=session)
            ).select_related("article")
        )
        if not found:
            self.stdout.write("No appreciation matches." if (appreciation or session) else "Nothing listed.")
            return
        for record in sorted(found, key=lambda item: item.created_at):
            if erase:
                changed = appreciation_reader_data_erase(appreciation_id=record.pk)
                record.refresh_from_db()
                self.stdout.write(f"{record.public_id}: {'erased' if changed else 'already erased'}")
            self._show(record)

    def _show(self, record: Appreciation) -> None:
        lines = [
            f"appreciation {record.public_id}",
            f"  article: {record.article.title}",
            f"  created: {record.created_at:%Y-%m-%d %H:%M %Z}",
            f"  status: {record.status}",
            f"  amount: {format_money(record.amount, record.currency, 'en')}"
            f" (of which fee cover {format_money(record.fee_cover_amount, record.currency, 'en')})",
            f"  refunded: {format_money(record.refunded_amount, record.currency, 'en')}",
            f"  name: {record.display_name!r}",
            f"  message: {record.message!r}",
            f"  public: {'yes' if record.is_public else 'no'}",
            f"  language: {record.locale}",
            f"  Stripe session: {record.stripe_checkout_session_id or '-'}",
        ]
        self.stdout.write("\n".join(lines))
