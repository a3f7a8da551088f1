import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_counters():
    """Counters live in the cache, outside the test database's rollback."""
    cache.clear()
    yield
    cache.clear()


BROWSER = {
    "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0",
    "HTTP_SEC_FETCH_SITE": "same-origin",
}
