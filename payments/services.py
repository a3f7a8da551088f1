"""Every change to payment state happens here, driven by verified Stripe events.

`stripe_event_handle` stores an event once under its Stripe id and dispatches it through
`HANDLERS`; each handler calls `appreciation_<action>` services. Each service runs in a
transaction, locks the appreciation row, returns early when the change already happened,
checks the allowed starting states, then writes. Transitions only move forward, so the
order in which Stripe delivers events never changes the final books:

- status: pending < processing < expired < failed < paid (a paid record is never un-paid);
  paid_at is when Stripe says the payment succeeded (the event's `created`), not when we
  processed it, so a late delivery or a reconcile run books it in the right month;
- refunded_amount: the charge's `amount_refunded` as Stripe reports it NOW, fetched on every
  refund event (refunds can fail or be cancelled after an event said otherwise);
- dispute_status and dispute_fee_amount: recomputed under the row lock from every stored
  dispute event of the payment, a closed dispute always winning over an open one.

Money objects in another currency than the record's are never booked (logged and ignored).

Refunds and disputes that arrive before the event linking their payment intent are stored
as DEFERRED and replayed as soon as an appreciation is linked to that payment intent.
"""

import functools
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Q, QuerySet
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from articles import rows
from articles.caching import page_cache_invalidate
from articles.models import Author
from payments import notifications, selectors, stripe_api
from payments.models import Appreciation, StripeEvent, SupporterSummary
from payments.security import stripe_payload_redact

logger = logging.getLogger(__name__)

Status = Appreciation.Status
Dispute = Appreciation.Dispute
Outcome = StripeEvent.Outcome

# Seconds a webhook waits for a row lock on PostgreSQL before answering 503 so Stripe retries.
LOCK_TIMEOUT_SECONDS = 5

# Event types we act on; the reconcile command asks Stripe's Events API for exactly these.
HANDLED_EVENT_TYPES = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "charge.refunded",
    "refund.created",
    "refund.updated",
    "refund.failed",
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
    "charge.dispute.closed",
)

# Forward-only ranking of appreciation states: a transition never lowers the rank.
STATUS_RANK = {Status.PENDING: 0, Status.PROCESSING: 1, Status.EXPIRED: 2, Status.FAILED: 3, Status.PAID: 4}

# Stripe saying the money arrived beats every earlier state.
PAID_FROM = (Status.PENDING, Status.PROCESSING, Status.EXPIRED, Status.FAILED)
PROCESSING_FROM = (Status.PENDING,)

# Outcomes after which a redelivery of the same event changes nothing.
FINAL_OUTCOMES = (Outcome.PROCESSED, Outcome.IGNORED)


class EventProcessingError(Exception):
    """A verified event could not be processed; it is stored with the error and Stripe should retry (500)."""


class EventBusy(EventProcessingError):
    """A row lock could not be had quickly; Stripe should retry later (503)."""


class InvalidEvent(ValueError):
    """A verified body that lacks what every Stripe event has (id, type, created, data.object)."""


class ChargeUnavailable(Exception):
    """Stripe could not tell a charge's current state; the event fails and is retried."""


class _Ignore(Exception):
    """Raised by a handler for an event that must not change money; the reason is kept on the event."""


# --- the supporters an article page shows ---------------------------------------------------


def _summary_sql(statement: str) -> str:
    return statement.format(table=connection.ops.quote_name(SupporterSummary._meta.db_table))


def supporters_stale(*, article_ids: Iterable[int]) -> None:
    """The stored supporters of these articles are stale from now on: call it in the transaction
    that changes what they show (or after it commits, never before). A page that counted before
    the change then cannot keep its count: the version it read is gone."""
    statement = _summary_sql(
        "INSERT INTO {table} (article_id, version, count, newest) VALUES (%s, 1, NULL, '') "
        "ON CONFLICT (article_id) DO UPDATE SET version = {table}.version + 1, count = NULL, newest = ''"
    )
    with connection.cursor() as cursor:
        for article_id in sorted(set(article_ids)):  # one order for every caller: no deadlock
            cursor.execute(statement, [article_id])


def supporters_keep(
    *, article_id: int, version: int | None, found: tuple[int, list[selectors.Supporter]]
) -> None:
    """Store what article_supporters() found, if nothing changed since `version` was read (None:
    the article had no stored supporters, so only a first row is added)."""
    count, supporters = found
    newest = json.dumps([[s.display_name, s.message] for s in supporters], ensure_ascii=False)
    if version is None:
        statement = _summary_sql(
            "INSERT INTO {table} (article_id, version, count, newest) VALUES (%s, 0, %s, %s) "
            "ON CONFLICT (article_id) DO NOTHING"
        )
        params = [article_id, count, newest]
    else:
        statement = _summary_sql(
            "UPDATE {table} SET count = %s, newest = %s WHERE article_id = %s AND version = %s"
        )
        params = [count, newest, article_id, version]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params)
    except IntegrityError:  # the article was deleted meanwhile: nothing to keep
        pass


def supporters_recount(*, article_id: int, version: int | None) -> tuple[int, list[selectors.Supporter]]:
    """Count the article's supporters (selectors.article_supporters) and keep the result for the
    pages after this one (supporters_keep: `version` as read with the article)."""
    found = selectors.article_supporters(article_id=article_id)
    supporters_keep(article_id=article_id, version=version, found=found)
    return found


def supporters_changed(*, article_ids: Iterable[int]) -> None:
    """What these articles' pages show of their supporters changes in this transaction: their
    stored supporters go stale, and every stored page goes after the commit (they all may list
    a supporter, and show the totals)."""
    supporters_stale(article_ids=article_ids)
    page_cache_invalidate()


def appreciations_hidden_set(*, appreciation_ids: Iterable[int], hidden: bool) -> int:
    """Hide (or show again) readers' names and messages on their articles; how many changed."""
    with transaction.atomic():
        chosen = list(
            Appreciation.objects.filter(pk__in=list(appreciation_ids)).values_list("pk", "article_id")
        )
        count = Appreciation.objects.filter(pk__in=[pk for pk, _article in chosen]).update(
            hidden_by_author=hidden, updated_at=timezone.now()
        )
        supporters_changed(article_ids=[article for _pk, article in chosen])
    return count


# --- appreciation services -------------------------------------------------------------------


def _locked(appreciation_id: int) -> Appreciation:
    return Appreciation.objects.select_for_update().get(pk=appreciation_id)


def _status_move(
    appreciation_id: int, target: str, allowed_from: tuple[str, ...], *, paid_at: datetime | None = None
) -> bool:
    """Move to `target` if the record is in one of `allowed_from`; True when something changed."""
    with transaction.atomic():
        appreciation = _locked(appreciation_id)
        changed, fields = _status_change(appreciation, target, allowed_from, paid_at=paid_at)
        if fields:
            appreciation.save(update_fields=[*fields, "updated_at"])
        return changed


def _status_change(
    appreciation: Appreciation, target: str, allowed_from: tuple[str, ...], *, paid_at: datetime | None
) -> tuple[bool, list[str]]:
    """The status move on a row locked by the caller: (moved, fields to save)."""
    if appreciation.status == target:
        if target == Status.PAID and paid_at and appreciation.paid_at and paid_at < appreciation.paid_at:
            # Two events say paid: the earlier one is when the reader paid, whatever the order.
            appreciation.paid_at = paid_at
            supporters_changed(article_ids=[appreciation.article_id])  # the newest supporters come first
            return False, ["paid_at"]
        return False, []
    if appreciation.status not in allowed_from:
        logger.info("Appreciation %s stays %s (no move to %s)", appreciation.pk, appreciation.status, target)
        return False, []
    # Only paid records are counted and listed on the article page.
    if Status.PAID in (appreciation.status, target):
        supporters_changed(article_ids=[appreciation.article_id])
    appreciation.status = target
    fields = ["status"]
    if target == Status.PAID:
        appreciation.paid_at = paid_at or timezone.now()
        fields.append("paid_at")
    return True, fields


def appreciation_mark_processing(*, appreciation_id: int) -> bool:
    """The reader finished Checkout with a delayed method (iDEAL, SEPA…); the money is on its way."""
    return _status_move(appreciation_id, Status.PROCESSING, PROCESSING_FROM)


def appreciation_mark_failed(*, appreciation_id: int) -> bool:
    """A delayed payment failed. Never moves a paid record."""
    return _status_move(appreciation_id, Status.FAILED, (Status.PENDING, Status.PROCESSING, Status.EXPIRED))


def appreciation_mark_expired(*, appreciation_id: int) -> bool:
    """The Checkout Session expired unpaid."""
    return _status_move(appreciation_id, Status.EXPIRED, (Status.PENDING, Status.PROCESSING))


def appreciation_mark_paid(*, appreciation_id: int, paid_at: datetime | None = None) -> bool:
    """Stripe says the money arrived. That fact beats every earlier state, so paid is reachable from all.

    `paid_at` is when Stripe says so (its event's time); the books count the payment in that period.
    After the commit the author is notified; the fee is looked up by the caller (it needs the network).
    """
    changed = _status_move(appreciation_id, Status.PAID, PAID_FROM, paid_at=paid_at)
    if changed:
        transaction.on_commit(lambda: _notify_paid(appreciation_id))
    return changed


def _notify_paid(appreciation_id: int) -> None:
    # A failing mail must never break the books or the webhook answer.
    try:
        notifications.appreciation_paid_notify(appreciation_id)
    except Exception:
        logger.exception("Notification for appreciation %s failed", appreciation_id)


def appreciation_link(
    *, appreciation_id: int, payment_intent_id: str = "", charge_id: str = "", session_id: str = ""
) -> bool:
    """Remember Stripe's ids for a record; an id once set is never replaced. True when one was added."""
    with transaction.atomic():
        appreciation = _locked(appreciation_id)
        fields = _link_change(
            appreciation, payment_intent_id=payment_intent_id, charge_id=charge_id, session_id=session_id
        )
        if fields:
            appreciation.save(update_fields=[*fields, "updated_at"])
        return bool(fields)


def _link_change(
    appreciation: Appreciation, *, payment_intent_id: str = "", charge_id: str = "", session_id: str = ""
) -> list[str]:
    """Stripe's ids on a row locked by the caller; the fields to save."""
    fields = []
    for field, value in (
        ("stripe_payment_intent_id", payment_intent_id),
        ("stripe_charge_id", charge_id),
        ("stripe_checkout_session_id", session_id),
    ):
        current = getattr(appreciation, field)
        if not value or current == value:
            continue
        if current:
            logger.warning("Appreciation %s keeps %s; Stripe reported another", appreciation.pk, field)
            continue
        setattr(appreciation, field, value)
        fields.append(field)
    return fields


def appreciation_refund_record(*, appreciation_id: int, refunded_amount: int) -> bool:
    """Set the refunded amount to what Stripe's charge reports now (capped at the amount).

    It may go down: a pending refund that fails or is cancelled gives the money back.
    """
    with transaction.atomic():
        appreciation = _locked(appreciation_id)
        refunded_amount = max(refunded_amount, 0)
        if refunded_amount > appreciation.amount:
            logger.error(
                "Appreciation %s: Stripe reports %s refunded of %s; capped",
                appreciation.pk,
                refunded_amount,
                appreciation.amount,
            )
            refunded_amount = appreciation.amount
        if refunded_amount == appreciation.refunded_amount:
            return False
        if refunded_amount < appreciation.refunded_amount:
            logger.warning(
                "Appreciation %s: refunded %s -> %s (a refund failed or was cancelled)",
                appreciation.pk,
                appreciation.refunded_amount,
                refunded_amount,
            )
        appreciation.refunded_amount = refunded_amount
        appreciation.save(update_fields=["refunded_amount", "updated_at"])
        # A full refund takes a supporter off the article page.
        supporters_changed(article_ids=[appreciation.article_id])
        return True


def appreciation_dispute_record(*, appreciation_id: int) -> bool:
    """Recompute dispute state and fee from every stored dispute event of the payment.

    The events are read AFTER the row lock is taken: two dispute events processed at once then
    run one after the other, and the second sees the first's event (stored before processing),
    so the last writer always writes the state of all events.
    """
    with transaction.atomic():
        appreciation = _locked(appreciation_id)
        disputes = [
            obj
            for obj in _related_events("charge.dispute.", appreciation)
            if str(obj.get("currency") or "").upper() == appreciation.currency
        ]
        dispute_status = _dispute_status(disputes)
        fee = _dispute_fee(disputes, appreciation)
        if (appreciation.dispute_status, appreciation.dispute_fee_amount) == (dispute_status, fee):
            return False
        fields = ["dispute_fee_amount", "updated_at"]
        if appreciation.dispute_status != dispute_status:
            # Disputed payments are not counted as supporters.
            supporters_changed(article_ids=[appreciation.article_id])
            fields.append("dispute_status")
        appreciation.dispute_status = dispute_status
        appreciation.dispute_fee_amount = fee
        appreciation.save(update_fields=fields)
        return True


def appreciation_fees_record(*, appreciation_id: int, payment_intent: dict[str, Any]) -> bool:
    """Copy fee, net, settlement currency, charge id and method from an expanded payment intent.

    A fee already known is kept: Stripe's balance transaction for a charge does not change.
    """
    with transaction.atomic():
        appreciation = _locked(appreciation_id)
        fields = _fees_change(appreciation, payment_intent)
        if not fields:
            return False
        try:
            with transaction.atomic():
                appreciation.save(update_fields=[*fields, "updated_at"])
        except IntegrityError:
            # Only the charge id is unique: another record holds it. Nothing to book from here.
            logger.warning(
                "Fee of appreciation %s not recorded: its charge id is another record's", appreciation_id
            )
            return False
        return True


def _fees_change(appreciation: Appreciation, payment_intent: dict[str, Any]) -> list[str]:
    """The fee fields on a row locked by the caller; the fields to save."""
    charge = payment_intent.get("latest_charge")
    if not isinstance(charge, dict):
        return []
    details = charge.get("payment_method_details") or {}
    txn = charge.get("balance_transaction")
    fields = []
    if details.get("type") and not appreciation.payment_method_type:
        appreciation.payment_method_type = str(details["type"])[:40]
        fields.append("payment_method_type")
    if charge.get("id") and not appreciation.stripe_charge_id:
        appreciation.stripe_charge_id = charge["id"]
        fields.append("stripe_charge_id")
    if isinstance(txn, dict) and appreciation.fee_amount is None and isinstance(txn.get("fee"), int):
        appreciation.fee_amount = txn["fee"]
        appreciation.net_amount = txn.get("net")
        appreciation.settlement_currency = str(txn.get("currency") or "").upper()
        fields += ["fee_amount", "net_amount", "settlement_currency"]
    return fields


def appreciation_fees_fetch(*, appreciation_id: int) -> bool:
    """Look the fee up at Stripe for a paid record that lacks it. Stripe being down leaves it NULL."""
    appreciation = Appreciation.objects.get(pk=appreciation_id)
    if appreciation.fee_amount is not None or not appreciation.stripe_payment_intent_id:
        return False
    return _fees_lookup(appreciation_id, appreciation.stripe_payment_intent_id)


def _fees_lookup(appreciation_id: int, payment_intent_id: str) -> bool:
    try:
        payment_intent = stripe_api.payment_intent_retrieve_with_fees(payment_intent_id)
    except stripe_api.PaymentProviderError:
        logger.warning("Fee lookup for appreciation %s failed; reconcile fills it later", appreciation_id)
        return False
    return appreciation_fees_record(appreciation_id=appreciation_id, payment_intent=payment_intent)


# --- finding our appreciation ------------------------------------------------------------------


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def _one(records: QuerySet[Appreciation]) -> Appreciation | None:
    """The row of a lookup by a unique key, or None: LIMIT 1 without the ORDER BY of first()."""
    return next(iter(records.order_by()[:1]), None)


def _by_public_id(value: Any) -> Appreciation | None:
    public_id = _uuid(value)
    return _one(Appreciation.objects.filter(public_id=public_id)) if public_id else None


def _metadata_id(obj: dict[str, Any]) -> Any:
    metadata = obj.get("metadata")
    return metadata.get("appreciation_id") if isinstance(metadata, dict) else None


def _id_of(value: Any) -> str:
    """A Stripe reference is an id string or, when expanded, an object with an id."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else ""


# A webhook's locked read of its appreciation reads these two tables (articles.rows).
_LOCKED_READ: rows.Models = (Appreciation, Author)


@functools.cache
def _locked_read_sql(field_name: str) -> str:
    """Appreciation.objects.select_for_update(of=("self",)).select_related("author") by one unique
    field, written out once: compiling it took the ORM longer than the rest of the read."""
    appreciation = rows.table(Appreciation)
    lock = f" FOR UPDATE OF {appreciation}" if connection.features.has_select_for_update_of else ""
    return (
        f"SELECT {rows.columns(_LOCKED_READ)} FROM {appreciation}{rows.join(Appreciation.author)}"  # noqa: S608 - names from the models; values are bound
        f" WHERE {rows.column(Appreciation, field_name)} = %s LIMIT 1{lock}"
    )


def _locked_by(field_name: str, value: Any) -> Appreciation | None:
    if connection.get_autocommit():
        # As select_for_update(): outside a transaction the lock would end with the read.
        raise TransactionManagementError("a locked read needs a transaction")
    field = Appreciation._meta.get_field(field_name)
    with connection.cursor() as cursor:
        cursor.execute(_locked_read_sql(field_name), [field.get_db_prep_value(value, connection)])
        row = cursor.fetchone()
    if row is None:
        return None
    appreciation, author = rows.instances(row, _LOCKED_READ)
    rows.attach(appreciation, Appreciation.author, author)
    return appreciation


def _session_appreciation(session: dict[str, Any], *, lock: bool = False) -> Appreciation | None:
    """Our record for a Checkout Session; `lock` takes its row lock in the same read and reads
    its author along (not locked), whose notification choice decides the work after the commit."""
    lookups = [("stripe_checkout_session_id", session["id"])] if session.get("id") else []
    for value in (_metadata_id(session), session.get("client_reference_id")):
        public_id = _uuid(value)
        if public_id:
            lookups.append(("public_id", public_id))
    for field_name, value in lookups:
        if lock:
            found = _locked_by(field_name, value)
        else:
            found = _one(Appreciation.objects.filter(**{field_name: value}))
        if found:
            return found
    return None


def _payment_appreciation(
    obj: dict[str, Any], *, payment_intent_id: str, charge_id: str
) -> Appreciation | None:
    """Charges carry the payment intent's metadata; refunds and disputes only carry its ids."""
    found = _by_public_id(_metadata_id(obj))
    if found is None and payment_intent_id:
        found = _one(Appreciation.objects.filter(stripe_payment_intent_id=payment_intent_id))
    if found is None and charge_id:
        found = _one(Appreciation.objects.filter(stripe_charge_id=charge_id))
    return found


# --- event handlers ---------------------------------------------------------------------------


def _check_session_money(appreciation: Appreciation, session: dict[str, Any]) -> None:
    """Never let a session whose money differs from our record create or change money."""
    total, currency = session.get("amount_total"), str(session.get("currency") or "").upper()
    if total != appreciation.amount or currency != appreciation.currency:
        logger.error(
            "Session for appreciation %s: Stripe says %s %s, we expected %s %s; ignored",
            appreciation.pk,
            total,
            currency,
            appreciation.amount,
            appreciation.currency,
        )
        raise _Ignore(
            f"amount mismatch: session {total} {currency}, "
            f"record {appreciation.amount} {appreciation.currency}"
        )


def _on_session_paid_or_processing(record: StripeEvent, session: dict[str, Any]) -> str:
    # The busiest event: one locked read and one write link the ids and move the status, in the
    # event's transaction (the same lock order as every other handler: event, then appreciation).
    appreciation = _session_appreciation(session, lock=True)
    if appreciation is None:
        return Outcome.IGNORED
    payment_status = session.get("payment_status")
    if payment_status not in ("paid", "unpaid"):
        return Outcome.IGNORED
    _check_session_money(appreciation, session)
    payment_intent_id = _id_of(session.get("payment_intent"))
    record.stripe_payment_intent_id = payment_intent_id
    fields = _link_change(appreciation, payment_intent_id=payment_intent_id, session_id=session.get("id", ""))
    record.links_payment_intent = "stripe_payment_intent_id" in fields
    if payment_status == "unpaid":
        _moved, status_fields = _status_change(appreciation, Status.PROCESSING, PROCESSING_FROM, paid_at=None)
    else:
        moved, status_fields = _status_change(appreciation, Status.PAID, PAID_FROM, paid_at=record.created)
        # Most authors take the daily digest: for them there is nothing to do after the commit.
        if moved and notifications.notifies_each_payment(appreciation.author):
            appreciation_id = appreciation.pk
            transaction.on_commit(lambda: _notify_paid(appreciation_id))
    fields += status_fields
    # The fee of a paid record, for the payment intent it holds: from the payment intent fetched
    # before this transaction (`_fees_prefetch`), else looked up after the commit (`_fees_after`);
    # never a network call under a lock.
    fee_missing = appreciation.status == Status.PAID and appreciation.fee_amount is None
    linked = bool(payment_intent_id) and appreciation.stripe_payment_intent_id == payment_intent_id
    prefetched = getattr(record, "prefetched_payment_intent", None)
    fee_fields = _fees_change(appreciation, prefetched) if fee_missing and linked and prefetched else []
    fields += fee_fields
    # Saved without the ORM's compilation (articles.rows): this is every payment's write. If it
    # fails on the fee's charge id, _event_process books the payment again without the fee.
    if fields:
        rows.update(appreciation, [*fields, "updated_at"])
    # A failed prefetch is not repeated: reconcile fills the fee later.
    retry = fee_missing and linked and not hasattr(record, "prefetched_payment_intent")
    record.fee_target = appreciation.pk if retry else 0
    return Outcome.PROCESSED


def _on_session_failed(record: StripeEvent, session: dict[str, Any]) -> str:
    appreciation = _session_appreciation(session)
    if appreciation is None:
        return Outcome.IGNORED
    record.stripe_payment_intent_id = _id_of(session.get("payment_intent"))
    appreciation_link(appreciation_id=appreciation.pk, payment_intent_id=record.stripe_payment_intent_id)
    appreciation_mark_failed(appreciation_id=appreciation.pk)
    return Outcome.PROCESSED


def _on_session_expired(record: StripeEvent, session: dict[str, Any]) -> str:
    appreciation = _session_appreciation(session)
    if appreciation is None:
        return Outcome.IGNORED
    # A retried checkout may have replaced the session; only the record's own session expires it.
    if appreciation.stripe_checkout_session_id not in (None, "", session.get("id")):
        raise _Ignore("expired session is not the record's current session")
    appreciation_mark_expired(appreciation_id=appreciation.pk)
    return Outcome.PROCESSED


def _payment_target(record: StripeEvent, obj: dict[str, Any], *, charge_id: str) -> Appreciation | None:
    """The appreciation a charge/refund/dispute is about; links ids it reveals; None means defer/ignore."""
    payment_intent_id = _id_of(obj.get("payment_intent"))
    record.stripe_payment_intent_id = payment_intent_id
    appreciation = _payment_appreciation(obj, payment_intent_id=payment_intent_id, charge_id=charge_id)
    if appreciation is not None:
        with transaction.atomic():
            locked = _locked(appreciation.pk)
            fields = _link_change(locked, payment_intent_id=payment_intent_id, charge_id=charge_id)
            if fields:
                locked.save(update_fields=[*fields, "updated_at"])
        record.links_payment_intent = "stripe_payment_intent_id" in fields
    return appreciation


def _check_currency(appreciation: Appreciation, obj: dict[str, Any]) -> None:
    """Amounts in another currency are not minor units of ours: never book them."""
    currency = str(obj.get("currency") or "").upper()
    if currency != appreciation.currency:
        logger.error(
            "%s %s for appreciation %s is in %s, the record in %s; ignored",
            obj.get("object"),
            obj.get("id"),
            appreciation.pk,
            currency or "no currency",
            appreciation.currency,
        )
        raise _Ignore(f"currency mismatch: {obj.get('object')} {currency}, record {appreciation.currency}")


def _unmatched(obj: dict[str, Any]) -> str:
    # Our payments always have a payment intent; without one the object belongs to something else.
    return Outcome.DEFERRED if _id_of(obj.get("payment_intent")) else Outcome.IGNORED


def _related_events(prefix: str, appreciation: Appreciation) -> list[dict[str, Any]]:
    """Stored events of this mode about the appreciation's payment, as Stripe objects."""
    keys = Q()
    if appreciation.stripe_payment_intent_id:
        keys |= Q(payload__data__object__payment_intent=appreciation.stripe_payment_intent_id)
        keys |= Q(stripe_payment_intent_id=appreciation.stripe_payment_intent_id)
    if appreciation.stripe_charge_id:
        keys |= Q(payload__data__object__charge=appreciation.stripe_charge_id)
        keys |= Q(payload__data__object__id=appreciation.stripe_charge_id)
    if not keys:
        return []
    rows = (
        StripeEvent.objects.filter(keys, type__startswith=prefix, livemode=stripe_api.key_is_live())
        .exclude(outcome=Outcome.IGNORED)
        .order_by("created", "pk")
    )
    return [row.payload["data"]["object"] for row in rows.only("payload")]


def _refund_sync(appreciation: Appreciation, charge_id: str) -> None:
    """Set the refunded amount from the charge as Stripe reports it now.

    No event says for sure how much is refunded: `charge.refunded` counts pending refunds, a
    refund can fail or be cancelled later, and events arrive in any order. The charge's current
    `amount_refunded` is the truth. It is fetched under the row lock so that two refund events
    write in the order they asked Stripe; a failed fetch fails the event (Stripe retries, and
    `stripe_reconcile` replays failed events).
    """
    appreciation.refresh_from_db()
    charge_id = appreciation.stripe_charge_id or charge_id
    if not charge_id:
        raise _Ignore("no charge to look the refunded amount up")
    with transaction.atomic():
        _locked(appreciation.pk)
        try:
            charge = stripe_api.charge_retrieve(charge_id)
        except stripe_api.PaymentProviderError as exc:
            raise ChargeUnavailable(
                f"charge {charge_id} could not be fetched from Stripe; retried later"
            ) from exc
        _check_currency(appreciation, charge)
        amount = charge.get("amount_refunded")
        if charge.get("amount") != appreciation.amount or not isinstance(amount, int):
            logger.error(
                "Charge %s of appreciation %s: amount %s, ours %s; ignored",
                charge_id,
                appreciation.pk,
                charge.get("amount"),
                appreciation.amount,
            )
            raise _Ignore(f"charge amount {charge.get('amount')} differs from record {appreciation.amount}")
        appreciation_refund_record(appreciation_id=appreciation.pk, refunded_amount=amount)


def _on_charge_refunded(record: StripeEvent, charge: dict[str, Any]) -> str:
    appreciation = _payment_target(record, charge, charge_id=_id_of(charge.get("id")))
    if appreciation is None:
        # Our payment intents' metadata is copied to their charges, so an unknown charge is not ours.
        return Outcome.IGNORED
    _check_currency(appreciation, charge)
    _refund_sync(appreciation, _id_of(charge.get("id")))
    return Outcome.PROCESSED


def _on_refund(record: StripeEvent, refund: dict[str, Any]) -> str:
    """Created, updated (succeeded, cancelled) or failed: the charge tells the refunded total."""
    appreciation = _payment_target(record, refund, charge_id=_id_of(refund.get("charge")))
    if appreciation is None:
        return _unmatched(refund)
    _check_currency(appreciation, refund)
    _refund_sync(appreciation, _id_of(refund.get("charge")))
    return Outcome.PROCESSED


# Dispute statuses on a closed dispute and what they mean for the money.
_CLOSED_DISPUTE = {
    "won": Dispute.WON,
    "lost": Dispute.LOST,
    "warning_closed": Dispute.NONE,
    "prevented": Dispute.NONE,
}
# When several disputes exist on one payment (rare), the worst outcome for the author wins.
_DISPUTE_SEVERITY = {Dispute.NONE: 0, Dispute.WON: 1, Dispute.OPEN: 2, Dispute.LOST: 3}


def _dispute_status(disputes: list[dict[str, Any]]) -> str:
    """Per dispute id, a closed state beats an open one; inquiries (warning_*) never open a chargeback.

    Computed from every stored event of the payment, so the order of arrival cannot matter.
    """
    statuses: dict[str, list[str]] = defaultdict(list)
    for obj in disputes:
        statuses[str(obj.get("id") or "")].append(str(obj.get("status") or ""))
    results = []
    for seen in statuses.values():
        closed = [_CLOSED_DISPUTE[status] for status in seen if status in _CLOSED_DISPUTE]
        if closed:
            results.append(max(closed, key=_DISPUTE_SEVERITY.__getitem__))
        elif any(not status.startswith("warning_") for status in seen):
            results.append(Dispute.OPEN)
    return max(results, key=_DISPUTE_SEVERITY.__getitem__, default=Dispute.NONE)


def _dispute_fee(disputes: list[dict[str, Any]], appreciation: Appreciation) -> int:
    """Stripe's dispute fees: per dispute, the fees of the balance transactions on its latest
    object (they only grow: the withdrawal, then a reinstatement whose negative fee returns the
    fee where Stripe does so). Fees settled in another currency cannot be subtracted here."""
    latest: dict[str, list[Any]] = {}
    for obj in disputes:  # oldest event first
        transactions = obj.get("balance_transactions")
        if isinstance(transactions, list) and len(transactions) >= len(latest.get(str(obj.get("id")), [])):
            latest[str(obj.get("id"))] = transactions
    total = 0
    for transactions in latest.values():
        for txn in transactions:
            if not isinstance(txn, dict) or not isinstance(txn.get("fee"), int):
                continue
            if str(txn.get("currency") or "").upper() != appreciation.currency:
                logger.warning("Dispute fee of appreciation %s settled in another currency", appreciation.pk)
                continue
            total += txn["fee"]
    return max(total, 0)


def _on_dispute(record: StripeEvent, dispute: dict[str, Any]) -> str:
    """Created, updated (an inquiry escalating), funds withdrawn or reinstated, closed."""
    appreciation = _payment_target(record, dispute, charge_id=_id_of(dispute.get("charge")))
    if appreciation is None:
        return _unmatched(dispute)
    _check_currency(appreciation, dispute)
    appreciation_dispute_record(appreciation_id=appreciation.pk)
    return Outcome.PROCESSED


Handler = Callable[[StripeEvent, dict[str, Any]], str]

HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": _on_session_paid_or_processing,
    "checkout.session.async_payment_succeeded": _on_session_paid_or_processing,
    "checkout.session.async_payment_failed": _on_session_failed,
    "checkout.session.expired": _on_session_expired,
    "charge.refunded": _on_charge_refunded,
    "refund.created": _on_refund,
    "refund.updated": _on_refund,
    "refund.failed": _on_refund,
    "charge.dispute.created": _on_dispute,
    "charge.dispute.updated": _on_dispute,
    "charge.dispute.funds_withdrawn": _on_dispute,
    "charge.dispute.funds_reinstated": _on_dispute,
    "charge.dispute.closed": _on_dispute,
}


# --- the event pipeline ----------------------------------------------------------------------


def _event_fields(event: dict[str, Any]) -> dict[str, Any]:
    data = event.get("data")
    if (
        not isinstance(event.get("id"), str)
        or not isinstance(event.get("type"), str)
        or not isinstance(event.get("created"), int)
        or not isinstance(data, dict)
        or not isinstance(data.get("object"), dict)
    ):
        raise InvalidEvent("not a Stripe event")
    obj = data["object"]
    return {
        "type": event["type"][:100],
        "created": datetime.fromtimestamp(event["created"], tz=UTC),
        "livemode": bool(event.get("livemode")),
        "api_version": str(event.get("api_version") or "")[:40],
        "payload": event,
        "stripe_payment_intent_id": _id_of(obj.get("payment_intent")),
    }


_EVENT_FIELDS = [field for field in StripeEvent._meta.concrete_fields if not field.primary_key]


@functools.cache
def _event_insert_sql() -> str:
    """_event_store's INSERT ... ON CONFLICT DO NOTHING RETURNING id, compiled by the ORM once
    (every field a placeholder): compiling it for each event was a tenth of the event's CPU."""
    query = InsertQuery(StripeEvent, on_conflict=OnConflict.IGNORE)
    query.insert_values(_EVENT_FIELDS, [StripeEvent(payload={})])
    compiler = query.get_compiler(connection=connection)
    # RETURNING answers only for an inserted row (Django's bulk_create asks none with a conflict clause).
    compiler.returning_fields = [StripeEvent._meta.pk]
    [(sql, _params)] = compiler.as_sql()
    return sql


def _event_store(event: dict[str, Any]) -> StripeEvent | None:
    """Store the event under its unique id, in the processing transaction: the new record, or
    None when the id was stored before. One INSERT, no read first. A concurrent delivery of the
    same id waits in its INSERT (ON CONFLICT DO NOTHING) until this transaction ends, and then
    reads the stored row; nothing else can see the new row before the commit, so it needs no
    lock of its own.

    The row is written as processed in its first attempt, which is what almost every delivery
    ends as, so that it needs no UPDATE then; `_event_process` writes what differs before the
    commit (the outcome of a failed, ignored or deferred event, its error), and no one sees the
    row before that."""
    record = StripeEvent(
        stripe_event_id=event["id"],
        outcome=Outcome.PROCESSED,
        processed_at=timezone.now(),
        attempts=1,
        **_event_fields(event),
    )
    # Each value as the ORM's INSERT prepares it (auto_now_add set, JSON adapted).
    params = [field.get_db_prep_save(field.pre_save(record, True), connection) for field in _EVENT_FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(_event_insert_sql(), params)
        row = cursor.fetchone()
    if row is None:
        return None
    record.pk = row[0]
    record._state.adding = False
    return record


def _lock_timeout() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_SECONDS}s'")


# Written by processing (only those that changed); the payload and the ids are written once,
# when the event is stored.
_PROCESSED_FIELDS = ["outcome", "processed_at", "attempts", "last_error", "stripe_payment_intent_id"]
_NOT_PREFETCHED = object()


class _HandlerFailed(Exception):
    """A handler raised: what it wrote must be rolled back, then the outcome recorded."""

    def __init__(self, outcome: str, error: str) -> None:
        super().__init__(error)
        self.outcome, self.error = outcome, error


def _event_process(
    record_id: int | None = None,
    *,
    event: dict[str, Any] | None = None,
    prefetched: Any = _NOT_PREFETCHED,
) -> StripeEvent:
    """Process a stored event under its row lock, unless a final outcome was reached before.

    With `event` (a delivery), the event is first stored in the same transaction: one commit
    for storing, processing and booking. `prefetched` is the payment intent `_fees_prefetch`
    fetched (None when that failed). The handler may leave hints on the record for the work
    after the commit: `fee_target` (the appreciation whose fee to look up, 0 for none) and
    `links_payment_intent` (it linked a payment intent: deferred events may now be replayed).

    A handler that raises rolls the whole attempt back, and the event is then stored (or
    locked) again to record the outcome and the error: a savepoint around every handler cost
    every delivery two more round trips, for what almost never happens.
    """
    try:
        with transaction.atomic():
            record, written = _event_claim(record_id, event)
            if written is None:
                return record
            if prefetched is not _NOT_PREFETCHED:
                record.prefetched_payment_intent = prefetched
            _event_finish(record, written, _event_outcome(record))
        return record
    except _HandlerFailed as failed:
        if isinstance(failed.__cause__, IntegrityError) and prefetched not in (None, _NOT_PREFETCHED):
            # The fee's write may be what failed (a charge id another record holds): a fee problem
            # never stops a payment. Book it without the prefetched fee, which is then looked up
            # after the commit (appreciation_fees_record, where that conflict is only logged).
            return _event_process(record_id, event=event)
        with transaction.atomic():
            record, written = _event_claim(record_id, event)
            if written is None:  # another delivery finished it meanwhile
                return record
            record.last_error = failed.error
            _event_finish(record, written, failed.outcome)
        if failed.outcome == Outcome.FAILED:
            raise EventProcessingError(record.last_error) from failed.__cause__
        return record


def _event_claim(
    record_id: int | None, event: dict[str, Any] | None
) -> tuple[StripeEvent, dict[str, Any] | None]:
    """The event's row for this attempt, in the caller's transaction: stored now (a delivery of
    a new id) or else locked. With it the values of _PROCESSED_FIELDS as stored, or None when a
    final outcome was reached before (nothing to do)."""
    _lock_timeout()
    record = _event_store(event) if event is not None else None
    if record is not None:
        return record, {name: getattr(record, name) for name in _PROCESSED_FIELDS}
    if event is not None:
        # The payload is the one stored (a redelivery carries the same event again).
        rows = StripeEvent.objects.defer("payload").filter(stripe_event_id=event["id"])
    else:
        rows = StripeEvent.objects.filter(pk=record_id)
    record = rows.select_for_update().get()
    if record.outcome in FINAL_OUTCOMES:
        return record, None
    if event is not None:
        record.payload = event
    written = {name: getattr(record, name) for name in _PROCESSED_FIELDS}
    record.attempts += 1
    return record, written


def _event_outcome(record: StripeEvent) -> str:
    """Run the event's handler in the caller's transaction; _HandlerFailed when it raised."""
    if record.livemode != stripe_api.key_is_live():
        record.last_error = "livemode does not match the configured key"
        return Outcome.IGNORED
    handler = HANDLERS.get(record.type)
    if handler is None:
        return Outcome.IGNORED
    record.last_error = ""
    try:
        return handler(record, record.payload["data"]["object"])
    except _Ignore as exc:
        raise _HandlerFailed(Outcome.IGNORED, str(exc)) from exc
    except OperationalError:
        raise
    except Exception as exc:
        logger.exception("Stripe event %s (%s) failed", record.stripe_event_id, record.type)
        raise _HandlerFailed(Outcome.FAILED, f"{type(exc).__name__}: {exc}"[:2000]) from exc


def _event_finish(record: StripeEvent, written: dict[str, Any], outcome: str) -> None:
    """Record the attempt's outcome, writing only what differs from the stored row."""
    if outcome != Outcome.PROCESSED:
        record.links_payment_intent, record.fee_target = False, 0
    record.outcome = outcome
    if outcome not in FINAL_OUTCOMES:
        record.processed_at = None
    elif record.processed_at is None:
        record.processed_at = timezone.now()
    changed = [name for name in _PROCESSED_FIELDS if getattr(record, name) != written[name]]
    if changed:
        record.save(update_fields=changed)


def _fees_prefetch(event: dict[str, Any]) -> Any:
    """For a paid Checkout Session of ours: its payment intent with the fee, fetched BEFORE the
    transaction, so the fee is booked with the payment (one commit) and no lock waits on the
    network. None when Stripe could not be asked (reconcile fills the fee later);
    _NOT_PREFETCHED for every other event."""
    session = event["data"]["object"]
    if (
        event.get("type") not in ("checkout.session.completed", "checkout.session.async_payment_succeeded")
        or session.get("payment_status") != "paid"
        or bool(event.get("livemode")) != stripe_api.key_is_live()
        # Ours carry the appreciation's id; sessions of other apps on the account are not asked for.
        or not (_uuid(_metadata_id(session)) or _uuid(session.get("client_reference_id")))
        or not _id_of(session.get("payment_intent"))
    ):
        return _NOT_PREFETCHED
    try:
        return stripe_api.payment_intent_retrieve_with_fees(_id_of(session.get("payment_intent")))
    except stripe_api.PaymentProviderError:
        logger.warning("Fee lookup for session %s failed; reconcile fills it later", session.get("id"))
        return None


@functools.cache
def _deferred_sql() -> str:
    """The events waiting for a payment intent, oldest first: asked after almost every event
    that pays, so written out once rather than compiled by the ORM each time."""
    intent, outcome, created, pk = (
        rows.column(StripeEvent, name) for name in ("stripe_payment_intent_id", "outcome", "created", "id")
    )
    return (
        f"SELECT {pk} FROM {rows.table(StripeEvent)}"  # noqa: S608 - names from the model; values are bound
        f" WHERE {intent} = %s AND {outcome} = %s ORDER BY {created}, {pk}"
    )


def _deferred_replay(payment_intent_id: str, *, linked: bool = False) -> None:
    """Process events that waited for this payment intent, once an appreciation is linked to it.

    Called after the commit of every event that linked the payment intent to an appreciation
    (`linked`: no need to ask whether one exists) and of every event that deferred, so an
    event deferred while the link was being committed is not lost: whichever of the two
    commits last sees the other. Other events cannot have made a deferred event processable.
    """
    if not payment_intent_id:
        return
    if not linked and not Appreciation.objects.filter(stripe_payment_intent_id=payment_intent_id).exists():
        return
    with connection.cursor() as cursor:
        cursor.execute(_deferred_sql(), [payment_intent_id, Outcome.DEFERRED])
        waiting = [record_id for (record_id,) in cursor.fetchall()]
    for record_id in waiting:
        try:
            _event_process(record_id)
        except EventProcessingError:
            # Recorded on that event; it must not fail the delivery that triggered the replay.
            logger.warning("Replay of deferred event %s failed", record_id)


def _fees_after(record: StripeEvent) -> None:
    """Fill a missing fee of a paid appreciation after the event committed (a network call)."""
    if record.outcome != Outcome.PROCESSED or not record.stripe_payment_intent_id:
        return
    # The session handler read the record under its lock and knows; other events ask.
    appreciation_id = getattr(record, "fee_target", None)
    if appreciation_id is None:
        appreciation_id = (
            Appreciation.objects.filter(
                stripe_payment_intent_id=record.stripe_payment_intent_id,
                status=Status.PAID,
                fee_amount__isnull=True,
            )
            .values_list("pk", flat=True)
            .first()
        )
    if not appreciation_id:
        return
    try:
        _fees_lookup(appreciation_id, record.stripe_payment_intent_id)
    except Exception:
        # The books are already right; a fee lookup problem must not turn the answer into a retry.
        logger.exception("Fee lookup for appreciation %s failed", appreciation_id)


def stripe_event_handle(event: dict[str, Any]) -> StripeEvent:
    """Store a verified Stripe event once and process it; a stored, finished event changes nothing.

    Raises InvalidEvent for a body that is not an event, EventBusy when a lock is not had quickly,
    and EventProcessingError (after recording attempts and the error) when processing failed.
    """
    # Only what the books need is kept: no reader emails or addresses, nothing PostgreSQL refuses.
    event = stripe_payload_redact(event)
    _event_fields(event)  # InvalidEvent before anything else
    prefetched = _fees_prefetch(event)
    try:
        record = _event_process(event=event, prefetched=prefetched)
        _fees_after(record)
        if record.outcome == Outcome.DEFERRED:
            _deferred_replay(record.stripe_payment_intent_id)
        elif record.outcome == Outcome.PROCESSED and getattr(record, "links_payment_intent", False):
            _deferred_replay(record.stripe_payment_intent_id, linked=True)
    except OperationalError as exc:
        logger.warning("Stripe event %s: database busy (%s)", event.get("id"), type(exc).__name__)
        raise EventBusy("database busy") from exc
    return record
