"""Messages of appreciations paid before reader feedback existed get a row, so authors can moderate them."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def forwards(apps, schema_editor):
    Appreciation = apps.get_model("payments", "Appreciation")
    Feedback = apps.get_model("feedback", "Feedback")
    existing = Feedback.objects.filter(appreciation__isnull=False).values("appreciation_id")
    rows = (
        Appreciation.objects.filter(status="paid")
        .exclude(message="")
        .exclude(pk__in=existing)
        .values_list("pk", "article_id", "locale")
    )
    batch = []
    for pk, article_id, locale in rows.iterator(chunk_size=2000):
        # Authors have seen these in the dashboard already; they start as read.
        batch.append(Feedback(appreciation_id=pk, article_id=article_id, locale=locale, is_read=True))
        if len(batch) >= 2000:
            Feedback.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    Feedback.objects.bulk_create(batch, ignore_conflicts=True)
    # Sent when it was paid, so periods in the panel place it right.
    paid_at = Appreciation.objects.filter(pk=OuterRef("appreciation_id")).values("paid_at")[:1]
    Feedback.objects.filter(appreciation__isnull=False, appreciation__paid_at__isnull=False).update(
        created_at=Subquery(paid_at)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0001_feedback_and_reasons"),
        ("payments", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
