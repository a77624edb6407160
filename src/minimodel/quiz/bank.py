"""Question banks: loading a ``phase<N>.toml``, checking it against the schema, drawing an attempt.

A bank is package data read with ``tomllib``. Every question belongs to one chapter, written as its path
without ``.md`` (``theory/02-scaled-dot-product``, ``lab/03-attention-perf``), which is what a learner is
told to re-read. An attempt does not ask the whole bank: ``draw`` picks a subset stratified by chapter,
reproducible from its seed.
"""

import math
import pathlib
import random
import tomllib
from dataclasses import dataclass, field
from importlib import resources

LANGUAGES = ("en", "es")
KINDS = ("choice", "multi", "numeric", "order")
LETTERS = "abcdefghij"
DRAWN = 20  # questions in one attempt


class BankError(ValueError):
    """A question bank that does not follow the schema; the message names the question and the key."""


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
    giveaways: tuple = ()  # numeric: texts that would hand its answer to a learner reading another question

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
    pass_fraction = data.get("pass_fraction")
    if not isinstance(pass_fraction, int | float) or not 0 < pass_fraction <= 1:
        raise BankError(f"{name}: pass_fraction must be a number in (0, 1], got {pass_fraction!r}")
    return Bank(data["phase"], _texts(data, "title", name), float(pass_fraction), questions)


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
    optional = {"giveaways"} if kind == "numeric" else set()
    if not keys <= set(raw) <= keys | optional:
        raise BankError(f"{where}: a {kind} question has exactly the keys {sorted(keys)}"
                        f"{' (and optionally giveaways)' if optional else ''}, got {sorted(raw)}")
    common = dict(id=raw["id"], chapter=raw["chapter"], kind=kind, prompt=_texts(raw, "prompt", where),
                  explanation=_texts(raw, "explanation", where))
    if kind == "numeric":
        if not raw["tolerance"] > 0:
            raise BankError(f"{where}: tolerance must be positive")
        return Question(**common, answer=float(raw["answer"]), tolerance=float(raw["tolerance"]),
                        giveaways=tuple(raw.get("giveaways", ())))
    lists = _texts(raw, "options" if kind != "order" else "items", where)
    if len(lists["en"]) != len(lists["es"]) or not 2 <= len(lists["en"]) <= len(LETTERS):
        raise BankError(f"{where}: the en and es lists need the same length, 2 to {len(LETTERS)} entries")
    if kind == "order":
        return Question(**common, items=lists)
    answer = frozenset(raw["answer"])
    if not answer or not all(0 <= i < len(lists["en"]) for i in answer) or (kind == "choice" and len(answer) != 1):
        raise BankError(f"{where}: answer must list {'one' if kind == 'choice' else 'some'} option indices")
    return Question(**common, options=lists, answer=answer)


# --- drawing an attempt -----------------------------------------------------------------


def display_order(question, rng):
    """The order in which an order question shows its items (shuffled); the identity otherwise."""
    order = list(range(question.choices if question.kind != "numeric" else 0))
    if question.kind == "order":
        while order == sorted(order) and len(order) > 1:  # never show the answer itself
            rng.shuffle(order)
    return tuple(order)


def quotas(bank, n, least=2):
    """How many questions each chapter gives to an attempt of ``n``.

    Every chapter gives at least ``least`` (if it has them); the rest is shared in proportion to what each
    chapter has left, rounded by largest remainder (ties to the earlier chapter).
    """
    sizes = {c: sum(q.chapter == c for q in bank.questions) for c in bank.chapters()}
    n = min(n, len(bank.questions))
    share = {c: min(least, size) for c, size in sizes.items()}
    spare, left = n - sum(share.values()), {c: sizes[c] - share[c] for c in sizes}
    if spare > 0:
        exact = {c: spare * left[c] / sum(left.values()) for c in sizes}
        for c in sizes:
            share[c] += math.floor(exact[c])
        for c in sorted(sizes, key=lambda c: -(exact[c] - math.floor(exact[c])))[: n - sum(share.values())]:
            share[c] += 1
    return share


def draw(bank, seed, n=DRAWN):
    """The questions of one attempt and their display orders, [(question, order), ...].

    Each chapter contributes its ``quotas`` share, sampled at random, and the questions are then
    shuffled; the same seed gives the same draw, in the same order.
    """
    rng = random.Random(seed)
    picked = []
    for chapter, k in quotas(bank, n).items():
        picked += rng.sample([q for q in bank.questions if q.chapter == chapter], k)
    rng.shuffle(picked)
    return [(q, display_order(q, rng)) for q in picked]
