import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _dutch_outside_requests():
    """reverse() in a test follows the active language, which a previous /en/ request leaves behind."""
    translation.activate("nl")
    yield
    translation.activate("nl")
