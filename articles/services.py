"""Writes for the articles app."""

import logging

from django.core.files.storage import default_storage
from PIL import UnidentifiedImageError

from articles import images
from articles.models import Article

logger = logging.getLogger(__name__)


def article_hero_variants_build(*, article: Article, force: bool = False) -> list[images.Variant]:
    """Make the resized copies of an article's hero image (the admin may call this on save).

    Existing variants are kept unless `force`. The stored width/height are corrected to the
    upright image, so pages can reserve the right space. A missing or broken file is logged
    and yields no variants: the page then shows no photo rather than an error.
    """
    if not article.hero_image:
        return []
    name = article.hero_image.name
    try:
        image = images.open_upright(default_storage.path(name))
    except (OSError, UnidentifiedImageError, ValueError):
        logger.warning("Hero image of article %s cannot be read: %s", article.pk, name)
        return []
    width, height = image.size
    # Compared in the database, not on the instance: Django's ImageField measures unsaved
    # dimensions on load, so the instance can look right while every load reopens the file.
    # update(), not save(): storing a measurement is not an edit of the article.
    if article.pk:
        Article.objects.filter(pk=article.pk).exclude(hero_width=width, hero_height=height).update(
            hero_width=width, hero_height=height
        )
    article.hero_width, article.hero_height = width, height
    variants = images.variants_for(name, width, height)
    for variant in variants:
        if force or not default_storage.exists(variant.name):
            images.write_variant(image, variant)
    return variants


def article_hero_variants(*, article: Article) -> list[images.Variant]:
    """The variants for a page view, built on first use; afterwards only file-exists checks."""
    if not article.hero_image:
        return []
    if article.hero_width and article.hero_height:
        variants = images.variants_for(article.hero_image.name, article.hero_width, article.hero_height)
        if all(default_storage.exists(variant.name) for variant in variants):
            return variants
    return article_hero_variants_build(article=article)
