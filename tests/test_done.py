"""`minimodel check 15`: the Definition of Done as a checklist that can say ✗."""

import io
import json
import shutil

import pytest

from minimodel import done, labwork, quiz

ROOT = quiz.repository_root()
LAB_WORK = "every lab exercise answered correctly (your copies in work/)"


@pytest.fixture
def progress(tmp_path, monkeypatch):
    path = tmp_path / "quiz.jsonl"
    monkeypatch.setenv(quiz.PROGRESS_ENV, str(path))
    return path


@pytest.fixture
def lab_work_done(monkeypatch):
    """Every lab graded N of N, without executing anything (tests/test_labwork.py runs the real grader)."""
    def all_right(root):
        grades = []
        for name in labwork.LABS:
            exercises = labwork.graded_exercises(labwork.read_notebook(ROOT / "lab" / f"{name}.md"))
            grades.append(labwork.LabGrade(name, exercises, right=list(exercises)))
        return grades
    monkeypatch.setattr(labwork, "grade_workspace", all_right)


def test_a_fresh_clone_holds_everything_but_the_quiz_and_the_lab_work(tmp_path, progress):
    results = done.checklist(copy_of_repository(tmp_path))
    assert [item for item, ok, _ in results if not ok] == [LAB_WORK, "Quiz 15 passed at ≥ 80 %"]
    out = io.StringIO()
    assert done.report(results, out) == 1
    text = out.getvalue()
    assert text.count("\n✓") == 5 and "✗ Quiz 15" in text and "no attempt recorded yet" in text
    assert "    lab 00: 0 of 8 exercises ✓, next: Exercise 1 (not started: make lab creates work/" in text
    assert "5 of 7 hold" in text


def test_a_recorded_pass_completes_the_checklist_and_a_fail_does_not(progress, lab_work_done):
    quiz.record_attempt({"phase": 15, "score": 0.6, "passed": False, "finished": "2026-11-23T10:00:00+00:00"})
    _, ok, reason = done.checklist(ROOT)[-1]
    assert not ok and "best so far 60%" in reason
    quiz.record_attempt({"phase": 15, "score": 0.85, "passed": True, "finished": "2026-11-23T11:00:00+00:00"})
    out = io.StringIO()
    assert done.report(done.checklist(ROOT), out) == 0
    assert "✗" not in out.getvalue() and "passed on 2026-11-23T11:00:00+00:00 with 85%" in out.getvalue()
    assert "    lab 03: 9 of 9 exercises ✓\n" in out.getvalue()


def test_the_hand_derivation_is_the_paper_one():
    # Row 0: scores (2, 0)/2 → weights σ(1), 1 − σ(1); output = w·(3, 1) + (1 − w)·(1, 3).
    w = 1 / (1 + 2.718281828459045 ** -1)
    assert done.hand_attention()[0] == pytest.approx([3 * w + (1 - w), w + 3 * (1 - w)], abs=1e-12)
    assert done.hand_attention()[0] == pytest.approx([2.4621172, 1.5378828], abs=1e-7)


def copy_of_repository(tmp_path):
    root = tmp_path / "repo"
    for folder in ("lab", "theory"):
        shutil.copytree(ROOT / folder, root / folder)
    return root


def test_a_stale_lab_or_heatmap_is_caught(tmp_path, progress):
    root = copy_of_repository(tmp_path)
    md = root / "lab" / "02-causal-mask.md"
    md.write_text(md.read_text(encoding="utf-8") + "\nOne more sentence.\n", encoding="utf-8")
    csv = root / "lab" / "figures" / "canonical-heatmap.csv"
    csv.write_text(csv.read_text().replace("0.", "0.9", 1))
    (root / "lab" / "03-attention-perf.ipynb").unlink()
    results = {item: (ok, reason) for item, ok, reason in done.checklist(root)}
    ok, reason = results["every lab notebook executed and in sync with its pair"]
    assert not ok and "02-causal-mask.md and its .ipynb differ" in reason
    assert "03-attention-perf: .md or .ipynb missing" in reason
    ok, reason = results["heatmap of the canonical sequence committed and current"]
    assert not ok and "no longer match the code" in reason


def test_an_unexecuted_lab_is_caught(tmp_path):
    root = copy_of_repository(tmp_path)
    ipynb = root / "lab" / "00-attention-by-hand.ipynb"
    notebook = json.loads(ipynb.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell["execution_count"], cell["outputs"] = None, []
    ipynb.write_text(json.dumps(notebook), encoding="utf-8")
    assert done.notebook_problems(root / "lab" / "00-attention-by-hand.md") == [
        "lab/00-attention-by-hand.ipynb has cells that were never run"]


def test_minimodel_check_exit_status(progress, lab_work_done):
    from minimodel.cli import main

    out = io.StringIO()
    assert main(["check", "15"], stdout=out) == 1 and "✗ Quiz 15" in out.getvalue()
    quiz.record_attempt({"phase": 15, "score": 0.9, "passed": True})
    out = io.StringIO()
    assert main(["check", "15"], stdout=out) == 0 and "7 of 7 hold." in out.getvalue()
