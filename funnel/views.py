"""The counting endpoints: a beacon for browsers with JavaScript and a pixel for those without.

Both only increment a cache counter (funnel.services.funnel_count): no cookies, nothing about
the reader is read or kept, and no database write. Crawlers, previews, prefetches and HEAD
requests are answered but not counted.
"""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from funnel import bots, services

# The smallest transparent GIF (1×1).
PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)
BEACON_EVENTS = {"view", "seen"}
MAX_ARTICLE_ID = 2**63 - 1


def _article_id(raw: str) -> int | None:
    if not (raw.isascii() and raw.isdecimal()) or len(raw) > 19:
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ARTICLE_ID else None


def _count(request: HttpRequest, article_id: int | None, event: str) -> None:
    if article_id is None or not bots.countable(request):
        return
    # A page of another site cannot inflate our numbers from a reader's browser.
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "same-site", "none"):
        return
    if services.article_countable(article_id):
        services.funnel_count(article_id=article_id, event=event)


@csrf_exempt  # carries no session and changes nothing but an anonymous counter
@never_cache
@require_POST
def beacon(request: HttpRequest) -> HttpResponse:
    event = request.POST.get("e", "")
    if event not in BEACON_EVENTS:
        return HttpResponse(status=400)
    _count(request, _article_id(request.POST.get("a", "")), event)
    return HttpResponse(status=204)


@never_cache
@require_http_methods(["GET", "HEAD"])
def pixel(request: HttpRequest, article_id: str) -> HttpResponse:
    """The no-JavaScript fallback inside <noscript>: counts a view."""
    _count(request, _article_id(article_id), "view")
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["X-Robots-Tag"] = "noindex"
    return response
