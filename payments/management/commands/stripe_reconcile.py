"""Catch up with Stripe: process events we missed and fill in missing fees.

    python manage.py stripe_reconcile --since 3d     # or 12h

Events come from Stripe's Events API (the last 30 days at most) and go through the same
`stripe_event_handle` as webhooks, so running it twice changes nothing the second time.
Meant for cron, e.g. hourly with `--since 3d`.
"""

import re
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from payments import services, stripe_api
from payments.models import Appreciation, StripeEvent

_PERIOD = re.compile(r"^(?P<count>[1-9][0-9]{0,3})(?P<unit>[dh])$")


def parse_period(text: str) -> timedelta:
    """`3d` or `12h`; Stripe keeps events for 30 days, so longer periods find nothing more."""
    match = _PERIOD.match(text.strip().lower())
    if not match:
        raise CommandError(f"--since takes a number of days or hours such as 3d or 12h, not {text!r}")
    count = int(match.group("count"))
    return timedelta(days=count) if match.group("unit") == "d" else timedelta(hours=count)


class Command(BaseCommand):
    help = "Process Stripe events we missed since a period ago and fill in missing fees."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", default="3d", help="period to look back, e.g. 3d or 12h (default 3d)")

    def handle(self, *args, since: str, **options) -> None:
        start = timezone.now() - parse_period(since)
        try:
            events = stripe_api.events_list(
                created_gte=int(start.timestamp()), types=list(services.HANDLED_EVENT_TYPES)
            )
        except stripe_api.PaymentProviderError as exc:
            raise CommandError(f"Stripe's Events API could not be read: {exc}") from exc

        changes = 0
        outcomes = dict(
            StripeEvent.objects.filter(stripe_event_id__in=[event["id"] for event in events]).values_list(
                "stripe_event_id", "outcome"
            )
        )
        for event in events:
            before = outcomes.get(event["id"])
            if before in services.FINAL_OUTCOMES:
                continue
            try:
                record = services.stripe_event_handle(event)
            except services.InvalidEvent:
                self.stderr.write(f"event {event.get('id')}: not a Stripe event, skipped")
                continue
            except services.EventProcessingError as exc:
                self.stderr.write(f"event {event['id']} {event['type']}: failed ({exc})")
                continue
            if record.outcome != before:
                changes += 1
                self.stdout.write(
                    f"event {record.stripe_event_id} {record.type}: {before or 'missing'} -> {record.outcome}"
                )

        missing = (
            Appreciation.objects.paid().filter(fee_amount__isnull=True).exclude(stripe_payment_intent_id=None)
        )
        for appreciation_id in missing.values_list("pk", flat=True):
            if services.appreciation_fees_fetch(appreciation_id=appreciation_id):
                changes += 1
                appreciation = Appreciation.objects.get(pk=appreciation_id)
                if appreciation.fee_amount is None:
                    self.stdout.write(f"appreciation {appreciation.public_id}: charge recorded, no fee yet")
                else:
                    self.stdout.write(
                        f"appreciation {appreciation.public_id}: fee {appreciation.fee_amount} "
                        f"{appreciation.settlement_currency} recorded"
                    )
            else:
                self.stderr.write(f"appreciation {appreciation_id}: fee still unknown")

        self.stdout.write(f"{len(events)} events since {start:%Y-%m-%d %H:%M %Z}; {changes} changes.")
