"""The Spanish edition's staleness gate: every English message of the book has a current translation.

The messages are extracted afresh from the sources (Sphinx's gettext builder, the same sources as
`make site`), so an English edit fails here even before anyone runs `make translations`; after it,
the edited message is fuzzy and still fails. Each failure names the page and the message.
"""

import pathlib
import sys

import polib
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import translations  # noqa: E402  (tools/translations.py: what `make translations` runs)

CATALOGUES = translations.CATALOGUES
# sphinx.po overrides a few of Sphinx's own strings; it belongs to no page.
PAGE_CATALOGUES = sorted(translations.catalogue_name(p) for p in CATALOGUES.rglob("*.po") if p.name != "sphinx.po")
HOW_TO_FIX = ("run `make translations`, then translate the listed messages in locales/es/LC_MESSAGES/ "
              "(and remove their fuzzy flag); `python tools/translations.py check` lists them too")


@pytest.fixture(scope="module")
def english(tmp_path_factory):
    """{catalogue name: {(context, English message)}} as the sources are now."""
    pot_dir = tmp_path_factory.mktemp("pot")
    messages = {}
    for pot in translations.extract(pot_dir):
        name = str(pot.relative_to(pot_dir).with_suffix(""))
        messages[name] = {(e.msgctxt, e.msgid) for e in polib.pofile(str(pot)) if e.msgid}
    return messages


def test_every_page_has_a_catalogue_and_every_catalogue_a_page(english):
    missing = sorted(set(english) - set(PAGE_CATALOGUES))
    extra = sorted(set(PAGE_CATALOGUES) - set(english))
    assert not missing, f"pages with no Spanish catalogue: {missing}; {HOW_TO_FIX}"
    assert not extra, f"catalogues of pages that no longer exist: {extra}; run `make translations`"


@pytest.mark.parametrize("name", PAGE_CATALOGUES)
def test_every_message_is_translated_and_current(english, name):
    po = polib.pofile(str(CATALOGUES / f"{name}.po"))
    entries = {(e.msgctxt, e.msgid): e for e in po if e.msgid and not e.obsolete}
    problems = []
    for context, msgid in sorted(english.get(name, set()), key=lambda key: key[1]):
        entry = entries.get((context, msgid))
        if entry is None:
            problems.append(f"not in the catalogue (new or changed English): {translations.short(msgid)!r}")
            continue
        problems += [f"{problem}: {translations.short(msgid)!r}" for problem in translations.entry_problems(entry)]
    assert not problems, (f"{name}: {len(problems)} message(s) need a translator; {HOW_TO_FIX}\n  "
                          + "\n  ".join(problems))


def test_sphinx_overrides_are_translated():
    path = CATALOGUES / "sphinx.po"
    untranslated = [e.msgid for e in polib.pofile(str(path)) if not e.msgstr or "fuzzy" in e.flags]
    assert not untranslated, f"{path.relative_to(ROOT)}: untranslated {untranslated}"


def test_the_invariants_catch_a_damaged_translation():
    """The check would notice a translator's slip in math, code, a link target or a role."""
    msgid = "See [the mask](04-masking.md#derive) of $S_{ij}$ in `mask_figure`, and the {ref}`index <genindex>`."
    good = "Mira [la máscara](04-masking.md#derive) de $S_{ij}$ en `mask_figure` y el {ref}`índice <genindex>`."
    damaged = {
        "math": good.replace("$S_{ij}$", "$S_{ji}$"),
        "inline code": good.replace("`mask_figure`", "`figura_mascara`"),
        "link targets": good.replace("#derive", "#deduce"),
        "roles": good.replace("<genindex>", "<indice>"),
    }
    assert translations.entry_problems(polib.POEntry(msgid=msgid, msgstr=good)) == []
    for kind, msgstr in damaged.items():
        problems = translations.entry_problems(polib.POEntry(msgid=msgid, msgstr=msgstr))
        assert len(problems) == 1 and problems[0].startswith(kind), (kind, problems)
    assert translations.entry_problems(polib.POEntry(msgid=msgid, msgstr="")) == ["untranslated"]
    assert translations.entry_problems(polib.POEntry(msgid=msgid, msgstr=good, flags=["fuzzy"]))[0].startswith("fuzzy")
