"""The committed notebooks: paired, in sync, executed, clean, and following the course conventions.

Strict nbval (run on the .ipynb files by ``make test``) only compares outputs that
are stored; these tests make sure there is something to compare.
"""

import pathlib
import re

import jupytext
import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
FOLDERS = ("theory", "lab", "solutions", "quiz")
SOURCES = sorted(md for folder in FOLDERS for md in (ROOT / folder).glob("*.md"))
NOTEBOOKS = sorted(nb for folder in FOLDERS for nb in (ROOT / folder).glob("*.ipynb"))
OUTPUT_CALLS = re.compile(r"^\s*(print|display|plt\.show)\(", re.MULTILINE)


def ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


def test_every_source_has_its_notebook_and_back():
    assert {p.with_suffix("") for p in SOURCES} == {p.with_suffix("") for p in NOTEBOOKS}


@pytest.mark.parametrize("md", SOURCES, ids=ids(SOURCES))
def test_pair_is_in_sync(md):
    # The same conversion as `jupytext --to md:myst -o - X.ipynb`: no file times involved.
    converted = jupytext.writes(jupytext.read(md.with_suffix(".ipynb")), "md:myst")
    assert converted.rstrip("\n") == md.read_text(encoding="utf-8").rstrip("\n"), (
        f"{md.name} and its .ipynb differ: edit the .md, then run make notebooks NB={md.relative_to(ROOT)}"
    )


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_notebook_is_executed_and_clean(ipynb):
    nb = nbformat.read(ipynb, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    assert code, "a notebook without code cells"
    not_run = [c.source.splitlines()[0] for c in code if c.execution_count is None]
    assert not not_run, f"cells never executed (strict nbval would skip them): {not_run}"
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), "cells were not executed top to bottom in one run"
    silent = [c.source.splitlines()[0] for c in code if OUTPUT_CALLS.search(c.source) and not c.outputs]
    assert not silent, f"cells that print or draw but have no stored output: {silent}"
    errors = [o.get("ename") for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"stored error outputs: {errors}"
    timing = [c.source.splitlines()[0] for c in code if "execution" in c.metadata or "ExecuteTime" in c.metadata]
    assert not timing, "per-cell timing metadata: refresh with make notebooks"


@pytest.mark.parametrize("md", SOURCES, ids=ids(SOURCES))
def test_course_conventions(md):
    text = md.read_text(encoding="utf-8")
    assert "🇪🇸" in text, "every chapter opens with a Spanish callout"
    first_heading = text.index("\n# ")
    assert text.index("🇪🇸") < text.index("\n## ", first_heading), "the Spanish callout comes before the first section"
    assert "minimodel" in text, "notebooks use the library, never a second copy of it"
    assert re.search(r"^\s*assert ", text, re.MULTILINE), "at least one self-check cell"


THEORY = [md for md in SOURCES if md.parent.name == "theory"]


@pytest.mark.parametrize("md", THEORY, ids=ids(THEORY))
def test_theory_chapter_shape(md):
    text = md.read_text(encoding="utf-8")
    for heading in ("What you will learn", "Stop here if"):
        assert heading in text, f"missing the '{heading}' section"
    nb = nbformat.read(md.with_suffix(".ipynb"), as_version=4)
    figures = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert figures, "every theory chapter has at least one figure"
