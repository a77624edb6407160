"""Sphinx configuration of the Phase 15 book: `make site` builds it into _site/en/.

The book is made of the committed, executed notebooks, never re-executed here, so every
output in it is one that CI has verified. The pieces that are not plain Sphinx settings:

* Source folder. The configuration lives in book/, and Sphinx reads build/book/ (git-ignored),
  which this file fills on every build with copies of the book's pages (book/*.md) and of the
  chapter folders, so chapters keep their paths in the site
  (_site/en/theory/02-scaled-dot-product.html). Copies, not symbolic links: Sphinx resolves
  links, and a relative link followed through a symbolic link would leave the source folder.
  A warning about build/book/theory/x.ipynb is about theory/x.ipynb (edit its .md).
* One document per chapter. Each chapter exists twice, as MyST .md and as executed .ipynb;
  only the .ipynb is read (it has the outputs). The chapters' links to each other name the
  .md files, which is what works in JupyterLab; MyST resolves a link to a file by its document
  name, the path without the suffix, so `02-scaled-dot-product.md` reaches the page built from
  `02-scaled-dot-product.ipynb` with no change to the chapters.
* Offline. MathJax, require.js and the widget renderer come from npm (book/package.json, pinned
  by book/package-lock.json, installed by `npm ci`) and are copied into _static; no page asks
  any other host for anything.
* Per-page additions, made on the notebook as it is read (never written back): the
  "try the lab first" banner on solutions, the "this quiz needs a kernel" note on the quiz,
  and the alt text of every figure (book/alt-text.toml).
"""

import json
import os
import pathlib
import shutil
import tomllib

from docutils import nodes

BOOK = pathlib.Path(__file__).resolve().parent
ROOT = BOOK.parent
CHAPTER_FOLDERS = ("theory", "lab", "solutions", "quiz")
NODE_MODULES = BOOK / "node_modules"

# What `make site` passes to sphinx-build as the source folder. The translation test extracts the
# messages from a stage of its own (MINIMODEL_BOOK_STAGE), so that it can run beside a book build.
STAGE = pathlib.Path(os.environ.get("MINIMODEL_BOOK_STAGE", ROOT / "build" / "book"))


def stage_sources():
    """Copy the book's pages and the chapters (.ipynb read, .md kept so links to them resolve)."""
    shutil.rmtree(STAGE, ignore_errors=True)
    STAGE.mkdir(parents=True)
    for page in BOOK.glob("*.md"):
        shutil.copy2(page, STAGE / page.name)
    for folder in CHAPTER_FOLDERS:
        (STAGE / folder).mkdir()
        for path in sorted((ROOT / folder).glob("*.ipynb")) + sorted((ROOT / folder).glob("*.md")):
            shutil.copy2(path, STAGE / folder / path.name)


stage_sources()

# -- Project -------------------------------------------------------------------------------------
project = "minimodel Phase 15 — Attention from Scratch"
author = "the minimodel authors"
copyright = "minimodel authors, MIT licence"
language = "en"
root_doc = "index"

extensions = ["myst_nb", "sphinx.ext.mathjax"]
# Only the executed notebooks and the book's own pages; the paired .md would be a second
# source for the same document ("multiple files found"), so they are left out.
exclude_patterns = [f"{folder}/*.md" for folder in CHAPTER_FOLDERS] + [
    "**/.ipynb_checkpoints",
]
# Every reference must resolve: a broken link fails `make site` (it runs with -W --keep-going).
nitpicky = True

# -- Translations (the Spanish edition) ------------------------------------------------------------
# `make translations` extracts every prose message (-b gettext) into one catalogue per page,
# locales/es/LC_MESSAGES/<page>.po; `-D language=es` builds the Spanish edition from them.
# Code, outputs and math are never messages (see mark_math_untranslatable).
locale_dirs = [str(ROOT / "locales")]  # Sphinx reads it relative to the source folder (build/book)
gettext_compact = False
# No source line numbers in the catalogues: an English edit then changes only its own message.
gettext_location = False
gettext_uuid = False
LANGUAGES = {"en": "English", "es": "Español"}
# What differs between the editions besides the catalogues: the names Sphinx puts in titles and the
# footer, and the theme's search field (a theme option, so no catalogue reaches it).
EDITION = {
    "en": {"project": "minimodel Phase 15 — Attention from Scratch", "html_title": "Phase 15 — Attention from Scratch",
           "author": "the minimodel authors", "copyright": "minimodel authors, MIT licence",
           "search_bar_text": "Search this book…"},
    "es": {"project": "minimodel Fase 15 — Atención desde cero", "html_title": "Fase 15 — Atención desde cero",
           "author": "los autores de minimodel", "copyright": "autores de minimodel, licencia MIT",
           "search_bar_text": "Buscar en este libro…"},
}

# -- MyST and notebooks --------------------------------------------------------------------------
nb_execution_mode = "off"  # the outputs are the committed ones, verified by CI
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
# Headings up to level 3 get anchors, so the glossary can link to the section that introduces a term.
myst_heading_anchors = 3
nb_merge_streams = True

# -- HTML ----------------------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = "Phase 15 — Attention from Scratch"
html_static_path = ["_static"]
html_css_files = ["book.css"]
html_favicon = "_static/favicon.svg"
templates_path = ["_templates"]
html_theme_options = {
    # The "English · Español" switch sits next to the sidebar button, at the top of every page.
    "article_header_start": ["toggle-primary-sidebar.html", "language-switch.html"],
    "show_navbar_depth": 1,
    "show_toc_level": 2,
    "use_download_button": True,
    "home_page_in_toc": True,
    "navigation_with_keys": False,
}
# The theme reads the light/dark choice from here; without it, it logs "invalid theme mode" on every page.
html_context = {"default_mode": "auto"}
# The download button offers each page's source: for a chapter, the executed notebook itself.
html_copy_source = True
html_show_sourcelink = False

# MathJax 3 from npm, served from _static; Sphinx's own default points at a CDN.
mathjax_path = "mathjax/tex-mml-chtml.js"
# The widget renderer from npm. widgets-base.js sets require.js's base URL to _static, where the
# html-manager looks for its icon fonts (by default it would look next to each page).
nb_ipywidgets_js = {
    "require.min.js": {},
    "widgets-base.js": {},
    "@jupyter-widgets/html-manager/dist/embed-amd.js": {},
}

# What `npm ci` installed, and where each piece goes under _static.
NPM_ASSETS = {
    "requirejs/require.js": "require.min.js",
    "mathjax/es5": "mathjax",
    "@jupyter-widgets/html-manager/dist": "@jupyter-widgets/html-manager/dist",
}


def copy_npm_assets(app, exception):
    """After a successful build, copy the pinned npm files into _static."""
    if exception is not None or app.builder.format != "html":
        return
    static = pathlib.Path(app.outdir) / "_static"
    for source, target in NPM_ASSETS.items():
        src, dst = NODE_MODULES / source, static / target
        if not src.exists():
            raise FileNotFoundError(f"{src} is missing: run `npm ci` in book/ (make site does)")
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("*.map", "embed.js", "libembed-amd.js", "node-main.js"))
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
    # Each widget module looks for the icon fonts next to its own URL: the renderer's in
    # @jupyter-widgets/html-manager/dist/, the controls' (button icons) in @jupyter-widgets/.
    fonts = NODE_MODULES / "@jupyter-widgets/html-manager/dist"
    for font in (p for p in fonts.iterdir() if p.suffix in {".woff2", ".woff", ".ttf", ".eot", ".svg"}):
        shutil.copyfile(font, static / "@jupyter-widgets" / font.name)
    # MyST-NB writes the extracted figures next to the output folder; the pages use their copies in _images.
    shutil.rmtree(pathlib.Path(app.outdir).parent / "jupyter_execute", ignore_errors=True)


# -- Per-page additions --------------------------------------------------------------------------
EXERCISES_BANNER = """```{admonition} Try the exercises first
:class: warning

This page holds the worked answers to the exercises at the end of [the chapter](../theory/{name}.md).
Work each exercise on paper or in a cell of your own before you read its answer here.
En español: intenta antes los ejercicios del capítulo; aquí están sus soluciones.
```
"""
SOLUTION_BANNER = """```{admonition} Try the lab first
:class: warning

This page is the worked solution of [the lab of the same name](../lab/{name}.md). Reading it before
you have tried the exercises yourself takes away most of what the lab teaches: open the lab, run
it, and come back here to compare. En español: intenta antes el laboratorio; esta es su solución.
```
"""
QUIZ_NOTE = """```{admonition} The quiz needs a running Python kernel
:class: important

On this static page the quiz form below is shown but cannot score or record anything: checking
an answer runs Python. Take the quiz in a terminal, from a clone of the repository,

    make quiz                                # the same as .venv/bin/minimodel quiz 15
    .venv/bin/minimodel quiz 15 --lang es    # en español

or open `quiz/15-attention.md` in JupyterLab (`make lab`) and run the notebook. A passed attempt is
what `make check` looks for in the Definition of Done. En español: el cuestionario necesita Python;
hazlo en la terminal con la segunda orden de arriba.
```
"""


def _load_alt_texts():
    with open(BOOK / "alt-text.toml", "rb") as f:
        return tomllib.load(f)


ALT_TEXTS = _load_alt_texts()


def _insert_after_title(notebook, text):
    """Put a note right under the page's first heading (the chapter title)."""
    for cell in notebook["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        lines = _source(cell).splitlines(keepends=True)
        for i, line in enumerate(lines):
            if line.startswith("# "):
                cell["source"] = "".join(lines[: i + 1]) + "\n" + text + "\n" + "".join(lines[i + 1 :])
                return
    raise ValueError("the notebook has no title (a line starting with '# ')")


def _source(cell):
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(source)


def _has_figure(cell):
    return any("image/png" in output.get("data", {}) for output in cell.get("outputs", []))


def translated_alt_texts(language):
    """{(page, English alt text): translation} from locales/<language>/LC_MESSAGES/alt-text.po.

    Sphinx does not see alt text set on notebook outputs, so `make translations` keeps it in a
    catalogue of its own (tools/translations.py); a missing or fuzzy entry leaves the English."""
    import polib

    path = ROOT / "locales" / language / "LC_MESSAGES" / "alt-text.po"
    if language == "en" or not path.exists():
        return {}
    return {(entry.msgctxt, entry.msgid): entry.msgstr for entry in polib.pofile(str(path))
            if entry.msgstr and "fuzzy" not in entry.flags and not entry.obsolete}


def set_alt_texts(docname, notebook, logger, translations):
    """Give every figure cell the alt text of its entry in alt-text.toml (matched by a line of its code)."""
    entries = ALT_TEXTS.get(docname, [])
    used = set()
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code" or not _has_figure(cell):
            continue
        matches = [i for i, entry in enumerate(entries) if entry["code"] in _source(cell)]
        if len(matches) != 1:
            logger.warning(f"{docname}: figure cell {index} matches {len(matches)} entries of book/alt-text.toml "
                           f"(it needs exactly one; its code starts {_source(cell)[:60]!r})",
                           location=docname, type="book", subtype="alt_text")
            continue
        used.add(matches[0])
        image = cell.setdefault("metadata", {}).setdefault("mystnb", {}).setdefault("image", {})
        alt = " ".join(entries[matches[0]]["alt"].split())
        image["alt"] = translations.get((docname, alt), alt)
    for i, entry in enumerate(entries):
        if i not in used:
            logger.warning(f"{docname}: book/alt-text.toml entry {entry['code']!r} matches no figure cell",
                           location=docname, type="book", subtype="alt_text")


def edit_notebook(app, docname, content):
    """Add the page's banner and its figures' alt text to the notebook as Sphinx reads it."""
    from sphinx.util import logging

    if not str(app.env.doc2path(docname)).endswith(".ipynb"):
        return
    notebook = json.loads(content[0])
    folder, name = docname.split("/", 1)
    if folder == "solutions" and name.startswith("theory-"):
        _insert_after_title(notebook, EXERCISES_BANNER.replace("{name}", name.removeprefix("theory-")))
    elif folder == "solutions":
        _insert_after_title(notebook, SOLUTION_BANNER.replace("{name}", name))
    elif folder == "quiz":
        _insert_after_title(notebook, QUIZ_NOTE)
    if not hasattr(app, "minimodel_alt_texts"):
        app.minimodel_alt_texts = translated_alt_texts(app.config.language)
    set_alt_texts(docname, notebook, logging.getLogger("minimodel.book"), app.minimodel_alt_texts)
    content[0] = json.dumps(notebook)


def check_alt_text_pages(app, env):
    """Every notebook named in alt-text.toml must be a page of the book."""
    from sphinx.util import logging

    for docname in ALT_TEXTS:
        if docname not in env.found_docs:
            logging.getLogger("minimodel.book").warning(
                f"book/alt-text.toml names {docname!r}, which is not a page", type="book", subtype="alt_text")
    return []


def mark_math_untranslatable(app, doctree):
    """Display math is the same in every language: keep it out of the catalogues."""
    for node in doctree.findall(nodes.math_block):
        node["translatable"] = False


def set_edition(app, config):
    """Apply the language's names once `-D language=…` is known (conf.py itself runs before it)."""
    if config.language not in EDITION:
        raise ValueError(f"the book has editions {sorted(EDITION)}, not {config.language!r}")
    edition = EDITION[config.language]
    for name in ("project", "html_title", "author", "copyright"):
        setattr(config, name, edition[name])
    config.html_theme_options["search_bar_text"] = edition["search_bar_text"]


def add_language_links(app, pagename, templatename, context, doctree):
    """Give the templates the page's address in every edition (the switch, and hreflang links).

    Both editions have the same paths (_site/en/x.html and _site/es/x.html), so the counterpart of
    a page is reached by climbing to _site/ and descending into the other language's folder."""
    up = "../" * (pagename.count("/") + 1)
    context["editions"] = [
        {"code": code, "name": name, "url": f"{up}{code}/{pagename}.html", "current": code == app.config.language}
        for code, name in LANGUAGES.items()
    ]


def keep_english_anchors(app, doctree):
    """Keep each page's heading anchors those of its English headings, in every edition.

    MyST records a page's heading slugs (the targets of links like 04-masking.md#derive-...) when
    it parses the page, and again, over them, each time Sphinx parses a translated heading, so a
    Spanish edition would lose them. The sections keep their English ids in both editions, so a
    link with an anchor works in both; the page's own first parse has the full set."""
    slugs = getattr(doctree, "myst_slugs", None)
    if slugs:
        app.env.metadata[app.env.docname]["myst_slugs"] = slugs


def sort_translated_glossary(app, doctree):
    """Keep the glossary alphabetical in a translated edition.

    `:sorted:` sorts the English terms when the page is parsed; a translation then renames them
    ("query" becomes "consulta (query)"), so the entries are sorted again here, by their text
    without accents, as a Spanish dictionary orders them."""
    import unicodedata

    from sphinx import addnodes

    if app.config.language == "en":
        return

    def key(item):
        text = unicodedata.normalize("NFKD", item.astext().split("\n")[0])
        return "".join(c for c in text if not unicodedata.combining(c)).casefold()

    for glossary in doctree.findall(addnodes.glossary):
        for definitions in glossary.findall(nodes.definition_list):
            definitions.children.sort(key=key)


def setup(app):
    app.connect("config-inited", set_edition)
    app.connect("doctree-read", sort_translated_glossary)
    app.connect("doctree-read", keep_english_anchors)
    app.connect("html-page-context", add_language_links)
    app.connect("doctree-read", mark_math_untranslatable)
    app.connect("source-read", edit_notebook)
    app.connect("env-updated", check_alt_text_pages)
    app.connect("build-finished", copy_npm_assets)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

