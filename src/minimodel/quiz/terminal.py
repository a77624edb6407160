"""The quiz in a terminal: ``minimodel quiz 15 [--seed N] [--lang es]``.

Questions come in an order fixed by a printed seed; an answer that is not in the
expected form is asked again with a hint (never counted wrong); each answer is
followed by the explanation. Ending the input (Ctrl-D) or interrupting (Ctrl-C)
stops without recording anything; a finished attempt is appended to the progress file.
"""

import secrets
import textwrap

from minimodel.quiz import (
    LETTERS,
    InvalidAnswer,
    correct_answer_text,
    expected_form,
    finish_attempt,
    is_correct,
    parse_answer,
    shuffled,
)

WIDTH = 92
PASSED, NOT_PASSED, ENDED_EARLY = 0, 1, 130  # exit statuses

MESSAGES = {
    "en": {
        "intro": "{title}: {n} questions, passed at {pass_:.0%}. Seed {seed} (repeat this order with --seed {seed}).",
        "keys": "Type your answer and press Enter. Ctrl-D or Ctrl-C ends the quiz without recording it.",
        "answer": "Your answer ({form}): ", "again": "Not an answer of the expected form: {form}. Try again.",
        "right": "✓ Right.", "wrong": "✗ Not quite. The answer: {answer}",
        "score": "Score: {correct}/{total} ({fraction:.0%}): {verdict}.", "pass": "passed", "fail": "not passed",
        "reread": "Re-read:", "missed": "{n} missed", "saved": "Attempt recorded in {path}.",
        "ended": "\nQuiz ended before the last question: nothing was recorded.",
    },
    "es": {
        "intro": "{title}: {n} preguntas, se aprueba con {pass_:.0%}. Semilla {seed} (repite este orden con "
                 "--seed {seed}).",
        "keys": "Escribe tu respuesta y pulsa Intro. Ctrl-D o Ctrl-C terminan el cuestionario sin guardarlo.",
        "answer": "Tu respuesta ({form}): ",
        "again": "La respuesta no tiene la forma esperada: {form}. Prueba otra vez.",
        "right": "✓ Correcto.", "wrong": "✗ No exactamente. La respuesta: {answer}",
        "score": "Resultado: {correct}/{total} ({fraction:.0%}): {verdict}.", "pass": "aprobado",
        "fail": "no aprobado", "reread": "Vuelve a leer:", "missed": "{n} fallada(s)",
        "saved": "Intento guardado en {path}.",
        "ended": "\nCuestionario terminado antes de la última pregunta: no se ha guardado nada.",
    },
}


class EndedEarly(Exception):
    """The input ended (Ctrl-D) before the last answer."""


def wrap(text, indent=""):
    return textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=indent)


def show_question(out, number, total, question, order, lang):
    out.write(f"\n[{number}/{total}] · theory/{question.chapter}\n{wrap(question.prompt[lang])}\n")
    texts = question.options.get(lang) or question.items.get(lang) or []
    for letter, index in zip(LETTERS, order, strict=False):
        out.write(wrap(f"{letter}) {texts[index]}", "  ") + "\n")


def ask(question, order, lang, stdin, out):
    """Read answers until one has the expected form; EOF raises EndedEarly."""
    text = MESSAGES[lang]
    while True:
        out.write(text["answer"].format(form=expected_form(question, lang)))
        out.flush()
        line = stdin.readline()
        if not line:
            raise EndedEarly
        try:
            return parse_answer(question, line, order, lang)
        except InvalidAnswer as hint:
            out.write(text["again"].format(form=hint) + "\n")


def run(bank, *, lang="en", seed=None, stdin, out, progress=None):
    """Ask every question of ``bank``; returns the exit status (0 passed, 1 not passed, 130 ended early)."""
    text = MESSAGES[lang]
    seed = secrets.randbelow(10**6) if seed is None else seed
    asked = shuffled(bank, seed)
    out.write(text["intro"].format(title=bank.title[lang], n=len(asked), pass_=bank.pass_fraction, seed=seed) + "\n")
    out.write(text["keys"] + "\n")
    answers = {}
    try:
        for number, (question, order) in enumerate(asked, start=1):
            show_question(out, number, len(asked), question, order, lang)
            answers[question.id] = answer = ask(question, order, lang, stdin, out)
            verdict = text["right"] if is_correct(question, answer) else text["wrong"].format(
                answer=correct_answer_text(question, order, lang))
            out.write(verdict + "\n" + wrap(question.explanation[lang], "  ") + "\n")
    except (EndedEarly, KeyboardInterrupt):
        out.write(text["ended"] + "\n")
        return ENDED_EARLY
    result, path = finish_attempt(bank, answers, via="terminal", lang=lang, seed=seed, progress=progress)
    verdict = text["pass"] if result.passed else text["fail"]
    out.write("\n" + text["score"].format(correct=result.correct, total=result.total, fraction=result.fraction,
                                          verdict=verdict) + "\n")
    if result.reread:
        out.write(text["reread"] + "\n")
        for chapter, n in result.reread:
            out.write(f"  theory/{chapter}.md ({text['missed'].format(n=n)})\n")
    out.write(text["saved"].format(path=path) + "\n")
    return PASSED if result.passed else NOT_PASSED
