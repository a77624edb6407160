"""Answers: reading what a learner types, writing numbers in each language, scoring an attempt.

Answers, as a learner types them:
  choice   one letter                     b
  multi    one or more letters            a, c   (or "ac", "a c")
  numeric  a number                       0.25, 0,25, 1/4, 2.5e-1, 263 168
  order    every letter once, in order    c a d b

A number whose one separator could be a thousands separator or a decimal one ("262,144" in English,
"262.144" in Spanish) is neither: it is asked again with a hint, never counted wrong.
"""

import math
import re
from dataclasses import dataclass
from fractions import Fraction

from minimodel.quiz.bank import LETTERS

# The separator a reader of each language may take for a thousands separator.
THOUSANDS_LOOKALIKE = {"en": ",", "es": "."}
DECIMAL = {"en": ".", "es": ","}
NUMBER_FORM = {"en": "a number, e.g. 0.25 or 1/4", "es": "un número; p. ej., 0,25 o 1/4"}
SPACES = re.compile(r"[\s\u00a0\u202f]+")


class InvalidAnswer(ValueError):
    """An answer not in the expected form; its message is the hint shown before asking again."""


class AmbiguousNumber(InvalidAnswer):
    """A number such as "262,144" that reads as two different numbers; the message says how to write it."""


def expected_form(question, lang="en"):
    """A hint of the form an answer takes, e.g. 'one letter, a to d'."""
    last = LETTERS[question.choices - 1] if question.kind != "numeric" else ""
    forms = {
        "en": {"choice": f"one letter, a to {last}", "multi": f"one or more letters from a to {last}, e.g. a, c",
               "numeric": NUMBER_FORM["en"], "order": f"each letter a to {last} once, in order"},
        "es": {"choice": f"una letra, de la a a la {last}",
               "multi": f"una o más letras, de la a a la {last}; p. ej., a, c",
               "numeric": NUMBER_FORM["es"],
               "order": f"cada letra de la a a la {last} una vez, en orden"},
    }
    return forms[lang][question.kind]


def parse_answer(question, text, order=None, lang="en"):
    """The answer typed as ``text``, normalised: a frozenset (choice, multi), a float, or a tuple (order).

    ``order`` is the display order of an order question (from ``display_order``).
    Raises InvalidAnswer with a hint of the expected form when ``text`` is not one, and
    AmbiguousNumber when a number could be read two ways.
    """
    text = text.strip().lower()
    if question.kind == "numeric":
        return parse_number(text, lang)
    letters = [c for c in text if c not in " ,;"]
    valid = LETTERS[: question.choices]
    if not letters or any(c not in valid for c in letters) or len(set(letters)) != len(letters):
        raise InvalidAnswer(expected_form(question, lang))
    picked = [valid.index(c) for c in letters]
    if question.kind == "choice" and len(picked) != 1:
        raise InvalidAnswer(expected_form(question, lang))
    if question.kind == "order":
        if len(picked) != question.choices:
            raise InvalidAnswer(expected_form(question, lang))
        order = order or tuple(range(question.choices))
        return tuple(order[i] for i in picked)  # the items' indices in the bank, in the learner's order
    return frozenset(picked)


def parse_number(text, lang="en"):
    """A finite float from '0.25', '0,25', '1/4', '2.5e-1', '263 168', '1,048,576' or '1.234,5'."""
    hint = NUMBER_FORM[lang]
    text = SPACES.sub("", text)
    lookalike = THOUSANDS_LOOKALIKE[lang]
    if re.fullmatch(rf"[+-]?[1-9]\d{{0,2}}{re.escape(lookalike)}\d{{3}}", text):
        raise AmbiguousNumber(ambiguity_hint(text, lang))
    if "," in text and "." in text:  # both: the last one is the decimal separator
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        text = text.replace("." if decimal == "," else ",", "").replace(",", ".")
    elif re.fullmatch(r"[+-]?[1-9]\d{0,2}([.,])\d{3}(\1\d{3})+", text):  # 1,048,576: only thousands
        text = text.replace(",", "").replace(".", "")
    else:
        text = text.replace(",", ".")
    try:
        value = float(Fraction(text))  # Fraction reads 0.731, 1e-3 and 1/8 alike
    except (ValueError, ZeroDivisionError):
        raise InvalidAnswer(hint) from None
    if not math.isfinite(value):
        raise InvalidAnswer(hint)
    return value


def ambiguity_hint(text, lang):
    whole = text.replace(THOUSANDS_LOOKALIKE[lang], "")
    decimal = text.replace(THOUSANDS_LOOKALIKE[lang], DECIMAL[lang])
    if lang == "es":
        return (f"«{text}» puede leerse como {whole} o como {decimal}. Escríbelo sin el punto ({whole}) "
                f"o con coma decimal ({decimal}).")
    return (f'"{text}" could mean {whole} or {decimal}. Type it without the comma ({whole}) '
            f"or with a decimal point ({decimal}).")


def is_correct(question, answer):
    if question.kind == "numeric":
        return abs(answer - question.answer) <= question.tolerance
    if question.kind == "order":
        return tuple(answer) == tuple(range(question.choices))
    return frozenset(answer) == question.answer


# --- writing numbers and answers ----------------------------------------------------------


def decimals_for(question):
    """Decimal places that show a numeric answer: none for a whole number asked to within less than 1,
    else enough for its tolerance (0.001 → 3, 0.005 → 3, 0.01 → 2)."""
    if question.answer == int(question.answer) and question.tolerance < 1:
        return 0
    return max(0, math.ceil(-math.log10(question.tolerance) - 1e-9))


def format_number(value, decimals, lang="en"):
    """``value`` rounded to ``decimals`` places, in the language's style: thousands grouped by a space,
    a decimal point in English and a decimal comma in Spanish ("263 168", "0.042", "0,042")."""
    whole, _, fraction = f"{abs(value):.{decimals}f}".partition(".")
    if len(whole) > 4:  # four-digit numbers are written without a separator in both languages
        whole = f"{int(whole):,}".replace(",", " ")
    sign = "−" if value < 0 and float(f"{abs(value):.{decimals}f}") != 0 else ""
    return sign + whole + (DECIMAL[lang] + fraction if fraction else "")


def format_percent(fraction, lang="en"):
    """A share as a percentage: '80%' in English, '80 %' in Spanish (a no-break space, so never split)."""
    return f"{fraction:.0%}" if lang == "en" else f"{fraction * 100:.0f}\u00a0%"


def correct_answer_text(question, order=None, lang="en"):
    """The right answer as the learner would read it: 'b) ...', '0,129 (± 0,001)', '263 168', 'c a d b: ...'."""
    if question.kind == "numeric":
        places = decimals_for(question)
        shown = format_number(question.answer, places, lang)
        if places == 0:
            return shown
        return f"{shown} (± {format_number(question.tolerance, places, lang)})"
    if question.kind == "order":
        return model_answer(question, order) + ": " + " → ".join(question.items[lang])
    return "; ".join(f"{LETTERS[i]}) {question.options[lang][i]}" for i in sorted(question.answer))


def model_answer(question, order=None, lang="en"):
    """What a learner types to answer ``question`` right: 'b', 'a, c', '263168', 'c a d b'."""
    if question.kind == "numeric":
        return f"{question.answer:.12g}".replace(".", DECIMAL[lang])  # enough digits to type back exactly
    if question.kind == "order":
        order = order or tuple(range(question.choices))
        return " ".join(LETTERS[order.index(i)] for i in range(question.choices))
    return ", ".join(LETTERS[i] for i in sorted(question.answer))


# --- scoring ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    correct: int
    total: int
    passed: bool
    missed: tuple  # question ids
    reread: tuple  # (chapter, how many missed), most missed first

    @property
    def fraction(self):
        return self.correct / self.total


def passes(correct, total, pass_fraction):
    """Whether ``correct`` of ``total`` reaches the pass mark (16 of 20 does at 0.8)."""
    return correct >= pass_fraction * total - 1e-9


def score(questions, answers, pass_fraction):
    """Score the asked ``questions`` against ``answers`` ({question id: normalised answer}).

    An unanswered question counts as missed.
    """
    questions = list(questions)
    missed = tuple(q.id for q in questions if q.id not in answers or not is_correct(q, answers[q.id]))
    correct = len(questions) - len(missed)
    chapters = [q.chapter for q in questions if q.id in missed]
    reread = tuple(sorted(((c, chapters.count(c)) for c in set(chapters)), key=lambda item: (-item[1], item[0])))
    return Result(correct, len(questions), passes(correct, len(questions), pass_fraction), missed, reread)
