"""The static book (`make site`) in headless Chromium, offline: `make site-test` runs this file.

The built site, _site/, is served on 127.0.0.1; every request for any other host is aborted
and counted. Each page of both editions (_site/en/ and _site/es/) is opened and must load with
status 200, no console error, no failed request and no outside request, with its math typeset by
MathJax and every image decoded, `lang` set to its edition's language, and an "English · Español"
switch that lands on the same page in the other edition. A Spanish page must not repeat any English
paragraph of its English page (code, outputs and names aside), nor the theme's English strings.
On the chapters with controls, every enabled control is moved and the figure it drives must
change, with no kernel anywhere. The glossary must define at least 20 terms, each linking to
a chapter section that exists. Screenshots of the landing page, of chapter 02 after its
slider moved and of the glossary are saved in the folder printed at the end of the run.

These tests need the built site, so they run only with MINIMODEL_BOOK_TESTS=1 (set by
`make site-test` and .ci/run after `make site`); then a missing site is a failure.
"""

import functools
import html.parser
import http.server
import os
import re
import threading
import time
import urllib.parse

import pytest

from conftest import ROOT, SCREENSHOTS

SITE = ROOT / "_site"
BOOK = SITE / "en"
EDITIONS = ("en", "es")
REQUIRED = os.environ.get("MINIMODEL_BOOK_TESTS") == "1"
PAGES = sorted(str(p.relative_to(BOOK)) for p in BOOK.rglob("*.html") if not {"_static", "_sources"} & set(p.parts))
EDITION_PAGES = [(lang, path) for lang in EDITIONS for path in PAGES]
CHAPTER_FOLDERS = ("theory", "lab", "solutions", "quiz")
# Chapters whose controls must switch their figure in the browser (precomputed frames, jslink).
CONTROL_PAGES = ("theory/02-scaled-dot-product.html", "theory/03-multi-head.html", "theory/04-masking.html",
                 "theory/00-motivation.html")
TIMEOUT_MS = 30_000

# Lines about what each page did (requests, controls moved), printed at the end of the run.
BOOK_REPORT = []


class _Report:
    """A pytest plugin, registered by the site fixture, that prints BOOK_REPORT in the terminal summary."""

    def pytest_terminal_summary(self, terminalreporter):
        if BOOK_REPORT:
            terminalreporter.section("The static book (_site/) in Chromium, offline")
            for line in BOOK_REPORT:
                terminalreporter.write_line(line)


pytestmark = [
    pytest.mark.skipif(not REQUIRED, reason="the book's browser test runs with `make site-test`, after `make site`"),
]


@pytest.fixture(scope="module")
def site(pytestconfig):
    if not (BOOK / "index.html").is_file():
        pytest.fail(f"no built book at {BOOK}: run `make site` first")
    if not pytestconfig.pluginmanager.has_plugin("minimodel-book-report"):
        pytestconfig.pluginmanager.register(_Report(), "minimodel-book-report")
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class Traffic:
    """What one page asked for: outside requests (aborted), failed responses, console errors."""

    def __init__(self, base):
        self.base = base
        self.clear()

    def clear(self):
        self.outside, self.failed, self.errors = [], [], []
        self.requests = 0

    def route(self, route):
        url = route.request.url
        if url.startswith(self.base + "/") or url.startswith(("data:", "blob:")):
            self.requests += 1
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()


@pytest.fixture(scope="module")
def book_page(browser, site):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    traffic = Traffic(site)
    context.route("**/*", traffic.route)
    page = context.new_page()
    page.on("console", lambda message: traffic.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: traffic.errors.append(f"uncaught: {error}"))
    page.on("response", lambda response: traffic.failed.append(f"{response.status} {response.url}")
            if response.status >= 400 else None)
    # A request cut off by the next navigation (net::ERR_ABORTED, often the favicon) is not a fault of
    # the page; a missing file shows up as a 404 response above.
    page.on("requestfailed", lambda request: None if request.url in traffic.outside
            or "ERR_ABORTED" in (request.failure or "") else traffic.failed.append(f"failed {request.url}"))
    try:
        yield page, traffic
    finally:
        context.close()


RENDERED_WIDGETS = """() => Array.from(document.querySelectorAll('script'))
    .filter(s => s.type === 'application/vnd.jupyter.widget-view+json')
    .every(s => s.parentElement.querySelector('.widget-subarea > *') !== null)"""


def open_page(book_page, site, path, lang="en"):
    """Open one page of an edition and wait until its math and widgets (if any) have rendered."""
    page, traffic = book_page
    traffic.clear()
    response = page.goto(f"{site}/{lang}/{path}", wait_until="load")
    assert response is not None and response.status == 200, f"{path}: status {response and response.status}"
    if page.locator(".math").count():
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=TIMEOUT_MS)
        page.evaluate("() => MathJax.startup.promise")
    if page.locator('script[type="application/vnd.jupyter.widget-state+json"]').count():
        # The widget manager renders each view into a .widget-subarea placed before its script.
        page.wait_for_function(RENDERED_WIDGETS, timeout=TIMEOUT_MS)
    page.wait_for_function("() => Array.from(document.images).every(i => i.complete)", timeout=TIMEOUT_MS)
    return page, traffic


@pytest.mark.parametrize(("lang", "path"), EDITION_PAGES)
def test_page_loads_offline_and_renders(book_page, site, lang, path):
    page, traffic = open_page(book_page, site, path, lang)
    path = f"{lang}/{path}"  # what the messages below name
    BOOK_REPORT.append(f"{path}: status 200, {traffic.requests} requests to 127.0.0.1, "
                       f"{len(traffic.outside)} to other hosts (aborted), {len(traffic.errors)} console errors")
    assert traffic.outside == [], f"{path} asked other hosts for {traffic.outside}"
    assert traffic.failed == [], f"{path}: failed requests {traffic.failed}"
    assert traffic.errors == [], f"{path}: console errors {traffic.errors}"

    math = page.evaluate("""() => Array.from(document.querySelectorAll('.math'))
                                .map(m => m.querySelector('mjx-container') !== null)""")
    assert all(math), f"{path}: {math.count(False)} of {len(math)} formulas were not typeset by MathJax"
    text = page.evaluate("() => document.querySelector('main').innerText")
    assert "$$" not in text, f"{path}: raw $$ left on the page"
    if path.startswith("theory/"):
        assert math, f"{path}: a theory chapter with no typeset formula"

    images = page.evaluate("""() => Array.from(document.querySelectorAll('main img'))
                                  .map(i => ({src: i.src.slice(-60), width: i.naturalWidth, alt: i.alt,
                                              widget: i.closest('.jupyter-widgets') !== null}))""")
    broken = [i["src"] for i in images if i["width"] == 0]
    assert not broken, f"{path}: images that did not load: {broken}"
    for image in images:
        if not image["widget"]:  # figures of the notebooks; widget frames are described by their caption
            assert len(image["alt"]) > 30 and not image["alt"].startswith("<Figure"), (
                f"{path}: image {image['src']} has alt text {image['alt']!r}")

    if path.split("/")[1] in CHAPTER_FOLDERS:
        neighbours = page.locator(".prev-next-area a")
        assert neighbours.count() >= 1, f"{path}: no previous/next links"
    assert "Error displaying widget" not in text, f"{path}: a widget failed to render"
    empty_tab_bars = page.evaluate("""() => Array.from(document.querySelectorAll('main .lm-TabBar'))
        .filter(bar => bar.offsetParent !== null && bar.innerText.trim() === '').length""")
    assert empty_tab_bars == 0, f"{path}: {empty_tab_bars} visible tab bars without a title (a frame switch showing)"
    widget_errors = page.locator(".jupyter-widgets-error-widget, .widget-error")
    assert widget_errors.count() == 0, f"{path}: a widget failed to render: {widget_errors.first.inner_text()}"
    if path.split("/", 1)[1] in (*CONTROL_PAGES, "index.html", "glossary.html"):
        page.screenshot(path=SCREENSHOTS / f"book-{path.replace('/', '-')}.png", full_page=False)

    # The edition's language, and the switch to the same page in the other edition.
    assert page.evaluate("() => document.documentElement.lang") == lang, f"{path}: <html lang> is not {lang!r}"
    switch = page.locator(".bd-header-article .language-switch")
    assert switch.count() == 1 and switch.is_visible(), f"{path}: no visible English · Español switch"
    assert " ".join(switch.inner_text().split()) == "English · Español", f"{path}: switch reads {switch.inner_text()!r}"
    other = next(e for e in EDITIONS if e != lang)
    switch.locator(f'a[hreflang="{other}"]').click()
    page.wait_for_load_state("networkidle")  # so that none of its requests is cut off by the next test
    counterpart = f"{site}/{other}/{path.split('/', 1)[1]}"
    assert page.url == counterpart, f"{path}: the switch landed on {page.url}, not {counterpart}"
    assert page.evaluate("() => document.documentElement.lang") == other, f"{path}: its counterpart is not lang={other}"


# --- controls: each one switches its figure in the browser ---------------------------------------

FIGURE_SIGNATURE = """async (output) => {
  // The bytes of every image shown in this cell's output: a control changed the figure when they change.
  const shown = Array.from(output.querySelectorAll('img')).filter(i => i.offsetParent !== null && i.complete);
  const digests = [];
  for (const img of shown) {
    const bytes = await (await fetch(img.src)).arrayBuffer();
    const hash = await crypto.subtle.digest('SHA-256', bytes);
    digests.push(Array.from(new Uint8Array(hash)).map(b => b.toString(16).padStart(2, '0')).join(''));
  }
  return digests.join(',');
}"""

SINGLE_SWITCHES = ".widget-checkbox input, .widget-toggle-button:not(.widget-toggle-buttons *)"
CONTROLS = """(output, single) => {
  // Every control a reader can use now in one cell's output: shown (a Stack hides the controls of the
  // settings not selected) and enabled. Each is tagged with data-book-control so Python can find it.
  const shown = (el) => el.offsetParent !== null;
  const label = (el) => (el.closest('.widget-inline-hbox, .widget-toggle-buttons') || el)
                          .querySelector('.widget-label')?.innerText.trim() || '';
  output.querySelectorAll('[data-book-control]').forEach((el) => { delete el.dataset.bookControl; });
  const found = [];
  const add = (el, kind) => {
    el.dataset.bookControl = String(found.length);
    found.push({kind, id: String(found.length), name: `${kind} '${label(el)}'`});
  };
  output.querySelectorAll('.widget-slider, .widget-hslider').forEach((s) => {
    if (shown(s) && !s.classList.contains('mod-disabled') && !s.querySelector('[disabled]')) add(s, 'slider');
  });
  output.querySelectorAll('.widget-toggle-buttons').forEach((t) => {
    if (shown(t) && t.querySelectorAll('button:not([disabled])').length > 1) add(t, 'toggles');
  });
  output.querySelectorAll('.widget-dropdown select').forEach((d) => {
    if (shown(d) && !d.disabled && d.options.length > 1) add(d, 'dropdown');
  });
  output.querySelectorAll(single).forEach((c) => { if (shown(c) && !c.disabled) add(c, 'switch'); });
  return found;
}"""


def _moves(output, control):
    """Move one control through its values, as a reader would; yield a label after each move.

    A slider steps right to its end (or one step left when it starts there), toggle buttons and
    dropdowns visit every other option, a switch is turned on and off.
    """
    kind, name = control["kind"], control["name"]
    element = output.locator(f'[data-book-control="{control["id"]}"]')
    if kind == "slider":
        handle = element.locator(".noUi-handle")
        at_end = lambda: handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")  # noqa: E731
        if at_end():
            handle.press("ArrowLeft")
            yield f"{name} one step left"
        while not at_end():
            handle.press("ArrowRight")
            yield f"{name} -> step {handle.get_attribute('aria-valuenow')}"
    elif kind == "toggles":
        buttons = element.locator("button")
        for b in range(buttons.count()):
            button = buttons.nth(b)
            if "mod-active" not in (button.get_attribute("class") or "") and button.is_enabled():
                button.click()
                yield f"{name} -> {button.inner_text()!r}"
    elif kind == "dropdown":
        current = element.evaluate("s => s.options[s.selectedIndex].text")
        for option in [o for o in element.locator("option").all_inner_texts() if o != current]:
            element.select_option(label=option)
            yield f"{name} -> {option!r}"
    elif kind == "switch":
        for state in ("on", "off"):
            element.click()
            yield f"{name} {state}"
    else:
        raise AssertionError(f"cannot move a {kind}")


@pytest.mark.parametrize("lang", EDITIONS)
@pytest.mark.parametrize("path", CONTROL_PAGES)
def test_every_control_changes_its_figure_without_a_kernel(book_page, site, path, lang):
    page, traffic = open_page(book_page, site, path, lang)
    outputs = page.locator("div.cell_output").filter(has=page.locator(".widget-slider, .widget-toggle-buttons,"
                                                                      " .widget-dropdown, .widget-hslider"))
    assert outputs.count() > 0, f"{path}: no controls rendered"
    moved, swept = [], []
    for o in range(outputs.count()):
        output = outputs.nth(o)
        output.scroll_into_view_if_needed()
        # Moving one control can show or enable another (a Stack of controls): look again after each.
        done = set()
        while True:
            usable = [c for c in output.evaluate(CONTROLS, SINGLE_SWITCHES) if c["name"] not in done]
            if not usable:
                break
            control = usable[0]
            done.add(control["name"])
            swept.append(f"explorer {o}: {control['name']}")
            before = output.evaluate(FIGURE_SIGNATURE)
            assert before, f"{path}: explorer {o} shows no figure"
            for label in _moves(output, control):
                after = _wait_for_new_figure(page, output, before)
                assert after != before, f"{path}: {label} (explorer {o}) did not change the figure, with no kernel"
                assert after, f"{path}: after {label}, explorer {o} shows no figure"
                moved.append(label)
                before = after
                if path == CONTROL_PAGES[0] and control["kind"] == "slider" and o == 0 and len(moved) == 1:
                    output.screenshot(path=SCREENSHOTS / f"book-{lang}-theory-02-after-slider.png")
        assert done, f"{path}: explorer {o} has no enabled control"
    assert traffic.errors == [], f"{path}: console errors while moving controls: {traffic.errors}"
    assert traffic.outside == [], f"{path}: outside requests while moving controls: {traffic.outside}"
    BOOK_REPORT.append(f"{lang}/{path}: {len(moved)} moves of {len(swept)} controls ({', '.join(swept)}),"
                       " each changed the figure, no kernel")


def _wait_for_new_figure(page, output, before, seconds=5.0):
    """The figure signature once it differs from ``before`` and every shown image has loaded (or at timeout)."""
    deadline = time.monotonic() + seconds
    while True:
        loaded = output.evaluate("o => Array.from(o.querySelectorAll('img')).filter(i => i.offsetParent !== null)"
                                 ".every(i => i.complete && i.naturalWidth > 0)")
        after = output.evaluate(FIGURE_SIGNATURE)
        if (loaded and after != before) or time.monotonic() > deadline:
            return after
        page.wait_for_timeout(100)


# --- dark mode ----------------------------------------------------------------------------------


def test_dark_mode_keeps_outputs_on_a_light_background(browser, site):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, color_scheme="dark")
    try:
        page = context.new_page()
        page.goto(f"{site}/en/theory/04-masking.html", wait_until="load")
        assert page.evaluate("() => document.documentElement.dataset.theme") == "dark"
        colours = page.evaluate("""() => Array.from(document.querySelectorAll('div.cell_output')).map(o => {
            const box = getComputedStyle(o), pre = o.querySelector('pre');
            return {background: box.backgroundColor, text: pre ? getComputedStyle(pre).color : box.color};
        })""")
        assert colours, "no outputs on the page"
        for colour in colours:
            assert _luminance(colour["background"]) > 0.9, f"dark output background {colour['background']}"
            assert _luminance(colour["text"]) < 0.3, f"light output text {colour['text']} on a light background"
        page.wait_for_function(RENDERED_WIDGETS, timeout=TIMEOUT_MS)
        shown = page.locator("div.cell_output").filter(has=page.locator("img")).last
        shown.scroll_into_view_if_needed()
        page.screenshot(path=SCREENSHOTS / "book-theory-04-dark.png")
    finally:
        context.close()


def _luminance(css_colour):
    channels = [float(c) for c in css_colour[css_colour.index("(") + 1 : css_colour.index(")")].split(",")[:3]]
    return sum(w * c / 255 for w, c in zip((0.2126, 0.7152, 0.0722), channels, strict=True))


# --- links: read from the built files, no browser needed -----------------------------------------


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.ids, self.sections, self.terms = [], set(), set(), []
        self._in_term = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
            if tag == "section":
                self.sections.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        if tag == "dt" and attrs.get("id", "").startswith("term-"):
            self.terms.append(attrs["id"])


@functools.cache
def _parse(path):
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _resolve(page, href):
    """The file and fragment an internal link points at, or None for an outside link."""
    parts = urllib.parse.urlsplit(href)
    if parts.scheme or parts.netloc or href.startswith("mailto:"):
        return None
    target = (page.parent / urllib.parse.unquote(parts.path)).resolve() if parts.path else page
    if target.is_dir():
        target = target / "index.html"
    return target, parts.fragment


@pytest.mark.parametrize(("lang", "path"), EDITION_PAGES)
def test_every_internal_link_resolves(site, lang, path):
    page = SITE / lang / path
    for href in _parse(page).hrefs:
        resolved = _resolve(page, href)
        if resolved is None:
            continue
        target, fragment = resolved
        assert target.is_file(), f"{path}: link {href!r} points at a missing file"
        if fragment and target.suffix == ".html":
            assert fragment in _parse(target).ids, f"{path}: link {href!r}: no element with id {fragment!r}"


@pytest.mark.parametrize("lang", EDITIONS)
def test_glossary_has_20_terms_each_linking_to_a_chapter_section(site, lang):
    edition = SITE / lang
    glossary = edition / "glossary.html"
    text = glossary.read_text(encoding="utf-8")
    terms = _parse(glossary).terms
    assert len(terms) >= 20, f"the glossary defines {len(terms)} terms (at least 20 wanted)"
    # Each definition (<dd>) follows its term (<dt id="term-...">); split the page at the terms.
    for term, next_term in zip(terms, [*terms[1:], None], strict=True):
        start = text.index(f'id="{term}"')
        end = text.index(f'id="{next_term}"') if next_term else text.index("</dl>", start)
        parser = _Links()
        parser.feed(text[start - 4 : end])
        sections = []
        for href in parser.hrefs:
            resolved = _resolve(glossary, href)
            if resolved is None:
                continue
            target, fragment = resolved
            chapter = target.relative_to(edition).parts[0] if target.is_relative_to(edition) else ""
            if chapter in CHAPTER_FOLDERS and target.is_file():
                page_sections = _parse(target).sections
                assert not fragment or fragment in page_sections, f"{term}: {href} names no section of that page"
                sections.append(href)
        assert sections, f"glossary term {term!r} links to no chapter section"
    # The general index lists the glossary's terms.
    index = (edition / "genindex.html").read_text(encoding="utf-8")
    missing = [t for t in terms if f"#{t}" not in index]
    assert not missing, f"terms missing from the general index: {missing}"


@pytest.mark.parametrize("lang", EDITIONS)
def test_site_has_every_chapter_where_the_issue_says(site, lang):
    for folder in CHAPTER_FOLDERS:
        for notebook in sorted((ROOT / folder).glob("*.ipynb")):
            page = SITE / lang / folder / f"{notebook.stem}.html"
            assert page.is_file(), f"{notebook.relative_to(ROOT)} has no page at {page.relative_to(ROOT)}"


def test_both_editions_have_the_same_pages(site):
    spanish = sorted(str(p.relative_to(SITE / "es")) for p in (SITE / "es").rglob("*.html")
                     if not {"_static", "_sources"} & set(p.parts))
    assert spanish == PAGES, f"pages only in one edition: {sorted(set(spanish) ^ set(PAGES))}"


# --- the Spanish edition: read from the built files ---------------------------------------------


class _Prose(html.parser.HTMLParser):
    """The prose blocks of a page's article (paragraphs, headings, terms, table cells), as plain text.

    Left out: code cells and their outputs, inline code and math (never translated), and the 🇪🇸
    callouts, which are Spanish in both editions."""

    BLOCKS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "dt", "th", "td", "figcaption", "caption"})
    VOID = frozenset({"br", "img", "hr", "input", "meta", "link", "wbr", "source"})

    def __init__(self):
        super().__init__()
        self.blocks, self._stack, self._text = [], [], None  # stack entries: [tag, classes, skip]
        self._in_article = False

    def _skipping(self):
        return any(skip for _, _, skip in self._stack)

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        classes = (dict(attrs).get("class") or "").split()
        if tag == "article" and "bd-article" in classes:
            self._in_article = True
        skip = (tag in {"code", "pre", "script", "style"} or "cell_output" in classes or "cell_input" in classes
                or "math" in classes or "headerlink" in classes)
        self._stack.append([tag, classes, skip])
        if self._in_article and tag in self.BLOCKS and self._text is None and not self._skipping():
            self._text = []

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        while self._stack and self._stack.pop()[0] != tag:
            pass
        if tag in self.BLOCKS and self._text is not None and not self._skipping():
            text = " ".join("".join(self._text).split())
            if text.startswith("🇪🇸"):  # a callout's title: leave out the whole callout
                callout = next((e for e in reversed(self._stack) if "admonition" in e[1]), None)
                if callout is not None:
                    callout[2] = True
            elif text:
                self.blocks.append(text)
            self._text = None
        if tag == "article":
            self._in_article = False

    def handle_data(self, data):
        if self._text is not None and not self._skipping():
            self._text.append(data)


def _prose_blocks(path):
    parser = _Prose()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.blocks


def _is_prose(text):
    """A block that a translator would have translated: at least three words of three letters or more."""
    return len(re.findall(r"[A-Za-z]{3,}", text)) >= 3


@pytest.mark.parametrize("path", PAGES)
def test_spanish_page_repeats_no_english_paragraph(site, path):
    english = set(_prose_blocks(BOOK / path))
    repeated = [text for text in _prose_blocks(SITE / "es" / path) if text in english and _is_prose(text)]
    assert not repeated, (f"es/{path} shows {len(repeated)} English paragraph(s) unchanged, the first: "
                          f"{repeated[0][:150]!r} (translate it in locales/es/LC_MESSAGES/)")


# The theme's English strings that the Spanish edition replaces (book/_templates, locales/es/…/sphinx.po).
THEME_ENGLISH = ("Toggle primary sidebar", "Toggle secondary sidebar", "Link to this heading", "Search this book",
                 "Search...", "the minimodel authors")


@pytest.mark.parametrize("path", PAGES)
def test_spanish_page_has_the_theme_in_spanish(site, path):
    text = (SITE / "es" / path).read_text(encoding="utf-8")
    left = [s for s in THEME_ENGLISH if s in text]
    assert not left, f"es/{path} still shows the theme's English {left}"
    assert '<html lang="es"' in text, f"es/{path} is not marked lang=\"es\""

