"""Quiz 15's engine: the schema, the drawn attempt, answer parsing, scoring, the terminal quiz, the notebook form.

The bank's content is tested in test_quiz_bank.py, the progress file and the scripted subprocess runs in
test_quiz_progress.py.
"""

import io
import json
import os
import pathlib
import subprocess
import sys
from collections import Counter

import pytest

from minimodel import quiz
from minimodel.quiz import (
    AmbiguousNumber,
    BankError,
    InvalidAnswer,
    draw,
    load_bank,
    model_answer,
    parse_answer,
    parse_number,
    score,
)
from minimodel.quiz.terminal import ENDED_EARLY, NOT_PASSED, PASSED, WIDTH, run

BANK = load_bank(15)
SEED = 7
ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture
def progress(tmp_path, monkeypatch):
    path = tmp_path / ".progress" / "quiz.jsonl"
    monkeypatch.setenv(quiz.PROGRESS_ENV, str(path))
    return path


def by_kind(kind):
    return next(q for q in BANK.questions if q.kind == kind)


def scripted(answers):
    return io.StringIO("".join(a + "\n" for a in answers))


def correct_script(seed=SEED, lang="en"):
    return [model_answer(q, order, lang) for q, order in draw(BANK, seed)]


def first_option_script(seed=SEED):
    """'a' wherever a letter is asked, 0 for numbers, and the letters as shown for an order."""
    lines = {"choice": "a", "multi": "a", "numeric": "0"}
    return [lines.get(q.kind) or " ".join(quiz.LETTERS[: q.choices]) for q, _ in draw(BANK, seed)]


# --- the bank's schema ----------------------------------------------------------------------


def test_a_bank_off_the_schema_is_refused_with_the_question_named(tmp_path):
    good = """phase = 15\npass_fraction = 0.8\n[title]\nen = "t"\nes = "t"\n
[[question]]\nid = "q1"\nchapter = "theory/00-motivation"\nkind = "numeric"\nprompt.en = "p"\nprompt.es = "p"
answer = 1.0\ntolerance = 0.1\nexplanation.en = "e"\nexplanation.es = "e"\n"""
    path = tmp_path / "bank.toml"
    path.write_text(good)
    assert load_bank(path=path).questions[0].answer == 1.0
    path.write_text(good.replace("tolerance = 0.1\n", 'tolerance = 0.1\ngiveaways = ["1.0"]\n'))
    assert load_bank(path=path).questions[0].giveaways == ("1.0",)
    for broken, message in ((good.replace("tolerance = 0.1\n", ""), "exactly the keys"),
                            (good.replace('prompt.es = "p"\n', ""), "languages"),
                            (good.replace('kind = "numeric"', 'kind = "essay"'), "kind must be one of"),
                            (good.replace("tolerance = 0.1", "tolerance = 0.0"), "tolerance must be positive"),
                            (good.replace("tolerance = 0.1\n", 'tolerance = 0.1\nhint = "x"\n'), "exactly the keys"),
                            (good.replace("pass_fraction = 0.8", 'pass_fraction = "80 %"'), "pass_fraction"),
                            (good + "[[", "not valid TOML")):
        path.write_text(broken)
        with pytest.raises(BankError, match=message) as error:
            load_bank(path=path)
        assert "q1" in str(error.value) or message in ("not valid TOML", "pass_fraction")
    with pytest.raises(BankError, match="no quiz for phase 14"):
        load_bank(14)


# --- a drawn attempt ------------------------------------------------------------------------


def test_an_attempt_draws_twenty_questions_stratified_by_chapter():
    sizes = Counter(q.chapter for q in BANK.questions)
    quotas = quiz.quotas(BANK, quiz.DRAWN)
    assert sum(quotas.values()) == quiz.DRAWN == 20 and set(quotas) == set(sizes)
    for chapter, k in quotas.items():  # each chapter gives its share of the bank, rounded
        assert abs(k - 20 * sizes[chapter] / len(BANK.questions)) < 1, chapter
        assert k >= 2
    for seed in range(50):
        asked = draw(BANK, seed)
        assert Counter(q.chapter for q, _ in asked) == quotas
        assert len({q.id for q, _ in asked}) == 20


def test_the_seed_reproduces_the_draw_and_a_retake_is_not_a_replay():
    ids = lambda seed: [q.id for q, _ in draw(BANK, seed)]  # noqa: E731
    assert ids(1) == ids(1)
    assert [o for _, o in draw(BANK, 1)] == [o for _, o in draw(BANK, 1)]
    overlaps = [len(set(ids(seed)) & set(ids(seed + 1))) for seed in range(100)]
    assert max(overlaps) < 20 and sum(overlaps) / len(overlaps) < 12  # two attempts share fewer than 12 on average
    seen = {qid for seed in range(100) for qid in ids(seed)}
    assert seen == {q.id for q in BANK.questions}  # every question gets asked


def test_a_draw_never_shows_an_order_question_in_its_answer_order():
    for seed in range(30):
        for q, order in draw(BANK, seed):
            if q.kind == "order":
                assert order != tuple(range(q.choices))


# --- parsing --------------------------------------------------------------------------------


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
    assert not isinstance(hint.value, AmbiguousNumber)
    assert quiz.expected_form(question, "es") != quiz.expected_form(question)


@pytest.mark.parametrize("lang, text, value", [
    ("en", "0.5", 0.5), ("en", "0,5", 0.5), ("en", "1/2", 0.5), ("en", "5e-1", 0.5), ("en", "-0.25", -0.25),
    ("en", "263168", 263168), ("en", "263 168", 263168), ("en", "263\u202f168", 263168),
    ("en", "1,048,576", 1048576), ("en", "262,144.5", 262144.5), ("en", "262.144", 262.144),
    ("en", "0,125", 0.125), ("es", "0,5", 0.5), ("es", "0.5", 0.5), ("es", "262,144", 262.144),
    ("es", "263 168", 263168), ("es", "1.048.576", 1048576), ("es", "262.144,5", 262144.5), ("es", "1.5", 1.5),
])
def test_numbers_are_read_in_both_languages(lang, text, value):
    assert parse_number(text, lang) == pytest.approx(value, abs=1e-12)


@pytest.mark.parametrize("lang, text, whole, decimal", [("en", "262,144", "262144", "262.144"),
                                                        ("en", "-1,270", "-1270", "-1.270"),
                                                        ("es", "262.144", "262144", "262,144")])
def test_a_number_that_reads_two_ways_is_asked_again_with_both_readings(lang, text, whole, decimal):
    with pytest.raises(AmbiguousNumber) as hint:
        parse_answer(by_kind("numeric"), text, lang=lang)
    assert whole in str(hint.value) and decimal in str(hint.value) and text in str(hint.value)


def test_numeric_answers_are_right_within_the_tolerance_only():
    for q in (q for q in BANK.questions if q.kind == "numeric"):
        assert quiz.is_correct(q, q.answer)
        for lang in quiz.LANGUAGES:
            assert quiz.is_correct(q, parse_answer(q, model_answer(q, lang=lang), lang=lang))
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


# --- numbers as shown -----------------------------------------------------------------------


@pytest.mark.parametrize("value, places, en, es", [
    (262144, 0, "262 144", "262 144"), (0.0424, 3, "0.042", "0,042"), (1024, 0, "1024", "1024"),
    (-1.5, 1, "−1.5", "−1,5"), (8.0625, 2, "8.06", "8,06"), (263168.25, 1, "263 168.2", "263 168,2")])
def test_numbers_are_shown_in_each_languages_style(value, places, en, es):
    assert quiz.format_number(value, places, "en") == en and quiz.format_number(value, places, "es") == es


def test_the_correct_numeric_answer_is_shown_with_the_decimal_comma_in_spanish():
    q = next(q for q in BANK.questions if q.id == "gradient-factor-over-forty-steps")
    assert quiz.correct_answer_text(q, lang="en") == "0.129 (± 0.001)"
    assert quiz.correct_answer_text(q, lang="es") == "0,129 (± 0,001)"
    whole = next(q for q in BANK.questions if q.id == "mha-parameter-count-with-biases")
    assert quiz.correct_answer_text(whole, lang="es") == "263 168"
    assert quiz.format_percent(0.8, "es") == "80\u00a0%" and quiz.format_percent(0.8, "en") == "80%"


# --- scoring --------------------------------------------------------------------------------


def test_score_passes_at_exactly_eighty_percent_and_names_the_chapters_to_reread():
    asked = [q for q, _ in draw(BANK, SEED)]
    right = {q.id: parse_answer(q, model_answer(q)) for q in asked}
    full = score(asked, right, BANK.pass_fraction)
    assert (full.correct, full.total, full.passed, full.missed, full.reread) == (20, 20, True, (), ())
    at_limit = dict(list(right.items())[4:])  # 16 of 20
    assert score(asked, at_limit, BANK.pass_fraction).passed
    below = dict(list(right.items())[5:])  # 15 of 20
    result = score(asked, below, BANK.pass_fraction)
    assert not result.passed and result.correct == 15 and result.fraction == 0.75
    missed = Counter(q.chapter for q in asked[:5])
    assert dict(result.reread) == dict(missed) and result.reread[0][1] == max(missed.values())


# --- the terminal quiz ----------------------------------------------------------------------


def test_correct_answers_pass_and_record_the_attempt(progress):
    out = io.StringIO()
    assert run(BANK, seed=SEED, stdin=scripted(correct_script()), out=out) == PASSED
    text = out.getvalue()
    assert f"Seed {SEED}" in text and f"20 questions drawn from {len(BANK.questions)}" in text
    assert "Score: 20/20 (100%): passed." in text and text.count("✓ Right.") == 20
    (line,) = progress.read_text().splitlines()
    record = json.loads(line)
    assert record | {"finished": None} == {
        "phase": 15, "finished": None, "via": "terminal", "lang": "en", "seed": SEED,
        "asked": [q.id for q, _ in draw(BANK, SEED)], "correct": 20, "total": 20, "score": 1.0, "passed": True,
        "missed": []}


def test_the_result_is_shown_before_the_attempt_is_recorded(progress):
    out = io.StringIO()
    run(BANK, seed=SEED, stdin=scripted(correct_script()), out=out)
    text = out.getvalue()
    assert text.index("Score: 20/20") < text.index("Attempt recorded in")


def test_first_option_everywhere_fails_and_lists_the_chapters_to_reread(progress):
    out = io.StringIO()
    assert run(BANK, seed=SEED, stdin=scripted(first_option_script()), out=out) == NOT_PASSED
    text = out.getvalue()
    assert "not passed" in text and "Re-read:" in text and "✗ Not quite. The correct answer:" in text
    record = json.loads(progress.read_text())
    assert record["passed"] is False and record["score"] < 0.8
    for chapter, n in Counter(q.chapter for q in BANK.questions if q.id in record["missed"]).items():
        missed = f"{n} question{'s' if n > 1 else ''} missed"
        assert f"  {chapter}.md ({missed})" in text


def test_spanish_wording_in_the_terminal(progress):
    out = io.StringIO()
    assert run(BANK, lang="es", seed=SEED, stdin=scripted(first_option_script()), out=out) == NOT_PASSED
    text = out.getvalue()
    assert "se aprueba con un 80\u00a0%" in text.replace("\n", " ")
    assert "✗ No exactamente. La respuesta correcta:" in text
    assert "preguntas falladas)" in text or "pregunta fallada)" in text
    assert "de la a a la" in text and "Resultado: " in text
    first = draw(BANK, SEED)[0][0]
    assert first.prompt["es"][:30] in text.replace("\n", " ")


def test_garbage_is_asked_again_with_a_hint_and_never_counted_wrong(progress):
    answers = []
    for line in correct_script():
        answers += ["", "what?", "zz", "1/0", line]  # four malformed answers before each right one
    out = io.StringIO()
    assert run(BANK, seed=SEED, stdin=scripted(answers), out=out) == PASSED
    assert out.getvalue().count("Not an answer of the expected form") == 4 * 20
    assert json.loads(progress.read_text())["score"] == 1.0


def seed_asking(qid):
    return next(seed for seed in range(10_000) if qid in {q.id for q, _ in draw(BANK, seed)})


@pytest.mark.parametrize("lang, ambiguous", [("en", "263,168"), ("es", "263.168")])
def test_ambiguous_thousands_are_asked_again_and_never_counted_wrong(progress, lang, ambiguous):
    seed = seed_asking("mha-parameter-count-with-biases")
    script = []
    for q, order in draw(BANK, seed):
        if q.id == "mha-parameter-count-with-biases":
            script.append(ambiguous)
        script.append(model_answer(q, order, lang))
    out = io.StringIO()
    assert run(BANK, lang=lang, seed=seed, stdin=scripted(script), out=out) == PASSED
    text = out.getvalue()
    assert text.count("263168 ") + text.count("263168)") >= 2 and ("263.168" in text or "263,168" in text)
    assert json.loads(progress.read_text())["score"] == 1.0


@pytest.mark.parametrize("lang", ["en", "es"])
def test_ending_the_input_midway_records_nothing(progress, lang):
    out = io.StringIO()
    assert run(BANK, lang=lang, seed=SEED, stdin=scripted(correct_script()[:3]), out=out) == ENDED_EARLY
    assert ("nothing was recorded" if lang == "en" else "no se ha guardado nada") in out.getvalue()
    assert not progress.exists()


def test_input_that_ends_in_the_middle_of_a_line_ends_the_quiz_at_once(progress):
    out = io.StringIO()
    stdin = io.StringIO("".join(a + "\n" for a in correct_script()[:2]) + "b")  # a partial third answer
    assert run(BANK, seed=SEED, stdin=stdin, out=out) == ENDED_EARLY
    assert out.getvalue().count("Your answer") == 3 and not progress.exists()


def test_ctrl_d_after_a_partial_line_on_a_terminal_ends_at_the_first_press(tmp_path):
    """A real pseudo-terminal: type 'b', press Ctrl-D once; the quiz must end without waiting for more."""
    import pty
    import select
    import time

    pid, fd = pty.fork()
    if pid == 0:  # the child: the quiz on the terminal's side of the pty
        os.environ[quiz.PROGRESS_ENV] = str(tmp_path / "quiz.jsonl")
        os.execv(sys.executable, [sys.executable, "-m", "minimodel", "quiz", "15", "--seed", str(SEED)])
    seen, deadline = b"", time.monotonic() + 60
    while b"Your answer" not in seen and time.monotonic() < deadline:
        if select.select([fd], [], [], 1)[0]:
            seen += os.read(fd, 4096)
    os.write(fd, b"b\x04")  # a partial line, then one Ctrl-D
    while time.monotonic() < deadline:
        if select.select([fd], [], [], 1)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
    else:
        os.kill(pid, 9)
        pytest.fail(f"the quiz did not end after one Ctrl-D: {seen[-300:]!r}")
    if not done:
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == ENDED_EARLY
    assert b"nothing was recorded" in seen and not (tmp_path / "quiz.jsonl").exists()


def test_ctrl_c_ends_cleanly_and_records_nothing(progress):
    class Interrupting(io.StringIO):
        def readline(self, *args):
            raise KeyboardInterrupt

    out = io.StringIO()
    assert run(BANK, seed=SEED, stdin=Interrupting(), out=out) == ENDED_EARLY
    assert "nothing was recorded" in out.getvalue() and not progress.exists()


@pytest.mark.parametrize("lang", ["en", "es"])
def test_long_lines_wrap_with_a_hanging_indent(progress, lang):
    out = io.StringIO()
    run(BANK, lang=lang, seed=SEED, stdin=scripted(first_option_script()), out=out)
    lines = out.getvalue().splitlines()
    assert max(len(line) for line in lines if str(progress) not in line) <= WIDTH
    option_starts = [i for i, line in enumerate(lines) if line[:5] in ("  a) ", "  b) ", "  c) ")]
    continued = [lines[i + 1] for i in option_starts if not lines[i + 1].startswith(("  b) ", "  c) ", "  d) ", "  e) ",
                                                                                      "Your", "Tu "))]
    assert continued and all(line.startswith("     ") for line in continued)  # aligned under the option's text
    wrong = [i for i, line in enumerate(lines) if line.startswith("✗")]
    assert any(lines[i + 1].startswith("  ") for i in wrong)


# --- the command ----------------------------------------------------------------------------


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


# --- the notebook form ----------------------------------------------------------------------


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


def test_the_notebook_form_scores_and_records_once_per_attempt(progress, capsys):
    from minimodel.quiz.notebook import QuizForm, inputs

    form = QuizForm(BANK, lang="es", seed=SEED)
    assert [q.id for q, _ in form.asked] == [q.id for q, _ in draw(BANK, SEED)]
    for (question, order), control in zip(form.asked, form.controls, strict=True):
        fill(question, control, model_answer(question, order, "es"))
    fill(form.asked[2][0], form.controls[2], "")  # one left open
    assert form.submit() is None and not progress.exists()
    question, order = form.asked[2]
    fill(question, form.controls[2], model_answer(question, order, "es"))
    result = form.submit()
    assert result.passed and result.correct == 20
    shown = capsys.readouterr().out
    assert "Resultado 20/20 (100\u00a0%): aprobado." in shown and "Guardado en" in shown
    record = json.loads(progress.read_text())
    assert (record["via"], record["lang"], record["seed"], record["passed"]) == ("notebook", "es", SEED, True)
    assert form.submit_button.disabled and not form.again_button.disabled
    assert all(w.disabled for c in form.controls for w in inputs(c))
    assert form.submit() is None and len(progress.read_text().splitlines()) == 1  # a second press records nothing
    form.new_attempt(seed=SEED + 1)  # "New attempt" draws again (with a fresh random seed when none is given)
    assert form.seed == SEED + 1 and form.finished is None
    assert not form.submit_button.disabled and form.again_button.disabled
    assert [q.id for q, _ in form.asked] == [q.id for q, _ in draw(BANK, form.seed)]
    assert not any(w.disabled for c in form.controls for w in inputs(c))


def test_the_notebook_form_explains_an_ambiguous_number(progress, capsys):
    from minimodel.quiz.notebook import QuizForm

    seed = seed_asking("mha-parameter-count-with-biases")
    form = QuizForm(BANK, lang="en", seed=seed)
    for (question, order), control in zip(form.asked, form.controls, strict=True):
        answer = "263,168" if question.id == "mha-parameter-count-with-biases" else model_answer(question, order)
        fill(question, control, answer)
    assert form.submit() is None and not progress.exists()
    assert "could mean 263168 or 263.168" in capsys.readouterr().out


def test_the_notebook_form_keeps_the_attempt_when_recording_fails(tmp_path, capsys):
    from minimodel.quiz.notebook import QuizForm

    blocker = tmp_path / ".progress"
    blocker.write_text("not a folder")
    form = QuizForm(BANK, lang="en", seed=SEED, progress=blocker / "quiz.jsonl")
    for (question, order), control in zip(form.asked, form.controls, strict=True):
        fill(question, control, model_answer(question, order))
    assert form.submit().passed
    text = capsys.readouterr().out
    assert "Score 20/20 (100%): passed." in text and "Could not record the attempt" in text
    assert '"passed": true' in text and form.submit_button.disabled


def test_the_quiz_notebook_prints_no_answer_key():
    source = (ROOT / "quiz" / "15-attention.md").read_text(encoding="utf-8")
    cells = source.split("```{code-cell}")[1:]
    for name in ("model_answer", "correct_answer_text", ".answer", "explanation"):
        assert not any(name in cell.split("```")[0] for cell in cells), name
