"""The learner's workspace: copies of the labs in ``work/``, and how ``minimodel check 15`` grades them.

``make lab`` creates ``work/`` (git-ignored) on its first run with a copy of every lab
and never overwrites a file there, so ``git pull`` and CI of the pristine ``lab/``
never collide with the learner's answers. ``grade_workspace`` executes each copy
headlessly, in a fresh kernel, within a time budget, without writing anything
back, and counts the exercises whose every check printed ✓. An error in the
learner's code is reported with the exercise it belongs to, never raised.
"""

import asyncio
import concurrent.futures
import os
import pathlib
import re
import shutil
import time
from dataclasses import dataclass, field

LABS = ("00-attention-by-hand", "01-multi-head-attention", "02-causal-mask", "03-attention-perf")
WORKSPACE = "work"
BUDGET_SECONDS = 120.0  # for all labs together; a learner's endless loop is stopped there
EXERCISE = re.compile(r"^#{2,3}\s+(Exercise\s+\d+)\b", re.MULTILINE)
CHECK_CALL = re.compile(r"\bcheck_\w+\(")


def create_workspace(root):
    """Copy every lab (.md and .ipynb) into root/work/ unless it is there already; returns the new files."""
    root = pathlib.Path(root)
    folder = root / WORKSPACE
    folder.mkdir(exist_ok=True)
    created = []
    for name in LABS:
        if (folder / f"{name}.md").exists() or (folder / f"{name}.ipynb").exists():
            continue  # the learner's work: never overwritten
        for suffix in (".md", ".ipynb"):
            source = root / "lab" / f"{name}{suffix}"
            if source.is_file():
                shutil.copyfile(source, folder / source.name)
                created.append(folder / source.name)
    return created


def source_of(path):
    """Which file of a pair holds the learner's latest work: the newer of the .md and the .ipynb.

    JupyterLab with jupytext saves both; an editor that knows only one of them updates that one.
    """
    path = pathlib.Path(path)
    pair = [p for p in (path.with_suffix(".md"), path.with_suffix(".ipynb")) if p.is_file()]
    return max(pair, key=lambda p: p.stat().st_mtime_ns) if pair else path.with_suffix(".md")


def read_notebook(path):
    """A lab as a notebook, read from ``source_of(path)``."""
    import jupytext

    return jupytext.read(source_of(path))


def exercise_of_cells(notebook):
    """For every cell, the label of the exercise it belongs to ("Exercise 3"), or None outside exercises."""
    labels, current = [], None
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    found = EXERCISE.match(line)
                    if found or line.startswith("## ") or line.startswith("# "):
                        current = " ".join(found.group(1).split()) if found else None
        labels.append(current)
    return labels


def graded_exercises(notebook):
    """The exercises of a lab that have at least one check, in order: ["Exercise 1", ...]."""
    found = []
    for cell, label in zip(notebook.cells, exercise_of_cells(notebook), strict=True):
        if label and cell.cell_type == "code" and CHECK_CALL.search(cell.source) and label not in found:
            found.append(label)
    return found


@dataclass
class LabGrade:
    """One lab: the exercises it has, those answered correctly, and what went wrong while running it."""

    name: str
    exercises: list
    right: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    notebook: object = field(default=None, repr=False)  # the executed copy, outputs included

    def line(self):
        code = self.name.split("-")[0]
        text = f"lab {code}: {len(self.right)} of {len(self.exercises)} exercises ✓"
        pending = [e for e in self.exercises if e not in self.right]
        if pending:
            text += f", next: {pending[0]}"
        return text + "".join(f" ({p})" for p in self.problems)

    @property
    def done(self):
        return not self.problems and len(self.right) == len(self.exercises)


def marks(notebook):
    """{exercise: [mark, ...]} with mark "✓", "✗", "open" or "error: ..." for every check line or error."""
    found = {}
    for cell, label in zip(notebook.cells, exercise_of_cells(notebook), strict=True):
        if cell.cell_type != "code" or not label:
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.setdefault(label, []).append(f"error: {output.get('ename')}: {output.get('evalue', '')}")
            if output.get("output_type") != "stream" or output.get("name") != "stdout":
                continue
            for text in output.get("text", "").splitlines():
                if text.startswith("✓"):
                    found.setdefault(label, []).append("✓")
                elif text.startswith("✗"):
                    found.setdefault(label, []).append("✗")
                elif "not answered yet" in text:
                    found.setdefault(label, []).append("open")
    return found


def headless(notebook):
    """The notebook to grade: figures drawn off screen (nothing is rendered), everything else as written."""
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.source = re.sub(r"^%matplotlib inline\b", "%matplotlib agg", cell.source, flags=re.MULTILINE)
    return notebook


async def execute(notebook, folder, deadline):
    """Run every cell in a fresh kernel started in ``folder``; errors stay in the outputs. Returns a problem or None."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    budget = deadline - time.monotonic()
    client = NotebookClient(notebook, kernel_name="python3", allow_errors=True, record_timing=False,
                            timeout_func=lambda cell: max(1, round(deadline - time.monotonic())),
                            resources={"metadata": {"path": str(folder)}})
    try:
        await client.async_execute()
    except CellTimeoutError:
        return f"stopped after {budget:.0f} s: a cell ran too long"
    except DeadKernelError:
        return "the kernel died while running it"
    return None


def prepare(root, name):
    """(LabGrade, notebook to run or None): the exercises come from the pristine lab, the answers from work/."""
    root = pathlib.Path(root)
    grade = LabGrade(name, graded_exercises(read_notebook(root / "lab" / f"{name}.md")))
    work = root / WORKSPACE / f"{name}.md"
    if not work.is_file() and not work.with_suffix(".ipynb").is_file():
        grade.problems.append(f"not started: make lab creates {WORKSPACE}/{name}.md")
        return grade, None
    try:
        return grade, headless(read_notebook(work))
    except Exception as error:  # a file the learner broke: say so, grade nothing
        grade.problems.append(f"cannot read {WORKSPACE}/{source_of(work).name}: {str(error)[:120]}")
        return grade, None


def score(grade, notebook, stopped):
    """Fill ``grade`` from the executed notebook: exercises whose every mark is ✓, the first error, a timeout."""
    found = marks(notebook)
    grade.notebook = notebook
    grade.right = [e for e in grade.exercises if found.get(e) and all(m == "✓" for m in found[e])]
    errors = [f"{e}: {m[len('error: '):]}" for e in grade.exercises for m in found.get(e, []) if m.startswith("error")]
    if stopped:  # the interrupt that stopped a cell is not the learner's error
        errors = [e for e in errors if "KeyboardInterrupt" not in e]
    if errors:
        grade.problems.append(f"error in {errors[0]}"[:200])
    if stopped:
        grade.problems.append(stopped)
    return grade


def run_coroutine(make):
    """asyncio.run(make()), also from inside a running event loop (a notebook, a Playwright test)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    # asyncio.run refuses to nest in a running loop: give the grading a thread and a loop of its own.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


def grade_many(jobs, *, budget=BUDGET_SECONDS):
    """[LabGrade] for every (root, name) in ``jobs``; the labs run side by side, each in its own kernel."""
    prepared = [(root, *prepare(root, name)) for root, name in jobs]

    async def run_all():
        deadline = time.monotonic() + budget
        runs = [execute(notebook, pathlib.Path(root) / WORKSPACE, deadline)
                for root, _, notebook in prepared if notebook is not None]
        return iter(await asyncio.gather(*runs))

    quick = os.environ.get("MINIMODEL_BENCH_QUICK")
    os.environ["MINIMODEL_BENCH_QUICK"] = "1"  # lab 03 times small sizes only: its checks use this run's numbers
    try:
        outcomes = run_coroutine(run_all)
    finally:
        if quick is None:
            os.environ.pop("MINIMODEL_BENCH_QUICK")
        else:
            os.environ["MINIMODEL_BENCH_QUICK"] = quick
    return [grade if notebook is None else score(grade, notebook, next(outcomes)) for _, grade, notebook in prepared]


def grade_workspace(root, *, budget=BUDGET_SECONDS):
    """[LabGrade] for every lab of root/work/, graded side by side within ``budget`` seconds."""
    return grade_many([(root, name) for name in LABS], budget=budget)


def grade_lab(root, name, *, budget=BUDGET_SECONDS):
    """Grade root/work/<name> against the exercises of root/lab/<name>; never raises for the learner's code."""
    return grade_many([(root, name)], budget=budget)[0]
