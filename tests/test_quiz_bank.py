"""Quiz 15's content: coverage, no length cue, no giveaways, every numeric answer recomputed, Spanish style.

The statistics these tests compute are printed with ``pytest -s``, e.g. the length cue per language.
"""

import math
import re
import statistics

import numpy as np
import pytest

from minimodel.attention import MultiHeadAttention, causal_mask, scaled_dot_product_attention
from minimodel.attention.bench import step_costs
from minimodel.quiz import LANGUAGES, decimals_for, format_number, load_bank

BANK = load_bank(15)
CHAPTERS = ("theory/00-motivation", "theory/01-query-key-value", "theory/02-scaled-dot-product",
            "theory/03-multi-head", "theory/04-masking", "lab/02-causal-mask", "lab/03-attention-perf")
CUE_LIMIT = 0.30  # the right option may be the longest (or the shortest) in at most 30 % of single-answer questions


def question(qid):
    return next(q for q in BANK.questions if q.id == qid)


def texts(q, langs=LANGUAGES):
    """Everything a learner reads of ``q``: prompt, options or items, explanation."""
    return [t for lang in langs for t in (q.prompt[lang], q.explanation[lang], *q.options.get(lang, ()),
                                          *q.items.get(lang, ()))]


# --- size and coverage --------------------------------------------------------------------


def test_the_bank_has_at_least_45_questions_over_the_five_chapters_and_two_labs():
    assert len(BANK.questions) >= 45
    assert BANK.chapters() == sorted(CHAPTERS)
    for chapter in CHAPTERS:
        assert sum(q.chapter == chapter for q in BANK.questions) >= 4, chapter
    for chapter in CHAPTERS[:5]:
        kinds = {q.kind for q in BANK.questions if q.chapter == chapter}
        assert {"choice", "multi", "numeric"} <= kinds, chapter


def test_every_page_a_learner_is_sent_back_to_exists():
    from minimodel.quiz import repository_root

    for chapter in CHAPTERS:
        assert (repository_root() / f"{chapter}.md").is_file(), chapter


@pytest.mark.parametrize("qid, words", [
    ("perturbation-test-compares-bits", ["np.array_equal"]),
    ("self-test-closes-the-blind-spot", ["0…t − 1", "self-test"]),
    ("ridge-point", ["roofline"]),
    ("qk-intensity-limit", ["intensity"]),
    ("weights-at-32k-tokens", ["32768"]),
    ("softmax-is-memory-bound", ["roofline"]),
    ("what-flashattention-saves", ["FlashAttention"]),
    ("the-equation-among-near-misses", []),
    ("output-through-the-values", ["v_1"]),
    ("output-shape", ["(7, 3)"]),
    ("why-exp-and-normalise", ["argmax"]),
    ("one-wide-head-against-narrow-heads", ["MultiHeadAttention(16, 1"]),
])
def test_the_topics_the_issue_asks_for_are_examined(qid, words):
    q = question(qid)
    assert all(word in q.prompt["en"] for word in words), qid


def test_the_equation_is_asked_among_its_near_misses():
    q = question("the-equation-among-near-misses")
    right = q.options["en"][next(iter(q.answer))]
    assert right.startswith("softmax(QKᵀ/√d_k)·V") and "row" in right
    wrong = " ".join(o for i, o in enumerate(q.options["en"]) if i not in q.answer)
    for near_miss in ("QᵀK", "QKᵀ/d_k)", "column", "V·softmax"):
        assert near_miss in wrong


# --- no cue from the shape of the options -------------------------------------------------


def length_cue(lang, extreme=max):
    """The share of single-answer questions whose right option is the longest (or, with min, the shortest)
    of its options, ties included."""
    choice = [q for q in BANK.questions if q.kind == "choice"]
    cued = [q.id for q in choice
            if len(q.options[lang][next(iter(q.answer))]) == extreme(len(o) for o in q.options[lang])]
    return len(cued) / len(choice), cued


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_right_option_is_rarely_the_longest_or_the_shortest(lang):
    longest, cued = length_cue(lang, max)
    shortest, short = length_cue(lang, min)
    print(f"\n{lang}: right option longest in {longest:.0%} {cued}, shortest in {shortest:.0%} {short}")
    assert longest <= CUE_LIMIT and shortest <= CUE_LIMIT


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_right_option_is_about_as_long_as_the_distractors(lang):
    ratios = []
    for q in (q for q in BANK.questions if q.kind == "choice"):
        right = len(q.options[lang][next(iter(q.answer))])
        ratios.append(right / statistics.mean(len(o) for i, o in enumerate(q.options[lang]) if i not in q.answer))
    print(f"\n{lang}: right length / mean distractor length, median {statistics.median(ratios):.2f}")
    assert 0.8 <= statistics.median(ratios) <= 1.2


def test_picking_by_length_fails_even_with_every_number_and_order_known():
    """The gaming strategy of the issue: the longest (or shortest) option, plus every numeric and order answer."""
    for extreme in (max, min):
        right = 0
        for q in BANK.questions:
            if q.kind in ("numeric", "order"):
                right += 1
            else:
                lengths = [len(o) for o in q.options["en"]]
                right += q.answer == {lengths.index(extreme(lengths))}
        assert right / len(BANK.questions) < BANK.pass_fraction - 0.15, (extreme.__name__, right)


def test_the_right_letters_are_spread_and_multi_answers_use_every_count():
    choice = [next(iter(q.answer)) for q in BANK.questions if q.kind == "choice"]
    shares = [choice.count(i) / len(choice) for i in range(4)]
    assert max(shares) <= 0.35 and min(shares) >= 0.1, shares
    counts = {len(q.answer) for q in BANK.questions if q.kind == "multi"}
    assert {1, 2, 3, 4} <= counts, counts
    assert all(len(q.answer) < q.choices for q in BANK.questions if q.kind == "multi")  # never "all of them"


# --- no giveaways -------------------------------------------------------------------------


def answer_forms(q):
    """How a numeric answer would look in another question's text, in either language."""
    places = decimals_for(q)
    forms = {format_number(q.answer, k, lang) for lang in LANGUAGES for k in (places, places + 1)}
    if q.answer == int(q.answer):
        forms |= {format_number(q.answer, 0, lang) for lang in LANGUAGES}
    return forms | {form.replace(" ", "") for form in forms}


def test_no_question_gives_away_another_questions_numeric_answer_or_formula():
    found = []
    for q in (q for q in BANK.questions if q.kind == "numeric"):
        numbers = [re.compile(rf"(?<![\w.,])(?<!\d ){re.escape(form)}(?![\w]|[.,]\d| \d)") for form in answer_forms(q)]
        for other in (o for o in BANK.questions if o is not q):
            for text in texts(other):
                found += [(q.id, other.id, p.pattern) for p in numbers if p.search(text)]
                found += [(q.id, other.id, g) for g in q.giveaways if g in text]
    assert not found


def test_the_giveaways_the_issue_names_are_gone():
    everything = " ".join(t for q in BANK.questions for t in texts(q))
    assert "variance d_k" not in everything
    assert "4·d_model²" not in " ".join(t for q in BANK.questions if q.id != "mha-parameter-count-with-biases"
                                        for t in texts(q))
    for qid in ("what-multi-head-buys", "what-grows-with-h"):
        assert "d_model/H" not in question(qid).prompt["en"]


def test_the_hardened_numeric_questions_differ_from_the_chapters_worked_numbers():
    assert "variance 2" in question("variance-of-q-dot-k").prompt["en"]  # unequal variances
    assert "bias" in question("mha-parameter-count-with-biases").prompt["en"]
    assert "432" in question("per-head-scale").prompt["en"]  # not the chapters' 512/8 or 16/4


# --- every numeric answer, recomputed -----------------------------------------------------


def rnn_factor():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(16, 16))
    w = (a + a.T) / 2
    w *= 0.95 / np.max(np.abs(np.linalg.eigvalsh(w)))  # spectral radius 0.95; symmetric, so geometric at once
    norm = lambda n: np.linalg.norm(np.linalg.matrix_power(w, n), 2)  # noqa: E731
    return norm(80) / norm(40)


def through_the_values():
    q = np.array([[1.5, 0, 0, 0, 0, 0, 0, 0, 0]])  # (1, 9)
    k = np.zeros((2, 9))
    k[0, 0] = 3.0  # q·k_1 = 4.5, q·k_2 = 0
    v = np.array([[2.0, 5.0], [-2.0, 1.0]])
    out, _ = scaled_dot_product_attention(q, k, v)
    return out[0, 0]


def variance_of_q_dot_k():
    rng = np.random.default_rng(0)
    q = rng.normal(0, math.sqrt(2.0), size=(200_000, 32))
    k = rng.normal(0, math.sqrt(1.5), size=(200_000, 32))
    sampled = np.var(np.sum(q * k, axis=1))
    assert sampled == pytest.approx(32 * 2.0 * 1.5, rel=0.02)  # the sum of 32 variances of 2 · 1.5
    return 32 * 2.0 * 1.5


def two_token_weight():
    q = np.array([[1.0, 1.0, 0.0, 0.0]])
    k = np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, -1.0]])  # q·k_1 = 2, q·k_2 = 0, d_k = 4
    return scaled_dot_product_attention(q, k, np.eye(2))[1][0, 0]


def per_head_scale():
    layer = MultiHeadAttention(432, 6)
    return 1 / math.sqrt(layer.d_head)


def parameters_with_biases():
    layer = MultiHeadAttention(256, 8)
    matrices = sum(w.size for w in (layer.w_q, layer.w_k, layer.w_v, layer.w_o))
    return matrices + 4 * 256


def crossover(d=384):
    def attention(T):
        return step_costs(T, d, 8)["QKᵀ"][0] + step_costs(T, d, 8)["weights·V"][0]

    return next(T for T in range(1, 8 * d) if attention(T) >= step_costs(T, d, 8)["projections"][0])


def causal_weight():
    q = np.array([[0.0, 0.0, 0.0], [0.5, 1.5, 4.0], [0.0, 0.0, 0.0]])  # row 1 scores = q_1 · e_j
    _, weights = scaled_dot_product_attention(q, np.eye(3), np.eye(3), causal_mask(3), scale=1.0)
    return weights[1, 0]


def qk_intensity():
    flops, moved = step_costs(10**9, 720, 10)["QKᵀ"]
    return flops / moved


def weights_gib_32k():
    T = 64
    x = np.random.default_rng(0).normal(size=(T, 24)).astype(np.float32)
    _, weights = MultiHeadAttention(24, 12)(x)
    assert weights.shape == (12, T, T) and weights.dtype == np.float32
    return weights.nbytes * (32768 // T) ** 2 / 2**30


def flash_ratio(N=16384, d=128, M=131072):
    return (N * d + N * N) / (N * N * d * d / M)


COMPUTED = {
    "gradient-factor-over-forty-steps": rnn_factor,
    "output-through-the-values": through_the_values,
    "variance-of-q-dot-k": variance_of_q_dot_k,
    "two-token-softmax-by-hand": two_token_weight,
    "per-head-scale": per_head_scale,
    "mha-parameter-count-with-biases": parameters_with_biases,
    "flop-crossover-length": crossover,
    "causal-row-weight-by-hand": causal_weight,
    "allowed-pairs-under-a-causal-mask": lambda: int(causal_mask(12).sum()),
    "ridge-point": lambda: 390 / 15,
    "qk-intensity-limit": qk_intensity,
    "weights-at-32k-tokens": weights_gib_32k,
    "flashattention-access-ratio": flash_ratio,
}


def test_every_numeric_question_has_a_computation():
    assert set(COMPUTED) == {q.id for q in BANK.questions if q.kind == "numeric"}


@pytest.mark.parametrize("qid", sorted(COMPUTED))
def test_the_numeric_answer_is_what_numpy_and_the_library_compute(qid):
    q = question(qid)
    computed = float(COMPUTED[qid]())
    assert abs(computed - q.answer) <= q.tolerance / 5, (computed, q.answer)
    # the number the explanation quotes is the answer, rounded as the answer is shown
    shown = format_number(computed, decimals_for(q), "en")
    assert shown in q.explanation["en"] or shown.replace(" ", "") in q.explanation["en"], shown
    assert format_number(computed, decimals_for(q), "es") in q.explanation["es"]


def test_float64_exp_underflows_near_745_as_the_masking_item_says():
    assert np.exp(-745.0) > 0 and np.exp(-746.0) == 0
    assert np.float16(np.exp(-18.0)) == 0 and np.float16(np.exp(-16.0)) > 0
    explanation = question("renormalising-is-not-enough").explanation
    assert "745" in explanation["en"] and "745" in explanation["es"] and "800" not in explanation["en"]


# --- the ambiguous items of the issue, fixed ----------------------------------------------


def test_the_ambiguous_items_are_qualified():
    for qid in ("temperature-limits", "unscaled-wide-softmax"):
        assert "unique largest score" in question(qid).prompt["en"]
    assert "unmasked" in question("swapping-tokens-without-positions").prompt["en"]
    assert "Unmasked" in question("why-attention-fixes-both-problems").options["en"][4]
    assert "Haviv" in question("swapping-tokens-without-positions").explanation["en"]
    for qid in ("rnn-gradient-fades-geometrically", "gradient-factor-over-forty-steps"):
        assert "small activations (D_s ≈ I)" in question(qid).prompt["en"]
        assert "activaciones pequeñas (D_s ≈ I)" in question(qid).prompt["es"]
    nearest = question("no-content-query-finds-the-nearest-subject")
    assert "nearest subject" in nearest.prompt["en"] and "does give `he`" in nearest.prompt["en"]
    assert not any(q.id == "content-only-query-cannot-pick-he" for q in BANK.questions)


# --- Spanish ------------------------------------------------------------------------------


def spanish_texts():
    for q in BANK.questions:
        for text in texts(q, ("es",)):
            yield q.id, re.sub(r"`[^`]*`", "", text)  # code spans keep Python's decimal point


def test_spanish_uses_the_decimal_comma_and_groups_thousands_with_a_space():
    dotted = [(qid, m.group()) for qid, t in spanish_texts() for m in re.finditer(r"\d\.\d", t)]
    long_numbers = [(qid, m.group()) for qid, t in spanish_texts() for m in re.finditer(r"\d{5,}", t)]
    assert not dotted and not long_numbers, (dotted, long_numbers)


def test_spanish_wording():
    everything = " ".join(t for _, t in spanish_texts())
    for wrong in ("multiplicaciones-sumas", "el enmascarado", "Marca todas las que", "los atiende"):
        assert wrong not in everything, wrong
    for q in (q for q in BANK.questions if q.kind == "multi"):
        assert q.prompt["es"].endswith("Marca todas las opciones correctas."), q.id
        assert q.prompt["en"].endswith("Select all that apply."), q.id
    assert "enmascaramiento" in everything and "atiende a" in everything
    for q in BANK.questions:
        for text in (q.prompt, q.explanation):
            assert text["en"].strip() and text["es"].strip() and text["en"] != text["es"], q.id


def test_the_readme_states_the_banks_size():
    from minimodel.quiz import repository_root

    readme = (repository_root() / "README.md").read_text(encoding="utf-8")
    assert f"holds {len(BANK.questions)} questions" in readme
