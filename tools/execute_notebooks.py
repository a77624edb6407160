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

import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import uuid

import jupytext
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = pathlib.Path(__file__).resolve().parent.parent
FOLDERS = ("theory", "lab", "solutions", "quiz")
METADATA_FILTER = "-jupytext.text_representation.jupytext_version"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_REF = re.compile(r"IPY_MODEL_([0-9a-f]{32})")
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


def stable_widget_ids(text, name):
    """Rename the random widget model ids in a fixed order, so an unchanged notebook re-executes to the same file.

    nbclient stores the state of every widget in the metadata, keyed by a random id
    that the outputs and the other widgets refer to (``IPY_MODEL_<id>``). The new ids
    come from the notebook's name and the order in which the displayed widgets reach
    each model (then the jslinks, which no view reaches, in the order of their content);
    the state is stored in that order too.
    """
    nb = nbformat.reads(text, as_version=4)
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    if not state:
        return text
    renames = {}

    def visit(model_id):
        if model_id in renames or model_id not in state:
            return
        renames[model_id] = uuid.uuid5(uuid.NAMESPACE_URL, f"minimodel/{name}/{len(renames)}").hex
        for ref in WIDGET_REF.findall(json.dumps(state[model_id], sort_keys=True)):
            visit(ref)

    def content(model_id):
        return WIDGET_REF.sub(lambda m: renames.get(m.group(1), "?"), json.dumps(state[model_id], sort_keys=True))

    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if WIDGET_VIEW in output.get("data", {}):
                visit(output["data"][WIDGET_VIEW]["model_id"])
    while len(renames) < len(state):
        visit(min((m for m in state if m not in renames), key=content))
    nb.metadata.widgets[WIDGET_STATE]["state"] = {renames[m]: state[m] for m in sorted(state, key=list(renames).index)}
    text = nbformat.writes(nb) + "\n"
    return re.sub("|".join(map(re.escape, renames)), lambda m: renames[m.group(0)], text)


def coalesce_streams(cell):
    """Merge consecutive stdout (or stderr) outputs: how a cell's prints are split depends on timing."""
    merged = []
    for output in cell.get("outputs", []):
        if merged and output.output_type == "stream" and merged[-1].output_type == "stream" \
                and merged[-1].name == output.name:
            merged[-1].text += output.text
        else:
            merged.append(output)
    cell.outputs = merged


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
        if cell.cell_type == "code":
            coalesce_streams(cell)
    ipynb = md.with_suffix(".ipynb")
    text = stable_widget_ids(nbformat.writes(nb) + "\n", str(md.relative_to(ROOT).with_suffix("")))
    write_atomically(ipynb, text)
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
