"""`{% funnel_beacon article %}`: the counting markup of an article page, the same for every reader.

It contains nothing personal, so a cached page carries it unchanged: the browser's own
request (beacon or pixel) does the counting, also when the page came from the cache.
"""

from django import template

register = template.Library()


@register.inclusion_tag("funnel/beacon.html")
def funnel_beacon(article) -> dict:
    return {"article": article}
