"""The course as a learner meets it: JupyterLab in headless Chromium, every notebook run, every control moved.

CI executes the notebooks headlessly (nbval); these tests catch what only a browser
shows: a notebook that refuses to open, "Error displaying widget", a slider whose
callback raises, a MyST callout shown as raw text.
"""

import re
import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from conftest import LATENCIES, NOTEBOOKS, PROGRESS, ROOT, SCREENSHOTS

FIGURE = ".widget-output img"

NOTEBOOK_READY = """(path) => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!(w && w.context && w.context.path === path && w.content && w.content.widgets && kernel
            && kernel.status === 'idle');
}"""
# Done when the kernel is idle and every code cell has run, or a cell failed (run-all stops there).
ALL_RUN = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const cells = w.content.widgets.filter(c => c.model.type === 'code' && c.model.sharedModel.getSource().trim());
  const failed = cells.some(c => c.model.outputs.toJSON().some(o => o.output_type === 'error'));
  const done = cells.every(c => c.model.executionCount !== null);
  return w.sessionContext.session.kernel.status === 'idle' && (done || failed);
}"""
# jupyterlab-myst renders markdown asynchronously: a cell that has just run shows its source for a moment.
MARKDOWN_SETTLED = """() => !window.jupyterapp.shell.currentWidget.node.innerText.includes(':class: tip')"""
ERRORS = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const errors = [];
  w.content.widgets.forEach((c, i) => {
    if (c.model.type !== 'code') return;
    c.model.outputs.toJSON().filter(o => o.output_type === 'error')
      .forEach(o => errors.push(`cell ${i}: ${o.ename}: ${o.evalue}`));
  });
  const text = w.node.innerText;
  if (text.includes('Error displaying widget')) errors.push('a widget shows "Error displaying widget"');
  w.node.querySelectorAll('.widget-output [data-mime-type="application/vnd.jupyter.stderr"]')
    .forEach(e => errors.push('a widget callback failed: ' + e.innerText.slice(-300)));
  return errors;
}"""


def open_notebook(page, path):
    """Open ``path`` the way a double-click in the file browser does (the default viewer of a .md)."""
    # Not awaited in the page: the readiness check below is the wait (an awaited open of a
    # document already loading in a background tab can end in "promise was garbage collected").
    page.evaluate("(path) => { window.jupyterapp.commands.execute('docmanager:open', {path}); }", path)
    page.wait_for_function(NOTEBOOK_READY, arg=path, timeout=90_000)


def run_all(page, path, timeout=240_000):
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(ALL_RUN, timeout=timeout)
    errors = page.evaluate(ERRORS)
    try:
        page.wait_for_function(MARKDOWN_SETTLED, timeout=10_000)
    except PlaywrightTimeout:
        errors.append("a MyST admonition is shown as raw text")
    page.screenshot(path=SCREENSHOTS / (path.replace("/", "__") + ".png"), full_page=False)
    assert not errors, f"{path} in JupyterLab:\n" + "\n".join(errors)


def figure_src(page):
    return page.locator(FIGURE).first.get_attribute("src")


FIGURE_REPLACED_OR_ERROR = """([selector, before]) => {
  const img = document.querySelector(selector);
  const failed = document.querySelector('.widget-output [data-mime-type="application/vnd.jupyter.stderr"]');
  return !!failed || (img && img.src !== before && img.complete);
}"""


def change_and_time(page, notebook, control, action):
    """Do ``action``, wait for the explorer's figure to be replaced, and record how long it took.

    A callback that raises replaces the figure with a traceback: that fails at once, with the error.
    """
    before = figure_src(page)
    start = time.perf_counter()
    action()
    page.wait_for_function(FIGURE_REPLACED_OR_ERROR, arg=[FIGURE, before], timeout=15_000)
    elapsed = time.perf_counter() - start
    errors = page.evaluate(ERRORS)
    assert not errors, f"{notebook}, after changing {control}:\n" + "\n".join(errors)
    LATENCIES.append((notebook, control, elapsed))


def button(page, label):
    return page.locator(".widget-toggle-button", has_text=re.compile(f"^{re.escape(label)}$"))


def scroll_to_explorer(page):
    """Bring the notebook's one explorer into view and wait until its controls are drawn."""
    page.locator(FIGURE).first.scroll_into_view_if_needed()
    assert page.locator(FIGURE).count() == 1, "expected exactly one explorer in the notebook"
    expect(page.locator(".widget-hbox").first).to_be_visible()
    page.wait_for_timeout(500)  # widget views finish wiring their events after they are shown


def move_temperature_slider(page, path):
    handle, readout = page.locator(".widget-slider .noUi-handle").first, page.locator(".widget-readout").first
    for _ in range(2):
        before = readout.inner_text()
        change_and_time(page, path, "temperature", lambda: (handle.focus(), page.keyboard.press("ArrowRight")))
        expect(readout).not_to_have_text(before)


def move_dk_slider_and_scaling_toggle(page, path):
    handle, readout = page.locator(".widget-slider .noUi-handle").first, page.locator(".widget-readout").first
    expect(readout).to_have_text("64")
    for expected in ("128", "256"):  # keyboard: one step of the slider per key press
        change_and_time(page, path, "d_k (keyboard)", lambda: (handle.focus(), page.keyboard.press("ArrowRight")))
        expect(readout).to_have_text(expected)
    box = handle.bounding_box()

    def drag():
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] - 120, box["y"] + box["height"] / 2, steps=5)
        page.mouse.up()

    change_and_time(page, path, "d_k (mouse drag)", drag)
    assert int(readout.inner_text()) < 256
    for label in ("unscaled", "scaled"):
        change_and_time(page, path, "scaling toggle", lambda label=label: button(page, label).click())
    page.locator(".widget-hbox").first.scroll_into_view_if_needed()  # the controls and the figure, in view
    page.screenshot(path=SCREENSHOTS / "02-after-slider.png")


def change_heads(page, path):
    for n_heads in ("8", "2", "1", "4"):
        change_and_time(page, path, "heads", lambda n=n_heads: button(page, n).click())
    handle = page.locator(".widget-slider .noUi-handle").first
    change_and_time(page, path, "head shown", lambda: (handle.focus(), page.keyboard.press("ArrowRight")))
    expect(page.locator(".widget-readout").first).to_have_text("1")


def switch_every_mask_type(page, path):
    select = page.locator(".widget-dropdown select").first
    # ipywidgets shows the spaces of an option's label as no-break spaces.
    options = {text.replace("\xa0", " "): text for text in select.locator("option").all_inner_texts()}
    assert list(options) == ["none", "causal", "padding", "causal + padding"]
    for option in ("none", "padding", "causal + padding"):  # the explorer starts on "causal"
        change_and_time(page, path, "mask type", lambda option=option: select.select_option(label=options[option]))
        assert select.evaluate("s => s.options[s.selectedIndex].text") == options[option]
    page.locator(".widget-hbox").first.scroll_into_view_if_needed()  # the controls and the figure, in view
    page.screenshot(path=SCREENSHOTS / "04-causal-plus-padding.png")


def submit_the_quiz_half_answered(page, path):
    button(page, "b").first.click()  # one answer of many
    page.get_by_role("button", name="Score and record").click()
    expect(page.get_by_text("Answer every question first")).to_be_visible()
    assert not PROGRESS.exists(), "an incomplete quiz must record nothing"


# The chapters with an explorer, and what a learner does with its controls once the chapter has run.
CONTROLS = {
    "theory/00-motivation.md": move_temperature_slider,
    "theory/02-scaled-dot-product.md": move_dk_slider_and_scaling_toggle,
    "theory/03-multi-head.md": change_heads,
    "theory/04-masking.md": switch_every_mask_type,
    "quiz/15-attention.md": submit_the_quiz_half_answered,
}


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_notebook_opens_from_its_md_runs_clean_and_its_controls_redraw(page, path):
    open_notebook(page, path)
    kind = page.evaluate("() => window.jupyterapp.shell.currentWidget.context.factoryName")
    # "Notebook" is JupyterLab's own factory, "Jupytext Notebook" the one jupytext registers for text files.
    assert kind.lower() in ("notebook", "jupytext notebook"), f"{path} opened with {kind!r}, not as a notebook"
    run_all(page, path)
    if path in CONTROLS:
        if path.startswith("theory/"):
            scroll_to_explorer(page)
        CONTROLS[path](page, path)
        assert not page.evaluate(ERRORS), f"{path}: errors after moving the controls"


def test_every_chapter_with_an_explorer_has_its_controls_exercised():
    explorers = {p for p in NOTEBOOKS if "_explorer()" in (ROOT / p).read_text(encoding="utf-8")}
    exercised = {p for p in CONTROLS if p.startswith("theory/")}
    assert explorers == exercised, "a chapter's explorer is not exercised here (or CONTROLS names a stale path)"


def test_landing_page_is_the_first_chapter(fresh_page, lab_server):
    page = fresh_page
    base, token = lab_server
    page.goto(f"{base}/?token={token}")
    # Ready means: the current document is chapter 00, open as a notebook, its kernel idle.
    page.wait_for_function(NOTEBOOK_READY, arg="theory/00-motivation.md", timeout=90_000)
    # jupyterlab-myst renders markdown cells, MyST directives included.
    heading = page.locator(".jp-MarkdownCell .myst .heading-text", has_text="What you will learn")
    expect(heading.filter(visible=True).first).to_be_visible()
    callout = page.locator(".jp-MarkdownCell .myst-admonition", has_text="En español")
    expect(callout.filter(visible=True).first).to_be_visible()
    assert not page.evaluate(ERRORS), "the landing page shows errors"
    page.screenshot(path=SCREENSHOTS / "landing.png")
