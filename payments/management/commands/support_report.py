"""The books on the command line, for support and the editor.

    python manage.py support_report [--author SLUG] [--article SLUG] [--month YYYY-MM] [--json]

Totals per author and per article, per currency, from payments.selectors (the same figures
the panel shows). `--json` prints this stable form, amounts as integers in minor units:

    {"filters": {"author": slug|null, "article": slug|null, "month": "YYYY-MM"|null},
     "authors":  [{"slug", "name", "totals": [TOTALS, ...]}, ...],
     "articles": [{"slug", "title", "author", "totals": [TOTALS, ...]}, ...]}

    TOTALS = {"currency", "payments", "supporters", "gross", "refunded", "disputed",
              "fees", "fees_missing", "dispute_fees", "net"}

`dispute_fees` is what Stripe charged for disputes (kept even when a dispute is won); `net`
already subtracts it: net = gross - refunded - disputed - fees - dispute_fees.
Lists are sorted by slug, totals by currency; keys never disappear (null when unset).
"""

import json
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from articles.models import Article, Author
from payments import selectors
from payments.money import format_plain

TOTAL_FIELDS = (
    "payments",
    "supporters",
    "gross",
    "refunded",
    "disputed",
    "fees",
    "fees_missing",
    "dispute_fees",
    "net",
)
# The text report's money columns, in order: dispute fees beside Stripe's fees.
TEXT_MONEY = (
    ("gross", 10),
    ("refunded", 10),
    ("disputed", 10),
    ("fees", 9),
    ("dispute_fees", 9),
    ("net", 10),
)
TEXT_HEADINGS = {"dispute_fees": "disp.fees"}


def month_range(text: str) -> tuple[datetime, datetime]:
    """Start and end of a calendar month in the site's time zone."""
    try:
        first = datetime.strptime(text, "%Y-%m")
    except ValueError:
        raise CommandError(f"--month takes YYYY-MM, not {text!r}") from None
    following = first.replace(year=first.year + first.month // 12, month=first.month % 12 + 1)
    return timezone.make_aware(first), timezone.make_aware(following)


def _totals_dict(totals: selectors.Totals) -> dict[str, Any]:
    return {"currency": totals.currency, **{name: getattr(totals, name) for name in TOTAL_FIELDS}}


class Command(BaseCommand):
    help = "Totals per author and per article (gross, refunded, disputed, fees, dispute fees, net)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--author", help="only this author (slug)")
        parser.add_argument("--article", help="only this article (slug)")
        parser.add_argument("--month", help="only payments made in this month, YYYY-MM (site time zone)")
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args, **options) -> None:
        filters: dict[str, Any] = {}
        if options["author"]:
            try:
                filters["author"] = Author.objects.get(slug=options["author"])
            except Author.DoesNotExist:
                raise CommandError(f"No author with slug {options['author']!r}") from None
        if options["article"]:
            try:
                filters["article"] = Article.objects.get(slug=options["article"])
            except Article.DoesNotExist:
                raise CommandError(f"No article with slug {options['article']!r}") from None
        if options["month"]:
            filters["start"], filters["end"] = month_range(options["month"])

        authors: dict[int, dict[str, Any]] = {}
        articles: dict[int, dict[str, Any]] = {}
        for currency in selectors.currencies(**filters):
            for author, totals in selectors.totals_by_author(currency=currency, **filters):
                entry = authors.setdefault(
                    author.pk, {"slug": author.slug, "name": author.name, "totals": []}
                )
                entry["totals"].append(_totals_dict(totals))
            for article, totals in selectors.totals_by_article(currency=currency, **filters):
                entry = articles.setdefault(
                    article.pk,
                    {
                        "slug": article.slug,
                        "title": article.title,
                        "author": article.author.slug,
                        "totals": [],
                    },
                )
                entry["totals"].append(_totals_dict(totals))
        report = {
            "filters": {
                "author": options["author"] or None,
                "article": options["article"] or None,
                "month": options["month"] or None,
            },
            "authors": sorted(authors.values(), key=lambda entry: entry["slug"]),
            "articles": sorted(articles.values(), key=lambda entry: entry["slug"]),
        }
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2, sort_keys=True))
        else:
            self._write_text(report)

    def _write_text(self, report: dict[str, Any]) -> None:
        header = f"{'':40} {'cur':3} {'pays':>5} {'supp':>5} " + " ".join(
            f"{TEXT_HEADINGS.get(name, name):>{width}}" for name, width in TEXT_MONEY
        )
        for title, rows, label in (
            ("Per author", report["authors"], lambda entry: f"{entry['name']} ({entry['slug']})"),
            ("Per article", report["articles"], lambda entry: f"{entry['title']} ({entry['slug']})"),
        ):
            self.stdout.write(title)
            self.stdout.write(header)
            if not rows:
                self.stdout.write("  (no paid appreciations)")
            for entry in rows:
                for totals in entry["totals"]:
                    cur = totals["currency"]
                    money = " ".join(
                        f"{format_plain(totals[name], cur):>{width}}" for name, width in TEXT_MONEY
                    )
                    missing = f" ({totals['fees_missing']} fees missing)" if totals["fees_missing"] else ""
                    self.stdout.write(
                        f"{label(entry)[:40]:40} {cur:3} {totals['payments']:>5} {totals['supporters']:>5} "
                        f"{money}{missing}"
                    )
            self.stdout.write("")
