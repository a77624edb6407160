"""The learner's workspace (work/) and how `minimodel check 15` grades it.

Executing labs is the slow part, so the acceptance tests share two runs of the
grader: one over all four labs, each with one wrong and one missing answer, and
one over lab 00 with every answer of the worked solution.
"""

import io
import re
import shutil

import pytest
from lab_answers import ANSWERS, answered

from minimodel import done, labwork, quiz

ROOT = quiz.repository_root()


def fresh_tree(tmp_path):
    """A copy of what a fresh clone holds, as far as the checklist reads it (no work/)."""
    root = tmp_path / "repo"
    for folder in ("lab", "theory"):
        shutil.copytree(ROOT / folder, root / folder)
    return root


def test_make_lab_creates_the_workspace_once_and_never_overwrites(tmp_path):
    import sys

    sys.path.insert(0, str(ROOT / "tools"))
    import lab

    root = fresh_tree(tmp_path)
    out = io.StringIO()
    lab.prepare_workspace(root, out)
    assert sorted(p.name for p in (root / "work").iterdir()) == sorted(
        f"{name}{suffix}" for name in labwork.LABS for suffix in (".md", ".ipynb"))
    assert "Created your workspace work/" in out.getvalue() and "make check" in out.getvalue()
    mine = root / "work" / "00-attention-by-hand.md"
    mine.write_text("my answers", encoding="utf-8")
    (root / "work" / "02-causal-mask.md").unlink()  # a learner keeps only the .ipynb of lab 02
    (root / "work" / "03-attention-perf.md").unlink()
    (root / "work" / "03-attention-perf.ipynb").unlink()
    out = io.StringIO()
    lab.prepare_workspace(root, out)
    assert mine.read_text(encoding="utf-8") == "my answers", "a learner's file is never overwritten"
    assert not (root / "work" / "02-causal-mask.md").exists()
    assert (root / "work" / "03-attention-perf.md").exists(), "a missing lab is copied again"
    assert "with: 03-attention-perf." in out.getvalue()


def test_the_workspace_is_ignored_by_git():
    assert "/work/" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()


def test_exercises_are_the_sections_with_a_check():
    counts = {name: len(labwork.graded_exercises(labwork.read_notebook(ROOT / "lab" / f"{name}.md")))
              for name in labwork.LABS}
    assert counts == {"00-attention-by-hand": 8, "01-multi-head-attention": 5, "02-causal-mask": 5,
                      "03-attention-perf": 9}


def test_a_fresh_tree_reads_0_of_n_for_every_lab_without_running_anything(tmp_path, monkeypatch):
    monkeypatch.setenv(quiz.PROGRESS_ENV, str(tmp_path / "quiz.jsonl"))
    monkeypatch.setattr(labwork, "execute", lambda *args: pytest.fail("nothing to execute on a fresh tree"))
    out = io.StringIO()
    assert done.report(done.checklist(fresh_tree(tmp_path)), out) == 1
    text = out.getvalue()
    assert "✗ every lab exercise answered correctly (your copies in work/)" in text
    for line in ("lab 00: 0 of 8 exercises ✓, next: Exercise 1", "lab 01: 0 of 5 exercises ✓, next: Exercise 1",
                 "lab 02: 0 of 5 exercises ✓, next: Exercise 1", "lab 03: 0 of 9 exercises ✓, next: Exercise 1"):
        assert f"    {line} (not started: make lab creates work/" in text
    assert "✓ every lab notebook executed and in sync with its pair" in text  # the pristine lab/ only
    assert "5 of 7 hold" in text


# One wrong and one missing answer per lab: (wrong placeholder, missing placeholder, expected line).
MISTAKES = {
    "00-attention-by-hand": ("my_scaled = ...", "my_exps = ...", "lab 00: 6 of 8 exercises ✓, next: Exercise 2"),
    "01-multi-head-attention": ("n_layer = ...", "row7 = ...", "lab 01: 3 of 5 exercises ✓, next: Exercise 4"),
    "02-causal-mask": ("my_n_allowed = ...", "my_empty_left = ...", "lab 02: 3 of 5 exercises ✓, next: Exercise 1"),
}


def lab03_with_mistakes():
    """Lab 03 (whose answers depend on this machine's timings): its first answer right, as the expected
    expression of its check, the second wrong, the third a NameError, the rest missing (Exercises 1 and 2)."""
    text = (ROOT / "lab" / "03-attention-perf.md").read_text(encoding="utf-8")
    calls = re.findall(r"check_answer\(\"[^\"]+\", (my_\w+), (.+?)\)$", text, re.MULTILINE)
    (right, expected), (wrong, _), (broken, _) = calls[:3]
    for name, value in ((right, expected), (wrong, "-1.0"), (broken, "name_nobody_defined")):
        assert len(re.findall(rf"^{name} = \.\.\.", text, re.MULTILINE)) == 1, name
        text = re.sub(rf"^{name} = \.\.\.", lambda _, n=name, v=value: f"{n} = {v}", text, flags=re.MULTILINE)
    return text


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One run of the grader over five workspace labs side by side: each lab with one wrong and one missing
    answer, and lab 00 once more, in a second tree, with every answer of the worked solution."""
    root = fresh_tree(tmp_path_factory.mktemp("mistakes"))
    (root / "work").mkdir()
    for name, (wrong, missing, _) in MISTAKES.items():
        (root / "work" / f"{name}.md").write_text(answered(name, wrong=wrong, missing=(missing,)), encoding="utf-8")
    (root / "work" / "03-attention-perf.md").write_text(lab03_with_mistakes(), encoding="utf-8")
    solved = fresh_tree(tmp_path_factory.mktemp("solved"))
    (solved / "work").mkdir()
    (solved / "work" / "00-attention-by-hand.md").write_text(answered("00-attention-by-hand"), encoding="utf-8")
    grades = labwork.grade_many([(root, name) for name in labwork.LABS] + [(solved, "00-attention-by-hand")])
    return {grade.name: grade for grade in grades[:-1]}, grades[-1], solved


@pytest.fixture(scope="module")
def graded_with_mistakes(graded):
    return graded[0]


def stdout_lines(notebook):
    return [line for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
            if output.get("name") == "stdout" for line in output.text.splitlines()]


@pytest.mark.parametrize("name", labwork.LABS)
def test_a_lab_with_a_wrong_and_a_missing_answer_runs_to_the_end_and_marks_both(graded_with_mistakes, name):
    grade = graded_with_mistakes[name]
    code = [cell for cell in grade.notebook.cells if cell.cell_type == "code"]
    assert code[-1].execution_count is not None, "Run All reached the last cell"
    lines = stdout_lines(grade.notebook)
    assert any(line.startswith("✗ ") for line in lines), "the wrong answer is marked ✗"
    assert any("not answered yet" in line for line in lines)
    assert any(line.startswith("✓ ") for line in lines)
    if name == "03-attention-perf":
        assert grade.line().startswith("lab 03: 1 of 9 exercises ✓, next: Exercise 2 (error in Exercise 2: NameError")
        return
    assert grade.line() == MISTAKES[name][2]
    errors = [o for cell in code for o in cell.outputs if o.output_type == "error"]
    assert not errors, "a wrong answer never raises"


def test_the_wrong_answer_says_what_is_wrong(graded_with_mistakes):
    lines = stdout_lines(graded_with_mistakes["00-attention-by-hand"].notebook)
    assert "✗ scaled scores S: shape () given, (2, 2) expected" in lines
    assert "… exponentials e^S: not answered yet (replace the ... above with your answer)" in lines
    assert any(line.startswith("✓ weights A matches to 4 decimals") for line in lines)
    lines = stdout_lines(graded_with_mistakes["02-causal-mask"].notebook)
    assert "✗ allowed pairs: expected 36, given 0.5, relative error 9.9e-01" in lines


def test_the_solutions_answers_read_n_of_n(graded):
    _, grade, solved = graded
    assert grade.line() == "lab 00: 8 of 8 exercises ✓" and grade.done
    assert not (solved / "work" / "00-attention-by-hand.ipynb").exists(), "grading writes nothing into work/"
    others = [g.line() for g in labwork.grade_many([(solved, name) for name in labwork.LABS[1:]])]  # not run
    assert [line.split(" (")[0] for line in others] == [
        "lab 01: 0 of 5 exercises ✓, next: Exercise 1", "lab 02: 0 of 5 exercises ✓, next: Exercise 1",
        "lab 03: 0 of 9 exercises ✓, next: Exercise 1"]


def test_an_endless_loop_is_stopped_and_reported(tmp_path):
    root = fresh_tree(tmp_path)
    (root / "work").mkdir()
    text = answered("00-attention-by-hand").replace("my_scores = [[2, 0], [4, 1]]", "while True:\n    pass")
    (root / "work" / "00-attention-by-hand.md").write_text(text, encoding="utf-8")
    grade = labwork.grade_lab(root, "00-attention-by-hand", budget=4)
    assert grade.line() == "lab 00: 0 of 8 exercises ✓, next: Exercise 1 (stopped after 4 s: a cell ran too long)"


def test_the_newer_file_of_a_pair_is_the_one_graded(tmp_path):
    import os

    md, ipynb = tmp_path / "00-attention-by-hand.md", tmp_path / "00-attention-by-hand.ipynb"
    md.write_text("x"), ipynb.write_text("y")
    os.utime(md, ns=(1, 2_000_000_000)), os.utime(ipynb, ns=(1, 1_000_000_000))
    assert labwork.source_of(ipynb) == md
    os.utime(ipynb, ns=(1, 3_000_000_000))  # edited in an editor that writes only the .ipynb
    assert labwork.source_of(md) == ipynb


def test_an_unreadable_workspace_lab_is_reported(tmp_path):
    root = fresh_tree(tmp_path)
    (root / "work").mkdir()
    (root / "work" / "01-multi-head-attention.ipynb").write_text("{not json", encoding="utf-8")
    grade = labwork.grade_lab(root, "01-multi-head-attention")
    assert "cannot read work/01-multi-head-attention.ipynb" in grade.line() and not grade.done


def test_every_answer_key_covers_its_lab():
    for name, answers in ANSWERS.items():
        text = answered(name)
        assert " = ...  #" not in text and "return ..." not in text, f"{name}: an answer is still open"
        assert len(answers) >= 10
