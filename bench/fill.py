"""Fill a PostgreSQL database with a realistic volume for the benchmark (`make bench`).

    .venv/bin/python bench/fill.py [--refill] [--database-url postgres://...]

Default volume: 20 authors, 10,000 articles, 1,000,000 appreciations, in BENCH_DATABASE_URL
(postgres://postgres@127.0.0.1:5432/waardeer_bench), created and migrated when missing.
Rows go in through psycopg 3 `COPY`, in one transaction, so a full fill takes minutes; a
database that already holds the volume is left alone unless --refill is given.

The distribution is meant to look like a real site's books, so the dashboard and reports are
measured against the work they will really do: most appreciations paid (fees and net filled,
as reconciliation leaves them), some refunded in part or in full, some disputed (open, won,
lost), some pending, expired, failed or processing; paid_at spread over about two years, popular
articles earning much more than the long tail, payments clustered after publication.
Everything is derived from a seeded random generator: the same seed gives the same data. Each
article's supporters are then stored as its first uncached page stores them
(payments.models.SupporterSummary), also in a database filled before they existed.
"""

# A local benchmark tool: it runs fixed commands and wants seeded, repeatable randomness.
# ruff: noqa: S311

import argparse
import io
import math
import os
import random
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/waardeer_bench"
BENCH_PREFIX = "bench"  # slugs and Stripe ids of generated rows start with it


@dataclass(frozen=True)
class Volume:
    authors: int = 20
    articles: int = 10_000
    appreciations: int = 1_000_000


# Our own filler text (never taken from the reference article).
_TITLE_WORDS = [
    "haven",
    "dijk",
    "gemeenteraad",
    "polder",
    "stikstof",
    "bibliotheek",
    "veerpont",
    "woningmarkt",
    "rechtbank",
    "zorgpersoneel",
    "windpark",
    "schooldag",
    "grensregio",
    "waterschap",
    "markt",
    "spoorlijn",
    "huurders",
    "boeren",
    "begroting",
    "archief",
    "vissers",
    "museum",
    "wijkteam",
]
_SENTENCES = [
    "The council met late on Tuesday and nobody expected the vote to go the way it did.",
    "De wethouder beloofde een antwoord voor de zomer, maar de brief kwam pas in oktober.",
    "Three residents kept notes of every meeting since the plan was first announced.",
    "Volgens de cijfers van het waterschap is het peil sinds maart met twaalf centimeter gedaald.",
    "A spokesperson declined to comment on the figures, citing an ongoing review.",
    "In de kantine van de club hangt nog altijd de foto van het elftal uit 1987.",
    "The documents, obtained through a freedom of information request, run to 214 pages.",
    "Wie 's ochtends de pont neemt, ziet dezelfde gezichten als tien jaar geleden.",
    "Local businesses say the roadworks cost them a third of their usual turnover.",
    "Het rapport noemt vier knelpunten, waarvan er twee al in 2019 werden gesignaleerd.",
    "She has lived on the same street for forty years and has seen five mayors come and go.",
    "De provincie wil het besluit niet terugdraaien, laat een woordvoerder weten.",
]
_NAMES = ["Anouk", "Bram", "Chen", "Daan", "Eva", "Fatima", "Gijs", "Hanna", "Ivo", "Jasmijn"]
_AUTHOR_NAMES = ["Sanne", "Joost", "Mirjam", "Thijs", "Lotte", "Ruben", "Noor", "Karim", "Femke", "Wouter"]
_MESSAGES = [
    "Thank you for staying on this story.",
    "Dank voor het goede werk!",
    "Keep going, we need this kind of reporting.",
    "Eindelijk iemand die het uitzoekt.",
    "For the coffee on the next long council night.",
]
_SECTIONS = [
    ("nieuws", "Nieuws", "News"),
    ("analyse", "Analyse", "Analysis"),
    ("reportage", "Reportage", "Feature"),
    ("opinie", "Opinie", "Opinion"),
    ("interview", "Interview", "Interview"),
]


# ---------------------------------------------------------------- COPY text format


def _text(value: Any) -> str:
    """One field in PostgreSQL's COPY text format."""
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    if any(ch in text for ch in "\\\t\n\r"):
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _columns(model, values: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """Every concrete column but the primary key, and the COPY text of defaults we do not set.

    Columns other engineers add later get their model default, so the fill keeps working.
    """
    columns, constants = [], {}
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        if field.attname not in values:
            default = field.get_default() if field.has_default() else None
            if default is None and not field.null:
                default = "" if field.get_internal_type() in ("CharField", "TextField") else None
            constants[field.column] = _text(field.get_db_prep_save(default, connection=_connection()))
    return columns, constants


def _connection():
    from django.db import connection

    return connection


def _copy(model, rows: Iterator[dict[str, Any]], *, chunk_rows: int = 20_000) -> int:
    """COPY rows (dicts keyed by attname) into the model's table; returns the row count."""
    first = next(rows, None)
    if first is None:
        return 0
    columns, constants = _columns(model, first)
    column_of = {f.column: f.attname for f in model._meta.concrete_fields}
    table = model._meta.db_table
    quoted = ", ".join(f'"{c}"' for c in columns)
    count = 0
    raw = _connection().connection
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
        buffer = io.StringIO()
        for row in _chain_first(first, rows):
            buffer.write(
                "\t".join(constants[c] if c in constants else _text(row[column_of[c]]) for c in columns)
            )
            buffer.write("\n")
            count += 1
            if count % chunk_rows == 0:
                copy.write(buffer.getvalue().encode())
                buffer = io.StringIO()
        copy.write(buffer.getvalue().encode())
    return count


def _chain_first(first, rest):
    yield first
    yield from rest


# ---------------------------------------------------------------- generators


def _fee(amount: int, method: str) -> int:
    """Roughly Stripe's EEA pricing: cards 1.5 % + €0.25, iDEAL €0.29, Bancontact €0.35."""
    if method == "ideal":
        return 29
    if method == "bancontact":
        return 35
    return (amount * 150 + 5_000) // 10_000 + 25


def _amount(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.35:
        return 300
    if roll < 0.70:
        return 500
    if roll < 0.85:
        return 1000
    # A typed amount: mostly a few euros, now and then a generous one (log-uniform, €1 to €500).
    return round(math.exp(rng.uniform(math.log(100), math.log(50_000))) / 50) * 50 or 100


def _article_rows(
    rng: random.Random, volume: Volume, author_ids: list[int], section_ids: list[int], now: datetime
) -> Iterator[dict[str, Any]]:
    from articles.models import Article
    from articles.rendering import render_markdown

    span = timedelta(days=760)
    for index in range(volume.articles):
        words = rng.sample(_TITLE_WORDS, 3)
        title = f"{words[0].capitalize()} en {words[1]}: wat er gebeurde met de {words[2]} ({index})"
        paragraphs = []
        for part in range(rng.randint(8, 14)):
            if part and part % 4 == 0:
                paragraphs.append(f"## {rng.choice(_TITLE_WORDS).capitalize()}")
            paragraphs.append(" ".join(rng.choices(_SENTENCES, k=rng.randint(3, 6))))
        roll = rng.random()
        if roll < 0.02:
            status, published_at = Article.Status.DRAFT, None
        elif roll < 0.03:
            status, published_at = Article.Status.PUBLISHED, now + timedelta(days=rng.randint(1, 30))
        else:
            status, published_at = Article.Status.PUBLISHED, now - span * rng.random() ** 0.8
        created = (published_at or now) - timedelta(hours=rng.randint(1, 72))
        body = "\n\n".join(paragraphs)
        yield {
            "title": title,
            "slug": f"{BENCH_PREFIX}-{index:05d}-{words[0]}-{words[1]}",
            "section_id": rng.choice(section_ids),
            # A few prolific authors write most of the articles.
            "author_id": author_ids[min(int(rng.expovariate(1 / 5)), len(author_ids) - 1)],
            "lede": " ".join(rng.choices(_SENTENCES, k=2)),
            "body": body,
            # What Article.save() would store; COPY bypasses save().
            "body_html": render_markdown(body),
            "hero_image": "",
            "language": "en" if rng.random() < 0.15 else "nl",
            "status": status,
            "published_at": published_at,
            "created_at": created,
            "updated_at": created,
            "appreciation_enabled": rng.random() > 0.02,
        }


def _appreciation_rows(
    rng: random.Random, volume: Volume, articles: list[tuple[int, int, datetime]], now: datetime
) -> Iterator[dict[str, Any]]:
    from payments.models import Appreciation

    status_cut = [  # cumulative shares of the final status
        (0.90, Appreciation.Status.PAID),
        (0.93, Appreciation.Status.PENDING),
        (0.97, Appreciation.Status.EXPIRED),
        (0.99, Appreciation.Status.FAILED),
        (1.00, Appreciation.Status.PROCESSING),
    ]
    # Popularity follows a power law: a few articles earn much of the money.
    weights = [1 / (rank + 1) ** 0.9 for rank in range(len(articles))]
    order = list(range(len(articles)))
    rng.shuffle(order)
    cumulative, total = [], 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)
    import bisect

    for index in range(volume.appreciations):
        article_id, author_id, published_at = articles[order[bisect.bisect(cumulative, rng.random() * total)]]
        # Most support comes in the days after publication; some trickles in for months.
        moment = published_at + timedelta(seconds=rng.expovariate(1 / (5 * 86_400)))
        if rng.random() < 0.1:
            moment = published_at + (now - published_at) * rng.random()
        moment = min(moment, now - timedelta(minutes=5))
        roll = rng.random()
        status = next(state for cut, state in status_cut if roll < cut)
        amount = _amount(rng)
        fee_cover = 0
        method = rng.choices(("card", "ideal", "bancontact"), weights=(55, 38, 7))[0]
        if rng.random() < 0.3:
            fee_cover = _fee(amount, method)
            amount += fee_cover
        public = rng.random() < 0.2
        key = f"{BENCH_PREFIX}{index:08d}"
        row = {
            "public_id": uuid.UUID(int=rng.getrandbits(128), version=4),
            "article_id": article_id,
            "author_id": author_id,
            "amount": amount,
            "currency": "EUR",
            "fee_cover_amount": fee_cover,
            "display_name": rng.choice(_NAMES) if public else "",
            "message": rng.choice(_MESSAGES) if public and rng.random() < 0.6 else "",
            "is_public": public,
            "hidden_by_author": public and rng.random() < 0.01,
            "locale": "en" if rng.random() < 0.15 else "nl",
            "status": status,
            "refunded_amount": 0,
            "dispute_status": "",
            "fee_amount": None,
            "net_amount": None,
            "settlement_currency": "",
            "payment_method_type": "",
            "stripe_checkout_session_id": f"cs_test_{key}",
            "stripe_payment_intent_id": None,
            "stripe_charge_id": None,
            "created_at": moment - timedelta(seconds=rng.randint(20, 600)),
            "paid_at": None,
            "author_notified_at": None,
            "updated_at": moment,
        }
        if status != Appreciation.Status.PENDING and status != Appreciation.Status.EXPIRED:
            row["stripe_payment_intent_id"] = f"pi_{key}"
            row["payment_method_type"] = method
        if status == Appreciation.Status.PAID:
            fee = _fee(amount, method)
            row.update(
                paid_at=moment,
                author_notified_at=moment + timedelta(minutes=1),
                stripe_charge_id=f"ch_{key}",
                fee_amount=fee,
                net_amount=amount - fee,
                settlement_currency="EUR",
            )
            later = rng.random()
            if later < 0.03:  # refunded: a third partially, the rest in full
                row["refunded_amount"] = amount if rng.random() < 0.67 else max(1, amount // 2)
            elif later < 0.035:  # disputed: open, won or lost
                row["dispute_status"] = rng.choices(
                    (Appreciation.Dispute.OPEN, Appreciation.Dispute.WON, Appreciation.Dispute.LOST),
                    weights=(2, 4, 4),
                )[0]
        yield row


# ---------------------------------------------------------------- fill


def volume_present(volume: Volume) -> bool:
    from articles.models import Article, Author
    from payments.models import Appreciation

    return (
        Author.objects.count() >= volume.authors
        and Article.objects.count() >= volume.articles
        and Appreciation.objects.count() >= volume.appreciations
    )


def fill_database(volume: Volume, *, seed: int = 20261127, refill: bool = False, log=print) -> dict[str, int]:
    """Insert the volume in one transaction (on the current Django connection, PostgreSQL only).

    With `refill`, the generated tables are emptied first (TRUNCATE ... CASCADE also empties
    rows that point at them, e.g. Stripe events and digest logs: this is a benchmark database).
    """
    from django.db import connection, transaction

    from articles.models import Article, Author, Section
    from payments.models import Appreciation, DigestLog, StripeEvent

    if connection.vendor != "postgresql":
        raise RuntimeError("The fill uses PostgreSQL's COPY; point DATABASE_URL at PostgreSQL.")
    rng = random.Random(seed)
    now = datetime.now(UTC)
    counts: dict[str, int] = {}
    with transaction.atomic():
        with connection.cursor() as cursor:
            # One fill is one transaction: losing it on a crash costs only a rerun.
            cursor.execute("SET LOCAL synchronous_commit = off")
            if refill:
                models = (Appreciation, StripeEvent, DigestLog, Article, Author, Section)
                tables = ", ".join(f'"{m._meta.db_table}"' for m in models)
                # Checks still deferred in an enclosing transaction would block TRUNCATE.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        started = time.monotonic()
        for position, (slug, name, name_en) in enumerate(_SECTIONS):
            Section.objects.update_or_create(
                slug=slug, defaults={"name": name, "name_en": name_en, "position": position}
            )
        section_ids = list(Section.objects.values_list("id", flat=True))
        authors = [
            Author(
                name=f"{_AUTHOR_NAMES[i % len(_AUTHOR_NAMES)]} {BENCH_PREFIX.capitalize()} {i + 1}",
                slug=f"{BENCH_PREFIX}-author-{i + 1:02d}",
                bio="Correspondent for the benchmark.",
            )
            for i in range(volume.authors)
        ]
        Author.objects.bulk_create(authors)
        author_ids = [a.pk for a in authors]
        counts["authors"] = len(authors)
        counts["articles"] = _copy(Article, _article_rows(rng, volume, author_ids, section_ids, now))
        log(f"  {counts['articles']:,} articles in {time.monotonic() - started:.1f} s")
        published = list(
            Article.objects.filter(
                slug__startswith=f"{BENCH_PREFIX}-", status=Article.Status.PUBLISHED, published_at__lte=now
            )
            .order_by("id")
            .values_list("id", "author_id", "published_at")
        )
        counts["appreciations"] = _copy(Appreciation, _appreciation_rows(rng, volume, published, now))
        log(f"  {counts['appreciations']:,} appreciations in {time.monotonic() - started:.1f} s")
    with connection.cursor() as cursor:
        for model in (Author, Article, Appreciation):
            cursor.execute(f'ANALYZE "{model._meta.db_table}"')
    return counts


def store_supporters() -> int:
    """Each article's supporters stored (payments.models.SupporterSummary), as the first
    uncached page of an article stores them after its last payment: what a site holds once its
    articles have been read since. Only those missing or stale (the webhooks of an earlier run
    make theirs stale); returns how many were stored."""
    from django.db import transaction

    from articles.models import Article
    from payments import services
    from payments.models import SupporterSummary

    missing = Article.objects.exclude(pk__in=SupporterSummary.objects.values("article_id"))
    todo = [(article_id, None) for article_id in missing.values_list("pk", flat=True)]
    todo += SupporterSummary.objects.filter(count__isnull=True).values_list("article_id", "version")
    with transaction.atomic():
        for article_id, version in todo:
            services.supporters_recount(article_id=article_id, version=version)
    return len(todo)


def _database_create(url: str) -> None:
    """CREATE DATABASE when missing, connecting to the server's `postgres` database."""
    import environ
    import psycopg
    from psycopg import sql

    config = environ.Env.db_url_config(url)
    name = config["NAME"]
    params = {
        "host": config.get("HOST") or "127.0.0.1",
        "port": config.get("PORT") or 5432,
        "user": config.get("USER") or "postgres",
        "dbname": "postgres",
        "autocommit": True,
    }
    if config.get("PASSWORD"):
        params["password"] = config["PASSWORD"]
    with psycopg.connect(**params) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"Created database {name}.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--refill", action="store_true", help="empty the tables and fill again")
    parser.add_argument("--authors", type=int, default=Volume.authors)
    parser.add_argument("--articles", type=int, default=Volume.articles)
    parser.add_argument("--appreciations", type=int, default=Volume.appreciations)
    parser.add_argument("--seed", type=int, default=20261127)
    args = parser.parse_args(argv)
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("the benchmark needs PostgreSQL (postgres://...)")
    volume = Volume(args.authors, args.articles, args.appreciations)

    _database_create(args.database_url)
    sys.path.insert(0, str(BASE_DIR))
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "journalism.settings"
    # Settings need a secret to load; the fill serves nothing, so any value does.
    os.environ.setdefault("SECRET_KEY", "bench-fill-" + uuid.uuid4().hex)
    os.environ.setdefault("DEBUG", "1")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    if volume_present(volume) and not args.refill:
        name = args.database_url.rsplit("/", 1)[-1]
        print(f"Volume already present in {name}; use --refill to fill again.")
        if stored := store_supporters():  # filled before they existed, or made stale since
            print(f"Stored the supporters of {stored:,} articles.")
        return 0
    from articles.models import Author

    if Author.objects.exists() and not args.refill:
        parser.exit(1, "The database holds other data but not the full volume; run with --refill.\n")
    started = time.monotonic()
    print(f"Filling {volume} ...")
    counts = fill_database(volume, seed=args.seed, refill=args.refill)
    from django.db import connection

    from payments.models import Appreciation

    # VACUUM sets the visibility map, so supporter counts are index-only scans as in a settled
    # database. Not in fill_database: VACUUM cannot run inside a transaction (the tests' one).
    with connection.cursor() as cursor:
        cursor.execute(f'VACUUM "{Appreciation._meta.db_table}"')
    print(f"Stored the supporters of {store_supporters():,} articles.")
    print(f"Filled {counts} in {time.monotonic() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
