"""Article bodies: Markdown in, sanitised HTML out.

Authors write Markdown, but Markdown passes raw HTML through, so everything is cleaned
with nh3 against a short allow-list afterwards: no script, event handlers, style,
iframes, or links other than http(s) and mailto. Article.save() stores the result
(`body_html`), and the admin live preview uses the same function, so what an author previews
is exactly what readers get. A change to these rules reaches stored articles through a data
migration that saves every article again (see articles/migrations/0003).
"""

import json
import re
from typing import Any

import markdown
import nh3
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "p",
    "h2",
    "h3",
    "h4",
    "ul",
    "ol",
    "li",
    "blockquote",
    "em",
    "strong",
    "a",
    "code",
    "pre",
    "br",
    "hr",
    "sup",
    "sub",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
_H1 = re.compile(r"<(/?)h1>")


def render_markdown(text: str) -> SafeString:
    """Markdown (## for sub-headings) to HTML that is safe to put on a page."""
    html = markdown.markdown(text, extensions=["sane_lists"], output_format="html")
    # The page title is the only <h1>; a "# heading" in the body becomes a sub-heading.
    html = _H1.sub(r"<\1h2>", html)
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return mark_safe(cleaned)  # noqa: S308 - cleaned by nh3 against the allow-list above


_JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def json_ld_script(data: dict[str, Any]) -> SafeString:
    """A <script type="application/ld+json"> block; <, > and & are escaped as in json_script,
    so no value (a title, say) can close the script element."""
    payload = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(_JSON_SCRIPT_ESCAPES)
    return mark_safe(f'<script type="application/ld+json">{payload}</script>')  # noqa: S308
