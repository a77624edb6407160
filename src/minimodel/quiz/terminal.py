"""The quiz in a terminal: ``minimodel quiz 15 [--seed N] [--lang es]``.

An attempt asks a draw of the bank fixed by a printed seed; an answer that is not in the expected
form is asked again with a hint (never counted wrong); each answer is followed by the explanation.
Ending the input (Ctrl-D, also after a partly typed line) or interrupting (Ctrl-C) stops without
recording anything. A finished attempt shows its score, verdict and chapters to re-read first, and
is then appended to the progress file; if that fails, the learner is told where, why and how to fix
it, and given the record to keep.
"""

import os
import secrets
import textwrap

from minimodel.quiz import (
    LETTERS,
    AmbiguousNumber,
    InvalidAnswer,
    correct_answer_text,
    draw,
    expected_form,
    finish_attempt,
    format_percent,
    is_correct,
    parse_answer,
)

WIDTH = 92
# Exit statuses (documented in the README): 2 is argparse's and the CLI's for bad arguments or a bad bank.
PASSED, NOT_PASSED, NOT_RECORDED, ENDED_EARLY = 0, 1, 3, 130

MESSAGES = {
    "en": {
        "intro": "{title}: {n} questions drawn from {bank}, passed at {pass_}. Seed {seed} (repeat this draw with "
                 "--seed {seed}).",
        "keys": "Type your answer and press Enter. Ctrl-D or Ctrl-C ends the quiz without recording it.",
        "answer": "Your answer ({form}): ", "again": "Not an answer of the expected form: {form}. Try again.",
        "right": "✓ Right.", "wrong": "✗ Not quite. The correct answer: {answer}",
        "score": "Score: {correct}/{total} ({fraction}): {verdict}.", "pass": "passed", "fail": "not passed",
        "reread": "Re-read:", "missed": lambda n: f"{n} question{'s' if n > 1 else ''} missed",
        "saved": "Attempt recorded in {path}.",
        "ended": "\nQuiz ended before the last question: nothing was recorded.",
    },
    "es": {
        "intro": "{title}: {n} preguntas elegidas de entre {bank}; se aprueba con un {pass_}. Semilla {seed} "
                 "(repite esta selección con --seed {seed}).",
        "keys": "Escribe tu respuesta y pulsa Intro. Ctrl-D o Ctrl-C terminan el cuestionario sin guardarlo.",
        "answer": "Tu respuesta ({form}): ",
        "again": "La respuesta no tiene la forma esperada: {form}. Prueba otra vez.",
        "right": "✓ Correcto.", "wrong": "✗ No exactamente. La respuesta correcta: {answer}",
        "score": "Resultado: {correct}/{total} ({fraction}): {verdict}.", "pass": "aprobado",
        "fail": "no aprobado", "reread": "Vuelve a leer:",
        "missed": lambda n: f"{n} pregunta{'s' if n > 1 else ''} fallada{'s' if n > 1 else ''}",
        "saved": "Intento guardado en {path}.",
        "ended": "\nCuestionario terminado antes de la última pregunta: no se ha guardado nada.",
    },
}


class EndedEarly(Exception):
    """The input ended (Ctrl-D) before the last answer."""


def wrap(text, first="", rest=None):
    """``text`` filled to WIDTH, starting with ``first``; later lines indented by ``rest`` (hanging)."""
    rest = " " * len(first) if rest is None else rest
    return "\n".join(textwrap.fill(part, WIDTH, initial_indent=first if i == 0 else rest, subsequent_indent=rest,
                                   break_long_words=False, break_on_hyphens=False)  # paths and formulas stay whole
                     for i, part in enumerate(text.split("\n")))


def read_line(stdin):
    """One typed line, or None when the input has ended.

    On a terminal, Ctrl-D after a partly typed line hands over that part without a newline; Python's
    own readline would wait for two more presses, so the terminal is read directly and a line without
    its newline counts as the end of the input, at once.
    """
    if _is_terminal(stdin):
        data = os.read(stdin.fileno(), 4096)
        line = data.decode("utf-8", errors="replace")
    else:
        line = stdin.readline()
    return line if line.endswith("\n") else None


def _is_terminal(stdin):
    try:
        return stdin.isatty()
    except (AttributeError, ValueError):
        return False


def show_question(out, number, total, question, order, lang):
    out.write(f"\n[{number}/{total}] · {question.chapter}\n{wrap(question.prompt[lang])}\n")
    texts = question.options.get(lang) or question.items.get(lang) or []
    for letter, index in zip(LETTERS, order, strict=False):
        out.write(wrap(texts[index], f"  {letter}) ") + "\n")


def ask(question, order, lang, stdin, out):
    """Read answers until one has the expected form; the end of the input raises EndedEarly."""
    text = MESSAGES[lang]
    while True:
        out.write(text["answer"].format(form=expected_form(question, lang)))
        out.flush()
        line = read_line(stdin)
        if line is None:
            raise EndedEarly
        if not _is_terminal(stdin):  # a terminal echoes what is typed; a script's input is echoed here
            out.write(line)
        try:
            return parse_answer(question, line, order, lang)
        except AmbiguousNumber as hint:
            out.write(wrap(str(hint)) + "\n")
        except InvalidAnswer as hint:
            out.write(text["again"].format(form=hint) + "\n")


def show_result(out, result, lang):
    """Score, verdict and the chapters to re-read: shown before the attempt is recorded."""
    text = MESSAGES[lang]
    verdict = text["pass"] if result.passed else text["fail"]
    out.write("\n" + text["score"].format(correct=result.correct, total=result.total,
                                          fraction=format_percent(result.fraction, lang), verdict=verdict) + "\n")
    if result.reread:
        out.write(text["reread"] + "\n")
        for chapter, n in result.reread:
            out.write(f"  {chapter}.md ({text['missed'](n)})\n")
    out.flush()


def run(bank, *, lang="en", seed=None, stdin, out, progress=None):
    """Ask one drawn attempt of ``bank``; returns the exit status (PASSED, NOT_PASSED, NOT_RECORDED, ENDED_EARLY)."""
    text = MESSAGES[lang]
    seed = secrets.randbelow(10**6) if seed is None else seed
    asked = draw(bank, seed)
    out.write(wrap(text["intro"].format(title=bank.title[lang], n=len(asked), bank=len(bank.questions),
                                        pass_=format_percent(bank.pass_fraction, lang), seed=seed)) + "\n")
    out.write(text["keys"] + "\n")
    answers = {}
    try:
        for number, (question, order) in enumerate(asked, start=1):
            show_question(out, number, len(asked), question, order, lang)
            answers[question.id] = answer = ask(question, order, lang, stdin, out)
            verdict = text["right"] if is_correct(question, answer) else wrap(
                text["wrong"].format(answer=correct_answer_text(question, order, lang)), "", "  ")
            out.write(verdict + "\n" + wrap(question.explanation[lang], "  ") + "\n")
    except (EndedEarly, KeyboardInterrupt):
        out.write(text["ended"] + "\n")
        return ENDED_EARLY
    finished = finish_attempt(bank, [q for q, _ in asked], answers, via="terminal", lang=lang, seed=seed,
                              show=lambda result: show_result(out, result, lang), progress=progress)
    if finished.error is not None:
        message = finished.error.explain(finished.record, lang).split("\n")
        out.write("\n" + "\n".join(line if line.startswith("  ") else wrap(line, "", "  ") for line in message) + "\n")
        return NOT_RECORDED  # the command line to paste stays whole
    out.write(text["saved"].format(path=finished.path) + "\n")
    return PASSED if finished.result.passed else NOT_PASSED
