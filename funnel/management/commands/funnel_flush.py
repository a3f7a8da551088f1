"""Move the funnel counters from the cache into the database; run from cron every minute."""

from django.core.management.base import BaseCommand

from funnel.services import FLUSH_DAYS, funnel_flush


class Command(BaseCommand):
    help = "Add the counted views, widget sightings and checkouts started to the daily counts."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=FLUSH_DAYS,
            help=f"How many days back to look for counters (default {FLUSH_DAYS}).",
        )

    def handle(self, *args, days: int, verbosity: int, **options) -> None:
        result = funnel_flush(days=days)
        if result.locked:
            self.stderr.write("Another funnel_flush is running; nothing done.")
            return
        if verbosity >= 1:
            self.stdout.write(
                f"{result.rows} daily rows: +{result.views} views, +{result.seen} seen, "
                f"+{result.started} started"
            )
