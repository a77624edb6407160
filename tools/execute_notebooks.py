"""Re-execute paired notebooks in place, so their stored outputs match the code.

    python tools/execute_notebooks.py                  # every notebook of theory/ lab/ solutions/ quiz/
    python tools/execute_notebooks.py theory/02-*.md   # some of them (.md or .ipynb paths)

The MyST ``.md`` is the source: its cells are executed in a fresh kernel (in the
notebook's folder, as nbval does), the ``.ipynb`` is written with the outputs and
without per-cell timing metadata, and the ``.md`` is regenerated from it by the
jupytext CLI so that the pair is byte-identical to what the sync check produces.
Files are replaced only after a successful run: a failing notebook leaves both
untouched and names the failing cell.
"""

import os
import pathlib
import subprocess
import sys
import tempfile

import jupytext
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = pathlib.Path(__file__).resolve().parent.parent
FOLDERS = ("theory", "lab", "solutions", "quiz")
METADATA_FILTER = "-jupytext.text_representation.jupytext_version"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def notebooks(args):
    if not args:
        return sorted(md for folder in FOLDERS for md in (ROOT / folder).glob("*.md"))
    paths = [pathlib.Path(a).resolve().with_suffix(".md") for a in args]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        sys.exit(f"no such notebook source: {', '.join(missing)}")
    return paths


def write_atomically(path, text):
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False, encoding="utf-8") as tmp:
        tmp.write(text)
    os.replace(tmp.name, path)


def execute(md):
    nb = jupytext.read(md)
    for index, cell in enumerate(nb.cells):
        cell.id = f"cell-{index}"  # reading the .md draws random ids: fixed ones keep re-runs diff-free
    nb.metadata["kernelspec"] = KERNELSPEC
    # Also in jupytext.toml, but `jupytext --to md:myst -o -` does not read that
    # file; kept in the notebook, every writer leaves the version out of the header.
    nb.metadata.setdefault("jupytext", {})["notebook_metadata_filter"] = METADATA_FILTER
    client = NotebookClient(nb, timeout=1800, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(md.parent)}})
    client.execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    ipynb = md.with_suffix(".ipynb")
    write_atomically(ipynb, nbformat.writes(nb) + "\n")
    text = subprocess.run([sys.executable, "-m", "jupytext", "--quiet", "--to", "md:myst", "-o", "-", str(ipynb)],
                          cwd=ROOT, check=True, capture_output=True, text=True).stdout
    write_atomically(md, text)


def main(args):
    failed = []
    for md in notebooks(args):
        print(f"executing {md.relative_to(ROOT)}", flush=True)
        try:
            execute(md)
        except CellExecutionError as error:
            print(f"  FAILED, files left as they were:\n{error}", file=sys.stderr)
            failed.append(md)
    if failed:
        sys.exit(f"{len(failed)} notebook(s) failed: {', '.join(str(f.relative_to(ROOT)) for f in failed)}")


if __name__ == "__main__":
    main(sys.argv[1:])
