from django.db import migrations, models

from articles.rendering import render_markdown


def render_bodies(apps, schema_editor):
    """Store the rendered body of every article (also the way to apply new rendering rules)."""
    Article = apps.get_model("articles", "Article")
    batch = []
    for article in Article.objects.only("pk", "body").iterator(chunk_size=500):
        article.body_html = render_markdown(article.body)
        batch.append(article)
        if len(batch) == 500:
            Article.objects.bulk_update(batch, ["body_html"])
            batch = []
    Article.objects.bulk_update(batch, ["body_html"])


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0002_article_hero_dimensions"),
    ]

    operations = [
        migrations.AddField(
            model_name="article",
            name="body_html",
            field=models.TextField(blank=True, editable=False, verbose_name="body as HTML"),
        ),
        migrations.RunPython(render_bodies, migrations.RunPython.noop),
    ]
