"""The phase quizzes: question banks, answer parsing, scoring and the progress file.

    from minimodel.quiz import load_bank, parse_answer, finish_attempt

A bank is package data (``phase15.toml``, read with ``tomllib``). The terminal
(``minimodel quiz 15``, see ``terminal.py``) and the notebook (``quiz/15-attention.md``,
see ``notebook.py``) both read answers with ``parse_answer`` and end with
``finish_attempt``, which scores and appends the attempt to the progress file.

Answers, as a learner types them:
  choice   one letter                     b
  multi    one or more letters            a, c   (or "ac", "a c")
  numeric  a number                       0.731  (also 0,731 and 1/8)
  order    every letter once, in order    c a d b
"""

import datetime
import json
import math
import os
import pathlib
import random
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from fractions import Fraction
from importlib import resources

LANGUAGES = ("en", "es")
KINDS = ("choice", "multi", "numeric", "order")
LETTERS = "abcdefghij"
PROGRESS_ENV = "MINIMODEL_PROGRESS"  # a path that replaces the default progress file (tests use it)


class BankError(ValueError):
    """A question bank that does not follow the schema; the message names the question and the key."""


class InvalidAnswer(ValueError):
    """An answer not in the expected form; its message is the hint shown before asking again."""


@dataclass(frozen=True)
class Question:
    id: str
    chapter: str
    kind: str
    prompt: dict
    explanation: dict
    options: dict = field(default_factory=dict)  # choice, multi: {lang: [text, ...]}
    items: dict = field(default_factory=dict)  # order: {lang: [text, ...]} in the correct order
    answer: object = None  # choice, multi: frozenset of option indices; numeric: float
    tolerance: float = 0.0  # numeric: absolute

    @property
    def choices(self):
        """How many options (choice, multi) or items (order) the question shows."""
        return len((self.options or self.items)["en"])


@dataclass(frozen=True)
class Bank:
    phase: int
    title: dict
    pass_fraction: float
    questions: tuple

    def chapters(self):
        return sorted({q.chapter for q in self.questions})


# --- the bank ---------------------------------------------------------------------------


def load_bank(phase=15, path=None):
    """Read and validate a bank: the package's ``phase<N>.toml`` unless ``path`` is given."""
    if path is None:
        source = resources.files(__package__) / f"phase{phase}.toml"
        if not source.is_file():
            raise BankError(f"there is no quiz for phase {phase} (no {source.name} in minimodel.quiz)")
        text, name = source.read_text(encoding="utf-8"), source.name
    else:
        text, name = pathlib.Path(path).read_text(encoding="utf-8"), str(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise BankError(f"{name} is not valid TOML: {error}") from None
    questions = tuple(_question(raw, name, i) for i, raw in enumerate(data.get("question", [])))
    ids = [q.id for q in questions]
    if not questions or len(set(ids)) != len(ids):
        raise BankError(f"{name}: needs at least one question, and unique ids")
    return Bank(data["phase"], _texts(data, "title", name), float(data["pass_fraction"]), questions)


def _texts(raw, key, where):
    texts = raw.get(key)
    if not isinstance(texts, dict) or set(texts) != set(LANGUAGES):
        raise BankError(f"{where}: '{key}' needs exactly the languages {LANGUAGES}")
    return texts


def _question(raw, name, index):
    where = f"{name}, question {raw.get('id', index)!r}"
    kind = raw.get("kind")
    if kind not in KINDS:
        raise BankError(f"{where}: kind must be one of {KINDS}, got {kind!r}")
    required = {"choice": {"options", "answer"}, "multi": {"options", "answer"},
                "numeric": {"answer", "tolerance"}, "order": {"items"}}[kind]
    keys = {"id", "chapter", "kind", "prompt", "explanation"} | required
    if set(raw) != keys:
        raise BankError(f"{where}: a {kind} question has exactly the keys {sorted(keys)}, got {sorted(raw)}")
    common = dict(id=raw["id"], chapter=raw["chapter"], kind=kind, prompt=_texts(raw, "prompt", where),
                  explanation=_texts(raw, "explanation", where))
    if kind == "numeric":
        if not raw["tolerance"] > 0:
            raise BankError(f"{where}: tolerance must be positive")
        return Question(**common, answer=float(raw["answer"]), tolerance=float(raw["tolerance"]))
    lists = _texts(raw, "options" if kind != "order" else "items", where)
    if len(lists["en"]) != len(lists["es"]) or not 2 <= len(lists["en"]) <= len(LETTERS):
        raise BankError(f"{where}: the en and es lists need the same length, 2 to {len(LETTERS)} entries")
    if kind == "order":
        return Question(**common, items=lists)
    answer = frozenset(raw["answer"])
    if not answer or not all(0 <= i < len(lists["en"]) for i in answer) or (kind == "choice" and len(answer) != 1):
        raise BankError(f"{where}: answer must list {'one' if kind == 'choice' else 'some'} option indices")
    return Question(**common, options=lists, answer=answer)


# --- asking -----------------------------------------------------------------------------


def display_order(question, rng):
    """The order in which an order question shows its items (shuffled); the identity otherwise."""
    order = list(range(question.choices if question.kind != "numeric" else 0))
    if question.kind == "order":
        while order == sorted(order) and len(order) > 1:  # never show the answer itself
            rng.shuffle(order)
    return tuple(order)


def shuffled(bank, seed):
    """The questions in the order of ``seed``, each with its display order: [(question, order), ...]."""
    rng = random.Random(seed)
    questions = list(bank.questions)
    rng.shuffle(questions)
    return [(q, display_order(q, rng)) for q in questions]


def expected_form(question, lang="en"):
    """A hint of the form an answer takes, e.g. 'one letter, a to d'."""
    last = LETTERS[question.choices - 1] if question.kind != "numeric" else ""
    forms = {
        "en": {"choice": f"one letter, a to {last}", "multi": f"one or more letters from a to {last}, e.g. a, c",
               "numeric": "a number, e.g. 0.25, 0,25 or 1/4", "order": f"each letter a to {last} once, in order"},
        "es": {"choice": f"una letra, de a a {last}", "multi": f"una o más letras de a a {last}, p. ej. a, c",
               "numeric": "un número, p. ej. 0.25, 0,25 o 1/4", "order": f"cada letra de a a {last} una vez, en orden"},
    }
    return forms[lang][question.kind]


def parse_answer(question, text, order=None, lang="en"):
    """The answer typed as ``text``, normalised: a frozenset (choice, multi), a float, or a tuple (order).

    ``order`` is the display order of an order question (from ``display_order``).
    Raises InvalidAnswer with a hint of the expected form when ``text`` is not one.
    """
    text = text.strip().lower()
    if question.kind == "numeric":
        return _number(text, question, lang)
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


def _number(text, question, lang):
    try:
        value = float(Fraction(text.replace(",", ".")))  # Fraction reads 0.731, 1e-3 and 1/8 alike
    except (ValueError, ZeroDivisionError):
        raise InvalidAnswer(expected_form(question, lang)) from None
    if not math.isfinite(value):
        raise InvalidAnswer(expected_form(question, lang))
    return value


def is_correct(question, answer):
    if question.kind == "numeric":
        return abs(answer - question.answer) <= question.tolerance
    if question.kind == "order":
        return tuple(answer) == tuple(range(question.choices))
    return frozenset(answer) == question.answer


def correct_answer_text(question, order=None, lang="en"):
    """The right answer as the learner would type it, with its text: 'b) ...' or '64 (± 0.5)'."""
    if question.kind == "numeric":
        return f"{question.answer:.12g} (± {question.tolerance:g})"
    if question.kind == "order":
        return model_answer(question, order) + ": " + " → ".join(question.items[lang])
    return "; ".join(f"{LETTERS[i]}) {question.options[lang][i]}" for i in sorted(question.answer))


def model_answer(question, order=None):
    """What a learner types to answer ``question`` right: 'b', 'a, c', '64', 'c a d b'."""
    if question.kind == "numeric":
        return f"{question.answer:.12g}"  # enough digits to type back exactly
    if question.kind == "order":
        order = order or tuple(range(question.choices))
        return " ".join(LETTERS[order.index(i)] for i in range(question.choices))
    return ", ".join(LETTERS[i] for i in sorted(question.answer))


# --- scoring and recording --------------------------------------------------------------


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


def score(bank, answers):
    """Score ``answers`` ({question id: normalised answer}); an unanswered question counts as missed."""
    missed = tuple(q.id for q in bank.questions if q.id not in answers or not is_correct(q, answers[q.id]))
    correct = len(bank.questions) - len(missed)
    chapters = [q.chapter for q in bank.questions if q.id in missed]
    reread = tuple(sorted(((c, chapters.count(c)) for c in set(chapters)), key=lambda item: (-item[1], item[0])))
    passed = correct >= bank.pass_fraction * len(bank.questions) - 1e-9
    return Result(correct, len(bank.questions), passed, missed, reread)


def repository_root():
    """The checkout this package is installed from (editable install), else the working directory."""
    root = pathlib.Path(__file__).resolve().parents[3]
    return root if (root / "pyproject.toml").is_file() and (root / "src" / "minimodel").is_dir() else pathlib.Path.cwd()


def progress_path():
    """Where attempts are recorded: $MINIMODEL_PROGRESS, else .progress/quiz.jsonl in the repository."""
    override = os.environ.get(PROGRESS_ENV)
    return pathlib.Path(override) if override else repository_root() / ".progress" / "quiz.jsonl"


def attempt_record(bank, result, *, via, lang, seed=None, now=None):
    now = now or datetime.datetime.now(datetime.UTC)
    return {"phase": bank.phase, "finished": now.isoformat(timespec="seconds"), "via": via, "lang": lang,
            "seed": seed, "correct": result.correct, "total": result.total, "score": round(result.fraction, 4),
            "passed": result.passed, "missed": list(result.missed)}


def record_attempt(record, path=None):
    """Append ``record`` as one JSON line, atomically: the file is rewritten under a temporary
    name and renamed, so an interruption leaves either the old file or the new one, never half a line.
    Earlier lines are kept byte for byte, unreadable ones included."""
    path = pathlib.Path(path or progress_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.read_bytes() if path.exists() else b""
    if old and not old.endswith(b"\n"):
        old += b"\n"
    line = json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n"
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name, suffix=".tmp", delete=False) as tmp:
        tmp.write(old + line)
        tmp.flush()
        os.fsync(tmp.fileno())
    try:
        os.replace(tmp.name, path)
    except BaseException:
        os.unlink(tmp.name)  # the old file stands; leave no temporary file behind
        raise
    return path


def finish_attempt(bank, answers, *, via, lang, seed, progress=None):
    """Score a finished attempt and append it to the progress file: (Result, path written).

    The one way both the terminal and the notebook end a quiz, so they count and record alike.
    """
    result = score(bank, answers)
    path = record_attempt(attempt_record(bank, result, via=via, lang=lang, seed=seed), progress)
    return result, path


def read_attempts(path=None, warn=None):
    """Every readable attempt in the progress file ([] if there is none); each unreadable line is
    reported through ``warn`` (default: a warning on stderr) and skipped."""
    path = pathlib.Path(path or progress_path())
    warn = warn or (lambda message: print(f"warning: {message}", file=sys.stderr))
    if not path.exists():
        return []
    attempts = []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            attempt = json.loads(line)
            if not isinstance(attempt, dict) or not {"phase", "score", "passed"} <= set(attempt):
                raise ValueError("not an attempt record")
        except ValueError:
            warn(f"line {number} of {path} is not a readable attempt; it is ignored (and kept in the file)")
            continue
        attempts.append(attempt)
    return attempts
