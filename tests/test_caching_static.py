"""Static files as production builds and serves them: hashed names, gzip and Brotli, cached for good."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.http import HttpResponse
from django.test import RequestFactory, override_settings
from whitenoise.middleware import WhiteNoiseMiddleware

MANIFEST_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """One collectstatic (Brotli is slow) with production's storage, for the whole module."""
    root = tmp_path_factory.mktemp("static")
    with override_settings(
        DEBUG=False,
        STATIC_ROOT=root,
        STORAGES={**django_settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST_STORAGE}},
        WHITENOISE_AUTOREFRESH=False,
        WHITENOISE_USE_FINDERS=False,
        WHITENOISE_MAX_AGE=31536000,
    ):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield root


def test_production_settings_use_the_compressing_manifest_storage():
    # The tests run with DEBUG on; read the settings production (DEBUG=0) gets.
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps([settings.STORAGES['staticfiles']['BACKEND'], settings.WHITENOISE_MAX_AGE]))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "journalism.settings",
        "DEBUG": "0",
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "example.org",
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout) == [MANIFEST_STORAGE, 31536000]


def test_collectstatic_writes_hashed_names_with_gzip_and_brotli(collected):
    for original in ("css/site.css", "css/widget.css", "js/appreciation.js"):
        folder, name = original.rsplit("/", 1)
        stem, ext = name.rsplit(".", 1)
        hashed = [
            path
            for path in (collected / folder).iterdir()
            if re.fullmatch(rf"{re.escape(stem)}\.[0-9a-f]{{12}}\.{ext}", path.name)
        ]
        assert len(hashed) == 1, list((collected / folder).iterdir())
        compressed = {path.name for path in (collected / folder).iterdir()}
        assert f"{hashed[0].name}.gz" in compressed
        assert f"{hashed[0].name}.br" in compressed


def test_pages_link_the_hashed_names(collected, client, db):
    from tests.factories import ArticleFactory

    html = client.get(ArticleFactory().get_absolute_url()).text
    assert re.search(r'href="/static/css/site\.[0-9a-f]{12}\.css"', html)
    assert re.search(r'src="/static/js/appreciation\.[0-9a-f]{12}\.js" defer', html)


def _whitenoise_get(path: str, encoding: str = ""):
    middleware = WhiteNoiseMiddleware(lambda request: HttpResponse(status=404))
    request = RequestFactory().get(path, HTTP_ACCEPT_ENCODING=encoding)
    return middleware(request)


def test_whitenoise_serves_hashed_names_forever_and_compressed(collected):
    hashed = next((collected / "css").glob("site.????????????.css")).name
    response = _whitenoise_get(f"/static/css/{hashed}", "gzip, deflate, br")
    assert response.status_code == 200
    cache_control = response["Cache-Control"]
    assert "immutable" in cache_control and "public" in cache_control
    assert int(re.search(r"max-age=(\d+)", cache_control).group(1)) >= 31536000
    assert response["Content-Encoding"] == "br"
    assert response["Vary"] == "Accept-Encoding"
    assert _whitenoise_get(f"/static/css/{hashed}", "gzip")["Content-Encoding"] == "gzip"


def test_unhashed_names_are_not_cached_forever(collected):
    response = _whitenoise_get("/static/css/site.css")
    assert response.status_code == 200
    assert "immutable" not in response.get("Cache-Control", "")
