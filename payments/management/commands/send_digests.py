"""Send yesterday's digest to every author who chose a daily digest. Run once a day from cron;
running it again (or for an earlier day with --date) never sends a digest twice."""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from payments.notifications import digest_authors, digest_send
from payments.reports import site_today


class Command(BaseCommand):
    help = "Email each author with notify=daily a digest of one day's appreciations (default: yesterday)."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="The day to report, YYYY-MM-DD, in the site's time zone.")

    def handle(self, *args, **options):
        if options["date"]:
            try:
                day = date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError("--date must be a date such as 2026-11-27.") from None
        else:
            day = site_today() - timedelta(days=1)
        sent = sum(digest_send(author=author, day=day) for author in digest_authors(day))
        self.stdout.write(f"Sent {sent} digest(s) for {day.isoformat()}.")
