"""Quiz 15: the bank, answer parsing, scoring, the terminal quiz with scripted input, the progress file."""

import io
import json
import os
import subprocess
import sys

import pytest

from minimodel import quiz
from minimodel.quiz import BankError, InvalidAnswer, load_bank, model_answer, parse_answer, score, shuffled
from minimodel.quiz.terminal import ENDED_EARLY, NOT_PASSED, PASSED, run

CHAPTERS = ("00-motivation", "01-query-key-value", "02-scaled-dot-product", "03-multi-head", "04-masking")
BANK = load_bank(15)
SEED = 7


@pytest.fixture
def progress(tmp_path, monkeypatch):
    path = tmp_path / ".progress" / "quiz.jsonl"
    monkeypatch.setenv(quiz.PROGRESS_ENV, str(path))
    return path


def by_kind(kind):
    return next(q for q in BANK.questions if q.kind == kind)


def scripted(answers):
    return io.StringIO("".join(a + "\n" for a in answers))


def correct_script(seed=SEED):
    return [model_answer(q, order) for q, order in shuffled(BANK, seed)]


def first_option_script(seed=SEED):
    """'a' wherever a letter is asked, 0 for numbers, and the letters as shown for an order."""
    lines = {"choice": "a", "multi": "a", "numeric": "0"}
    return [lines.get(q.kind) or " ".join(quiz.LETTERS[: q.choices]) for q, _ in shuffled(BANK, seed)]


# --- the bank ---------------------------------------------------------------------------


def test_bank_covers_every_chapter_with_every_kind_in_both_languages():
    assert len(BANK.questions) >= 25
    for chapter in CHAPTERS:
        assert sum(q.chapter == chapter for q in BANK.questions) >= 4, chapter
    assert set(BANK.chapters()) == set(CHAPTERS)
    assert {q.kind for q in BANK.questions} == set(quiz.KINDS)
    for q in BANK.questions:
        for texts in (q.prompt, q.explanation):
            assert texts["en"].strip() and texts["es"].strip() and texts["en"] != texts["es"], q.id
    assert BANK.pass_fraction == 0.8


def test_answering_the_first_option_everywhere_is_mostly_wrong():
    choice = [q for q in BANK.questions if q.kind == "choice"]
    assert sum(q.answer == frozenset({0}) for q in choice) <= 0.2 * len(choice)
    assert all(q.answer != frozenset({0}) for q in BANK.questions if q.kind == "multi")


def test_a_bank_off_the_schema_is_refused_with_the_question_named(tmp_path):
    good = """phase = 15\npass_fraction = 0.8\n[title]\nen = "t"\nes = "t"\n
[[question]]\nid = "q1"\nchapter = "00-motivation"\nkind = "numeric"\nprompt.en = "p"\nprompt.es = "p"
answer = 1.0\ntolerance = 0.1\nexplanation.en = "e"\nexplanation.es = "e"\n"""
    path = tmp_path / "bank.toml"
    path.write_text(good)
    assert load_bank(path=path).questions[0].answer == 1.0
    for broken, message in ((good.replace("tolerance = 0.1\n", ""), "exactly the keys"),
                            (good.replace('prompt.es = "p"\n', ""), "languages"),
                            (good.replace('kind = "numeric"', 'kind = "essay"'), "kind must be one of"),
                            (good.replace("tolerance = 0.1", "tolerance = 0.0"), "tolerance must be positive"),
                            (good + "[[", "not valid TOML")):
        path.write_text(broken)
        with pytest.raises(BankError, match=message) as error:
            load_bank(path=path)
        assert "q1" in str(error.value) or "TOML" in message
    with pytest.raises(BankError, match="no quiz for phase 14"):
        load_bank(14)


# --- parsing and tolerance --------------------------------------------------------------


def test_letters_are_read_in_any_reasonable_spelling():
    choice, multi = by_kind("choice"), by_kind("multi")
    assert parse_answer(choice, " B \n") == frozenset({1})
    assert parse_answer(multi, "c, a") == parse_answer(multi, "ac") == parse_answer(multi, "a c") == frozenset({0, 2})


@pytest.mark.parametrize("kind, text", [("choice", ""), ("choice", "a b"), ("choice", "z"), ("choice", "1"),
                                        ("multi", "a a"), ("multi", "?"), ("numeric", "sixty-four"),
                                        ("numeric", "inf"), ("numeric", "nan"), ("numeric", "1/0"),
                                        ("numeric", ""), ("order", "a"), ("order", "a a b c")])
def test_malformed_answers_raise_a_hint_of_the_expected_form(kind, text):
    question = by_kind(kind)
    with pytest.raises(InvalidAnswer) as hint:
        parse_answer(question, text)
    assert str(hint.value) == quiz.expected_form(question)
    assert str(hint.value)  # never an empty hint
    assert quiz.expected_form(question, "es") != quiz.expected_form(question)


def test_numbers_accept_decimal_commas_fractions_and_exponents():
    numeric = by_kind("numeric")
    assert parse_answer(numeric, "0,5") == parse_answer(numeric, "1/2") == parse_answer(numeric, "5e-1") == 0.5


def test_numeric_answers_are_right_within_the_tolerance_only():
    for q in (q for q in BANK.questions if q.kind == "numeric"):
        assert quiz.is_correct(q, q.answer)
        assert quiz.is_correct(q, q.answer + 0.99 * q.tolerance) and quiz.is_correct(q, q.answer - 0.99 * q.tolerance)
        assert not quiz.is_correct(q, q.answer + 1.01 * q.tolerance)
        assert not quiz.is_correct(q, q.answer - 1.01 * q.tolerance)


def test_order_answers_are_read_through_the_shuffled_display():
    question = by_kind("order")
    order = quiz.display_order(question, __import__("random").Random(0))
    assert order != tuple(range(question.choices)), "an order question never shows its answer"
    right = model_answer(question, order)
    assert quiz.is_correct(question, parse_answer(question, right, order))
    assert not quiz.is_correct(question, parse_answer(question, " ".join(quiz.LETTERS[: question.choices]), order))


# --- scoring ----------------------------------------------------------------------------


def test_score_passes_at_exactly_eighty_percent_and_names_the_chapters_to_reread():
    right = {q.id: parse_answer(q, model_answer(q)) for q in BANK.questions}
    full = score(BANK, right)
    assert (full.correct, full.passed, full.missed, full.reread) == (len(BANK.questions), True, (), ())
    n = len(BANK.questions)
    allowed = n - int(0.8 * n + 0.999999)  # the most questions one may miss and still pass
    ordered = sorted(BANK.questions, key=lambda q: q.chapter)
    at_limit = {k: v for k, v in right.items() if k not in {q.id for q in ordered[:allowed]}}
    assert score(BANK, at_limit).passed
    below = {k: v for k, v in right.items() if k not in {q.id for q in ordered[: allowed + 1]}}
    result = score(BANK, below)
    assert not result.passed and result.correct == n - allowed - 1
    assert result.reread[0][0] == ordered[0].chapter
    assert sum(count for _, count in result.reread) == allowed + 1


# --- the terminal quiz ------------------------------------------------------------------


def test_correct_answers_pass_and_record_the_attempt(progress):
    out = io.StringIO()
    assert run(BANK, seed=SEED, stdin=scripted(correct_script()), out=out) == PASSED
    text = out.getvalue()
    assert f"Seed {SEED}" in text and "passed" in text and text.count("✓ Right.") == len(BANK.questions)
    (line,) = progress.read_text().splitlines()
    record = json.loads(line)
    assert record | {"finished": None} == {
        "phase": 15, "finished": None, "via": "terminal", "lang": "en", "seed": SEED,
        "correct": len(BANK.questions), "total": len(BANK.questions), "score": 1.0, "passed": True, "missed": []}


def test_first_option_everywhere_fails_and_lists_the_chapters_to_reread(progress):
    out = io.StringIO()
    assert run(BANK, seed=SEED, stdin=scripted(first_option_script()), out=out) == NOT_PASSED
    text = out.getvalue()
    assert "not passed" in text and "Re-read:" in text
    assert "✗ Not quite. The answer:" in text
    record = json.loads(progress.read_text())
    assert record["passed"] is False and record["score"] < 0.8
    for chapter in {q.chapter for q in BANK.questions if q.id in record["missed"]}:
        assert f"theory/{chapter}.md" in text


def test_garbage_is_asked_again_with_a_hint_and_never_counted_wrong(progress):
    answers = []
    for line in correct_script():
        answers += ["", "what?", "zz", "1/0", line]  # four malformed answers before each right one
    out = io.StringIO()
    assert run(BANK, seed=SEED, stdin=scripted(answers), out=out) == PASSED
    assert out.getvalue().count("Not an answer of the expected form") == 4 * len(BANK.questions)
    assert json.loads(progress.read_text())["score"] == 1.0


@pytest.mark.parametrize("lang", ["en", "es"])
def test_ending_the_input_midway_records_nothing(progress, lang):
    out = io.StringIO()
    assert run(BANK, lang=lang, seed=SEED, stdin=scripted(correct_script()[:3]), out=out) == ENDED_EARLY
    assert ("nothing was recorded" if lang == "en" else "no se ha guardado nada") in out.getvalue()
    assert not progress.exists()


def test_ctrl_c_ends_cleanly_and_records_nothing(progress):
    class Interrupting(io.StringIO):
        def readline(self, *args):
            raise KeyboardInterrupt

    out = io.StringIO()
    assert run(BANK, seed=SEED, stdin=Interrupting(), out=out) == ENDED_EARLY
    assert "nothing was recorded" in out.getvalue() and not progress.exists()


def test_the_seed_fixes_the_order_and_spanish_asks_in_spanish(progress):
    assert [q.id for q, _ in shuffled(BANK, 1)] == [q.id for q, _ in shuffled(BANK, 1)]
    assert [q.id for q, _ in shuffled(BANK, 1)] != [q.id for q, _ in shuffled(BANK, 2)]
    out = io.StringIO()
    assert run(BANK, lang="es", seed=SEED, stdin=scripted(correct_script()), out=out) == PASSED
    first_question = shuffled(BANK, SEED)[0][0]
    assert first_question.prompt["es"].split()[0] in out.getvalue() and "aprobado" in out.getvalue()


def run_cli(*args, stdin="", env=None):
    return subprocess.run([sys.executable, "-m", "minimodel", *args], input=stdin, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


def test_python_dash_m_minimodel_quiz_with_scripted_stdin(progress):
    done = run_cli("quiz", "15", "--seed", str(SEED), stdin="\n".join(correct_script()) + "\n")
    assert done.returncode == 0, done.stderr
    assert "Attempt recorded in" in done.stdout and progress.exists()
    ended = run_cli("quiz", "15", "--seed", str(SEED), stdin="a\n")
    assert ended.returncode == 130 and "Traceback" not in ended.stderr


@pytest.mark.parametrize("args, message", [(["quiz", "14"], "phase 15, not '14'"),
                                           (["quiz", "15", "--seed", "x"], "--seed takes an integer"),
                                           (["quiz", "15", "--lang", "fr"], "invalid choice: 'fr'"),
                                           ([], "required: command")])
def test_bad_arguments_get_a_usage_message(args, message):
    done = run_cli(*args)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_the_console_script_is_installed():
    script = os.path.join(os.path.dirname(sys.executable), "minimodel")
    done = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "quiz" in done.stdout and "check" in done.stdout


# --- the progress file ------------------------------------------------------------------


def test_attempts_are_appended_atomically(progress):
    quiz.record_attempt({"phase": 15, "score": 0.5, "passed": False})
    quiz.record_attempt({"phase": 15, "score": 0.9, "passed": True})
    assert [a["score"] for a in quiz.read_attempts()] == [0.5, 0.9]
    assert sorted(p.name for p in progress.parent.iterdir()) == ["quiz.jsonl"]  # no temporary file left


def test_an_interrupted_write_leaves_the_old_file_whole(progress, monkeypatch):
    quiz.record_attempt({"phase": 15, "score": 0.5, "passed": False})
    before = progress.read_bytes()

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(quiz.os, "replace", crash)
    with pytest.raises(OSError):
        quiz.record_attempt({"phase": 15, "score": 0.9, "passed": True})
    assert progress.read_bytes() == before
    assert [p.name for p in progress.parent.iterdir()] == ["quiz.jsonl"]  # the temporary file is gone too


def test_a_corrupt_line_is_reported_skipped_and_kept(progress):
    quiz.record_attempt({"phase": 15, "score": 0.5, "passed": False})
    with open(progress, "a") as file:
        file.write('{"phase": 15, "sco\n')  # a line cut short, e.g. by an editor
    quiz.record_attempt({"phase": 15, "score": 0.9, "passed": True})
    warnings = []
    assert [a["score"] for a in quiz.read_attempts(warn=warnings.append)] == [0.5, 0.9]
    assert len(warnings) == 1 and "line 2" in warnings[0]
    assert '{"phase": 15, "sco' in progress.read_text().splitlines()[1]


def test_the_default_progress_file_is_git_ignored_in_the_repository(monkeypatch):
    monkeypatch.delenv(quiz.PROGRESS_ENV, raising=False)
    path = quiz.progress_path()
    root = quiz.repository_root()
    assert path == root / ".progress" / "quiz.jsonl"
    ignored = subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=root, capture_output=True)
    assert ignored.returncode == 0, ".progress/ must be git-ignored"


# --- the notebook form ------------------------------------------------------------------


def fill(question, control, text):
    """Type ``text`` into a form control the way a learner would click or type it."""
    if question.kind == "numeric":
        control.value = text
    elif question.kind == "multi":
        for box in control.children[-1].children:
            box.value = box.description in text.replace(",", " ").split()
    elif question.kind == "order":
        control.children[-1].value = text
    else:
        control.children[-1].value = text or None  # None: no letter picked


def test_the_notebook_form_scores_and_records_like_the_terminal(progress):
    from minimodel.quiz.notebook import QuizForm

    form = QuizForm(BANK, lang="es", seed=SEED)
    assert [q.id for q, _ in form.asked] == [q.id for q, _ in shuffled(BANK, SEED)]
    for (question, order), control in zip(form.asked, form.controls, strict=True):
        fill(question, control, model_answer(question, order))
    fill(form.asked[2][0], form.controls[2], "")  # one left open
    assert form.submit() is None and not progress.exists()
    question, order = form.asked[2]
    fill(question, form.controls[2], model_answer(question, order))
    result = form.submit()
    assert result.passed and result.correct == len(BANK.questions)
    record = json.loads(progress.read_text())
    assert (record["via"], record["lang"], record["seed"], record["passed"]) == ("notebook", "es", SEED, True)
