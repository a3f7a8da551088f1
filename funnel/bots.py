"""Which requests are not a reader: crawlers, link previews, headless browsers and prefetches.

Counting them would inflate views and make conversion look worse than it is. The list errs
on the side of not counting: a word such as "bot" or "preview" anywhere in the user agent.
"""

import re

from django.http import HttpRequest

_NOT_A_READER = re.compile(
    r"bot|crawl|spider|slurp|facebookexternalhit|facebookcatalog|preview|headless|lighthouse|"
    r"pingdom|uptime|monitor|curl|wget|python-|httpx|aiohttp|go-http-client|java/|okhttp|"
    r"scrapy|phantomjs|puppeteer|playwright|selenium|embedly|quora link|whatsapp|telegram|"
    r"discord|skypeuripreview|bitlybot|feedfetcher|archiver|validator|ia_archiver|dataprovider",
    re.IGNORECASE,
)


def is_prefetch(request: HttpRequest) -> bool:
    """Speculative loads the reader may never see (Chrome, Firefox and Safari spellings)."""
    purpose = " ".join(
        request.headers.get(name, "") for name in ("Sec-Purpose", "Purpose", "X-Purpose", "X-Moz")
    ).lower()
    return "prefetch" in purpose or "preview" in purpose or "prerender" in purpose


def is_bot(user_agent: str) -> bool:
    """An empty user agent is a script, not a browser."""
    return not user_agent.strip() or bool(_NOT_A_READER.search(user_agent))


def countable(request: HttpRequest) -> bool:
    """A GET or POST from a browser, not a HEAD, a prefetch or a crawler."""
    if request.method not in ("GET", "POST"):
        return False
    if is_prefetch(request):
        return False
    return not is_bot(request.headers.get("User-Agent", ""))
