"""The shipped catalogues: Dutch complete and reviewed, every .mo compiled from its current .po.

Dutch is the default language, so an untranslated string shows English at /. `make messages`
refreshes the catalogues from the source; these tests catch what a refresh leaves behind: an
empty or fuzzy Dutch entry, a broken placeholder, or a .po edited without compiling.
"""

import gettext
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from django.utils import translation

LOCALE = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ["nl", "en"]
PLACEHOLDER = re.compile(r"%\([A-Za-z_]\w*\)[sd]|%[sd]|\{[A-Za-z_]\w*\}|</?[a-zA-Z][^>]*>")


def _catalogues() -> list[Path]:
    return sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))


def _read(po: Path) -> Catalog:
    with po.open("rb") as handle:
        return read_po(handle, abort_invalid=True)


def _forms(message) -> list[str]:
    return list(message.string) if message.pluralizable else [message.string]


def _source(message, form: int) -> str:
    if not message.pluralizable:
        return message.id
    return message.id[0] if form == 0 else message.id[1]


def _expected_mo_catalog(catalog: Catalog) -> dict:
    """What msgfmt puts in the .mo: translated, non-fuzzy entries, keyed like GNUTranslations._catalog."""
    expected = {}
    for message in list(catalog)[1:]:
        forms = _forms(message)
        if message.fuzzy or not any(forms):
            continue
        prefix = f"{message.context}\x04" if message.context else ""
        if message.pluralizable:
            for index, text in enumerate(forms):
                expected[(prefix + message.id[0], index)] = text
        else:
            expected[prefix + message.id] = forms[0]
    return expected


def test_both_languages_ship_a_django_catalogue():
    for language in LANGUAGES:
        assert (LOCALE / language / "LC_MESSAGES" / "django.po").is_file()
        assert (LOCALE / language / "LC_MESSAGES" / "django.mo").is_file()


@pytest.mark.parametrize("po", _catalogues(), ids=lambda p: "/".join(p.parts[-3::2]))
def test_catalogue_header_names_language_plural_forms_and_utf8(po):
    # The raw header, not Babel's view of it: Babel fills in defaults for missing fields.
    header = po.read_text(encoding="utf-8").split("\n\n", 1)[0]
    assert f'"Language: {po.parts[-3]}\\n"' in header
    assert '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"' in header
    assert '"Content-Type: text/plain; charset=UTF-8\\n"' in header
    assert "#, fuzzy" not in header, "the header is still marked as an unreviewed draft"


@pytest.mark.parametrize("po", _catalogues(), ids=lambda p: "/".join(p.parts[-3::2]))
def test_no_entry_is_fuzzy(po):
    fuzzy = [message.id for message in list(_read(po))[1:] if message.fuzzy]
    assert fuzzy == [], "review these guesses from makemessages, then drop the fuzzy flag"


@pytest.mark.parametrize("po", sorted(LOCALE.glob("nl/LC_MESSAGES/*.po")), ids=lambda p: p.name)
def test_every_dutch_entry_is_translated_in_every_plural_form(po):
    catalog = _read(po)
    messages = list(catalog)[1:]
    assert messages, "an empty Dutch catalogue: run `make messages`"
    untranslated = [message.id for message in messages if not all(text.strip() for text in _forms(message))]
    assert untranslated == []
    plurals = [message for message in messages if message.pluralizable]
    assert all(len(message.string) == catalog.num_plurals == 2 for message in plurals)


@pytest.mark.parametrize("po", _catalogues(), ids=lambda p: "/".join(p.parts[-3::2]))
def test_translations_keep_every_placeholder_and_tag(po):
    wrong = []
    for message in list(_read(po))[1:]:
        for form, text in enumerate(_forms(message)):
            source = _source(message, form)
            if text and sorted(PLACEHOLDER.findall(text)) != sorted(PLACEHOLDER.findall(source)):
                wrong.append((source, text))
    assert wrong == []


@pytest.mark.parametrize("po", _catalogues(), ids=lambda p: "/".join(p.parts[-3::2]))
def test_committed_mo_is_compiled_from_the_current_po(po):
    """A .po changed without `compilemessages` ships stale or missing translations."""
    mo = po.with_suffix(".mo")
    assert mo.is_file(), f"{mo} missing: run compilemessages"
    with mo.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    shipped = {key: text for key, text in compiled._catalog.items() if key != ""}
    assert shipped == _expected_mo_catalog(_read(po))


def test_compiled_catalogue_detects_a_changed_translation():
    """The .mo comparison above is not vacuous: one changed msgstr makes it differ."""
    po = LOCALE / "nl" / "LC_MESSAGES" / "django.po"
    catalog = _read(po)
    catalog.get("Appreciate this article!").string = "Iets anders"
    with (po.with_suffix(".mo")).open("rb") as handle:
        shipped = {k: v for k, v in gettext.GNUTranslations(handle)._catalog.items() if k != ""}
    assert shipped != _expected_mo_catalog(catalog)


@pytest.mark.parametrize(
    ("english", "dutch"),
    [
        ("Appreciate this article!", "Waardeer dit artikel!"),
        ("My chosen appreciation", "Mijn gekozen waardering"),
        ("Skip to content", "Naar de inhoud"),
        ("This month", "Deze maand"),
        ("Enter an amount.", "Vul een bedrag in."),
        ("Photo", "Foto"),
    ],
)
def test_key_strings_are_dutch_at_runtime(english, dutch):
    with translation.override("nl"):
        assert translation.gettext(english) == dutch
    with translation.override("en"):
        assert translation.gettext(english) == english


def test_byline_and_supporter_count_in_dutch():
    with translation.override("nl"):
        assert translation.gettext("By %(author)s") % {"author": "Sanne Berg"} == "Door Sanne Berg"
        one = translation.ngettext(
            "%(counter)s reader appreciated this article", "%(counter)s readers appreciated this article", 1
        )
        many = translation.ngettext(
            "%(counter)s reader appreciated this article", "%(counter)s readers appreciated this article", 3
        )
    assert one % {"counter": 1} == "1 lezer waardeerde dit artikel"
    assert many % {"counter": 3} == "3 lezers waardeerden dit artikel"


def test_english_plural_falls_back_to_the_source():
    with translation.override("en"):
        text = translation.ngettext("%(counter)s appreciation", "%(counter)s appreciations", 2)
    assert text == "%(counter)s appreciations"
