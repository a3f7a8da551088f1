"""Hero variants: sensible widths, never upscaled, built once and then only looked up."""

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from articles import images, services
from articles.models import Article
from tests.articles.helpers import jpeg_upload
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db


def test_upload_stores_dimensions():
    article = ArticleFactory(hero_image=jpeg_upload(1600, 900))
    article.refresh_from_db()
    assert (article.hero_width, article.hero_height) == (1600, 900)


def test_variants_are_built_at_three_widths_with_matching_files():
    article = ArticleFactory(hero_image=jpeg_upload(1600, 900))
    variants = services.article_hero_variants_build(article=article)
    assert [(v.width, v.height) for v in variants] == [(480, 270), (800, 450), (1200, 675)]
    for variant in variants:
        with Image.open(default_storage.path(variant.name)) as image:
            assert image.size == (variant.width, variant.height)
            assert image.format == "JPEG"


def test_small_original_is_never_upscaled():
    article = ArticleFactory(hero_image=jpeg_upload(600, 400))
    variants = services.article_hero_variants_build(article=article)
    assert [(v.width, v.height) for v in variants] == [(480, 320), (600, 400)]


def test_transparent_png_is_flattened_on_white():
    from io import BytesIO

    from django.core.files.uploadedfile import SimpleUploadedFile

    buffer = BytesIO()
    Image.new("RGBA", (800, 400), (0, 0, 0, 0)).save(buffer, "PNG")
    article = ArticleFactory(hero_image=SimpleUploadedFile("clear.png", buffer.getvalue()))
    variant = services.article_hero_variants_build(article=article)[0]
    with Image.open(default_storage.path(variant.name)) as image:
        assert image.getpixel((10, 10))[0] > 240


def test_second_page_view_does_no_image_work(client, monkeypatch):
    article = ArticleFactory(hero_image=jpeg_upload(1600, 900))
    assert client.get(article.get_absolute_url()).status_code == 200

    def forbidden(*args, **kwargs):
        raise AssertionError("an image was opened or resized on a page view of existing variants")

    monkeypatch.setattr(images.Image, "open", forbidden)
    monkeypatch.setattr(images, "write_variant", forbidden)
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    assert "1200w" in response.text
    assert client.get("/").status_code == 200


def test_first_page_view_builds_missing_variants(client):
    article = ArticleFactory(hero_image=jpeg_upload(1600, 900))
    names = [v.name for v in images.variants_for(article.hero_image.name, 1600, 900)]
    assert not any(default_storage.exists(name) for name in names)
    client.get(article.get_absolute_url())
    assert all(default_storage.exists(name) for name in names)


def test_missing_source_file_shows_no_photo_instead_of_error(client):
    article = ArticleFactory(hero_image=jpeg_upload(1600, 900))
    default_storage.delete(article.hero_image.name)
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    assert 'class="hero__img"' not in response.text


def test_missing_dimensions_are_measured_and_saved_once():
    article = ArticleFactory(hero_image=jpeg_upload(1000, 500))
    Article.objects.filter(pk=article.pk).update(hero_width=None, hero_height=None)
    article = Article.objects.get(pk=article.pk)
    services.article_hero_variants(article=article)
    assert Article.objects.values_list("hero_width", "hero_height").get(pk=article.pk) == (1000, 500)
