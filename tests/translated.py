"""What a reader sees for an English source string, looked up in the catalogue the site uses.

Tests of Dutch pages compute their expected text here instead of copying the Dutch wording:
a reworded translation does not break them, a missing one does.
"""

from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext, ngettext


def translated(source: str, locale: str = "nl", /, **params: object) -> str:
    """`source` as a reader of `locale` reads it, with `params` filled in.

    For Dutch the catalogue must have a translation: text that stays English fails the test.
    """
    with translation.override(locale):
        text = gettext(source)
    if locale == "nl":
        assert text != source, f"no Dutch translation for {source!r}"
    return text % params if params else text


def translated_html(source: str, locale: str = "nl", /, **params: object) -> str:
    """translated(), escaped as a template writes it into a page."""
    return escape(translated(source, locale, **params))


def translated_count(singular: str, plural: str, count: int, locale: str = "nl", /, **params: object) -> str:
    """A counted message (ngettext) as a reader of `locale` reads it, with `params` filled in."""
    with translation.override(locale):
        text = ngettext(singular, plural, count)
    if locale == "nl":
        assert text not in (singular, plural), f"no Dutch translation for {singular!r}"
    return text % params if params else text
