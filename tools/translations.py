"""The Spanish edition's catalogues: extract the English messages, refresh the catalogues, check them.

    python tools/translations.py update          # make translations: after an English edit
    python tools/translations.py check [PO ...]  # what is untranslated, fuzzy or damaged
    python tools/translations.py stats           # messages and words, per catalogue

`update` runs Sphinx's gettext builder over the book (the same sources as `make site`), adds the
figures' alt text (book/alt-text.toml, which Sphinx does not see) as one more catalogue, and merges
the result into locales/es/LC_MESSAGES/ with sphinx-intl's catalogue functions (Babel). A message
whose English changed comes back marked fuzzy, with its old English (`#| msgid`) and its old
translation, so the maintainer retranslates exactly that; a new message comes back empty; a removed
one is dropped.

`check` is what tests/test_translations.py asserts, usable while translating: every message
translated and not fuzzy, and every translation keeping its message's math, inline code, link
targets and roles unchanged, since those are not prose and a typo in them breaks the page.
"""

import os
import pathlib
import re
import subprocess
import sys
import tempfile
import tomllib

import polib

ROOT = pathlib.Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
LANGUAGE = "es"
CATALOGUES = LOCALES / LANGUAGE / "LC_MESSAGES"
ALT_TEXT = ROOT / "book" / "alt-text.toml"
ALT_TEXT_DOMAIN = "alt-text"  # the catalogue of the figures' alt text (not a page)


# -- Extracting --------------------------------------------------------------------------------------

def extract(pot_dir):
    """Write the English messages of every page, and of the alt text, as .pot files into pot_dir."""
    pot_dir = pathlib.Path(pot_dir)
    with tempfile.TemporaryDirectory(prefix="minimodel-gettext-") as tmp:
        stage = pathlib.Path(tmp) / "stage"
        env = dict(os.environ, MINIMODEL_BOOK_STAGE=str(stage))
        command = [sys.executable, "-m", "sphinx", "-b", "gettext", "-E", "-q", "-W", "--keep-going",
                   "-d", str(pathlib.Path(tmp) / "doctrees"), "-c", str(ROOT / "book"), str(stage), str(pot_dir)]
        stage.mkdir()  # conf.py fills it (sphinx-build wants the folder to exist before it reads conf.py)
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"sphinx-build -b gettext failed:\n{done.stderr}")
    write_alt_text_pot(pot_dir / f"{ALT_TEXT_DOMAIN}.pot")
    return sorted(pot_dir.rglob("*.pot"))


def alt_text_message(text):
    """The alt text as the page shows it: one line, single spaces."""
    return " ".join(text.split())


def write_alt_text_pot(path):
    with open(ALT_TEXT, "rb") as f:
        pages = tomllib.load(f)
    pot = polib.POFile(wrapwidth=0)
    pot.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Content-Transfer-Encoding": "8bit"}
    for page, entries in pages.items():
        for entry in entries:
            # The page is the context: two figures with the same description stay two messages.
            pot.append(polib.POEntry(msgctxt=page, msgid=alt_text_message(entry["alt"]), msgstr=""))
    pot.save(str(path))


# -- Updating ----------------------------------------------------------------------------------------

def update():
    """Refresh every catalogue from the current English; print what needs a translator."""
    with tempfile.TemporaryDirectory(prefix="minimodel-pot-") as pot_dir:
        pots = extract(pot_dir)
        CATALOGUES.mkdir(parents=True, exist_ok=True)
        current = set()
        for pot in pots:
            name = pot.relative_to(pot_dir).with_suffix(".po")
            current.add(name)
            merge(pot, CATALOGUES / name)
    for po_path in sorted(CATALOGUES.rglob("*.po")):
        if po_path.relative_to(CATALOGUES) not in current and po_path.name != "sphinx.po":
            print(f"removed {po_path.relative_to(ROOT)}: its page is gone")
            po_path.unlink()
    problems = report(sorted(CATALOGUES.rglob("*.po")))
    print(f"{len(problems)} message(s) to translate or to review" if problems else "every message is translated")


def merge(pot_path, po_path):
    """Merge one page's English messages into its catalogue, the way sphinx-intl does, and write it.

    New messages come in empty; a changed message is matched to its old entry and marked fuzzy,
    keeping the old translation and, as `#| msgid`, the old English, so the diff shows what changed;
    removed messages are dropped. Every catalogue is written in the same layout, whatever tool
    last edited it, so that a diff shows only what changed."""
    from sphinx_intl import catalog

    template = catalog.load_po(str(pot_path))
    # Babel reads a `#| msgid` line back as a comment; polib reads it as what it is.
    still_marked = {(e.msgctxt, e.msgid): e.previous_msgid for e in polib.pofile(str(po_path))
                    if "fuzzy" in e.flags and e.previous_msgid} if po_path.exists() else {}
    if po_path.exists():
        po = _load_without_previous(po_path)
        before, created = {(m.context, m.id) for m in po if m.id}, po.creation_date
        catalog.update_with_fuzzy(po, template)
        if {(m.context, m.id) for m in po if m.id} == before:
            po.creation_date = created  # nothing changed: keep the file as it was
    else:
        po = template
        po.locale = LANGUAGE
        print(f"created {po_path.relative_to(ROOT)}")
    page = po_path.relative_to(CATALOGUES).with_suffix("")
    po.header_comment = (f"# Spanish edition of the minimodel Phase 15 book: {page}\n"
                         "# Terms: locales/es/TERMINOLOGY.md. After an English edit, run `make translations`,\n"
                         "# translate the messages it lists, and delete their `#, fuzzy` lines.")
    po.fuzzy = False  # the header's flag, not a message's
    po.last_translator = "minimodel authors"
    po.language_team = "Spanish (locales/es/TERMINOLOGY.md)"
    previous = {(m.context, m.id): m.previous_id[0] for m in po if m.id and m.fuzzy and m.previous_id}
    catalog.dump_po(str(po_path), po, width=100, ignore_obsolete=True)
    # Babel also wraps a previous msgid as if it were a comment, which breaks it; polib writes it
    # right (and is what translators use, so every catalogue keeps one layout).
    entries = polib.pofile(str(po_path), wrapwidth=100)
    for entry in entries:
        key = (entry.msgctxt, entry.msgid)
        if "fuzzy" in entry.flags and (key in previous or key in still_marked):
            entry.previous_msgid = previous.get(key) or still_marked[key]
    entries.save(str(po_path))


def _load_without_previous(po_path):
    """The catalogue as Babel reads it, minus its `#|` lines (Babel would take them for comments)."""
    from sphinx_intl import catalog

    text = po_path.read_text(encoding="utf-8")
    kept = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("#|"))
    with tempfile.NamedTemporaryFile("w", suffix=".po", encoding="utf-8", delete=False) as f:
        f.write(kept)
    try:
        return catalog.load_po(f.name)
    finally:
        os.unlink(f.name)


# -- Checking ----------------------------------------------------------------------------------------

# Pieces of a message that are not prose: they must come through a translation unchanged.
MATH = re.compile(r"\$\$.+?\$\$|\$[^$\s](?:[^$]*[^$\s])?\$")
CODE = re.compile(r"``.+?``|`[^`]+`")
LINK_TARGET = re.compile(r"\]\(([^)\s]+)\)")
# A role such as {ref}`general index <genindex>`: its name and target stay, its label is prose.
ROLE = re.compile(r"\{([a-z:]+)\}`([^`]*)`")


def _role_target(match):
    name, content = match.groups()
    target = re.search(r"<([^<>]+)>\s*$", content)
    return f"{{{name}}}<{target.group(1) if target else content}>"


def invariants(text):
    """The math, inline code, link targets and roles (name and target) of a message, sorted."""
    roles = sorted(_role_target(m) for m in ROLE.finditer(text))
    prose = ROLE.sub(" ", text)
    without_code = CODE.sub(" ", prose)
    return {
        "math": sorted(MATH.findall(without_code)),
        "inline code": sorted(CODE.findall(prose)),
        "link targets": sorted(LINK_TARGET.findall(text)),
        "roles": roles,
    }


def catalogue_name(po_path):
    """locales/es/LC_MESSAGES/theory/02-scaled-dot-product.po -> theory/02-scaled-dot-product."""
    return str(pathlib.Path(po_path).resolve().relative_to(CATALOGUES.resolve()).with_suffix(""))


def short(text, width=90):
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def entry_problems(entry):
    """What is wrong with one entry of a catalogue, as sentences (empty when it is fine)."""
    if entry.obsolete or not entry.msgid:
        return []
    if "fuzzy" in entry.flags:
        return ["fuzzy: the English changed after it was translated; retranslate it and remove the fuzzy flag"]
    if not entry.msgstr.strip():
        return ["untranslated"]
    problems = []
    expected, given = invariants(entry.msgid), invariants(entry.msgstr)
    for kind in expected:
        if expected[kind] != given[kind]:
            missing = [x for x in expected[kind] if x not in given[kind]]
            extra = [x for x in given[kind] if x not in expected[kind]]
            problems.append(f"{kind} changed by the translation (missing {missing}, added {extra})")
    return problems


def catalogue_problems(po_path):
    """(catalogue, message, problem) for every problem in one .po file."""
    po = polib.pofile(str(po_path))
    name = catalogue_name(po_path)
    return [(name, entry.msgid, problem) for entry in po for problem in entry_problems(entry)]


def report(po_paths):
    problems = [p for path in po_paths for p in catalogue_problems(path)]
    for name, msgid, problem in problems:
        print(f"✗ {name}: {problem}\n    {short(msgid)!r}")
    return problems


def word_count(text):
    """Words of prose: math and inline code are left out."""
    return len(re.findall(r"[^\W\d_]+(?:['’][^\W\d_]+)?", MATH.sub(" ", CODE.sub(" ", text))))


def stats(po_paths):
    total_messages = total_words = 0
    for path in po_paths:
        po = [e for e in polib.pofile(str(path)) if e.msgid and not e.obsolete]
        words = sum(word_count(e.msgid) for e in po)
        translated = sum(1 for e in po if e.msgstr and "fuzzy" not in e.flags)
        print(f"{catalogue_name(path):42} {len(po):5} messages {words:6} words  {translated:5} translated")
        total_messages, total_words = total_messages + len(po), total_words + words
    print(f"{'total':42} {total_messages:5} messages {total_words:6} words")


def main(argv):
    if not argv or argv[0] not in {"update", "check", "stats"}:
        print(__doc__.strip().splitlines()[0], "\nusage: translations.py update | check [PO ...] | stats")
        return 2
    paths = [pathlib.Path(p) for p in argv[1:]] or sorted(CATALOGUES.rglob("*.po"))
    if argv[0] == "update":
        update()
        return 0
    if argv[0] == "stats":
        stats(paths)
        return 0
    problems = report(paths)
    print(f"{len(problems)} problem(s) in {len(paths)} catalogue(s)" if problems
          else f"✓ {len(paths)} catalogue(s): every message translated")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
