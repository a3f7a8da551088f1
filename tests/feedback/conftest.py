import time

import pytest
from django.core.cache import cache

from payments.forms import rendered_stamp


@pytest.fixture(autouse=True)
def _clean_cache_and_language():
    """Rate-limit and funnel counters live in the cache, outside the test database's rollback."""
    cache.clear()
    yield
    cache.clear()


# What a reader's browser sends from one of our pages, some seconds after the page was rendered.
SAME_ORIGIN = {"HTTP_SEC_FETCH_SITE": "same-origin", "HTTP_USER_AGENT": "Mozilla/5.0 Firefox/130.0"}


def form_data(**fields) -> dict:
    return {"rendered": rendered_stamp(now=time.time() - 30), "website": "", **fields}
