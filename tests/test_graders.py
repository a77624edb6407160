"""The graders of a learner's code: check_attention, check_multi_head and lab 02's test graders.

Each must accept a correct implementation written independently of the library,
and reject every classic mistake, built here as the learner would write it, with
one line that says what is wrong and without raising.
"""

import math

import numpy as np
import pytest

from minimodel.attention import MultiHeadAttention, causal_mask
from minimodel.attention.checks import (
    check_attention,
    check_multi_head,
    check_perturbation_test,
    check_self_test,
    multi_head_reference,
)


def one_line(capsys):
    out = capsys.readouterr().out
    assert out.count("\n") == 1, f"a grader prints exactly one line, got {out!r}"
    return out.strip()


# --- check_attention ---------------------------------------------------------------------------

def make_attention(*, scale="sqrt", axis=-1, stable=True, safe_empty=True, use_mask=True, transpose=True):
    """A learner's single-head attention; each keyword switches one classic mistake on."""
    def my_attention(q, k, v, mask=None):
        d_k = q.shape[-1]
        keys = np.swapaxes(k, -1, -2) if transpose else k
        factor = {"sqrt": 1 / math.sqrt(d_k), "none": 1.0, "d_k": 1 / d_k}[scale]
        scores = (q @ keys) * factor
        if mask is not None and use_mask:
            scores = np.where(mask, scores, -np.inf)
        top = scores.max(axis=axis, keepdims=True) if stable else 0.0
        if safe_empty and stable:
            top = np.where(np.isneginf(top), 0.0, top)
        e = np.exp(scores - top)
        total = e.sum(axis=axis, keepdims=True)
        weights = e / np.where(total == 0, 1.0, total) if safe_empty else e / total
        return weights @ v, weights
    return my_attention


def test_a_correct_attention_passes(capsys):
    assert check_attention(make_attention()) is True
    text = one_line(capsys)
    assert text.startswith("✓ my_attention agrees with scaled_dot_product_attention on all 7 cases")
    assert check_attention(lambda q, k, v, mask=None: make_attention()(q, k, v, mask)[0]) is True  # out alone
    capsys.readouterr()


@pytest.mark.parametrize("mistake, case", [
    ({"scale": "none"}, "case 1 of 7"),
    ({"scale": "d_k"}, "case 1 of 7"),
    ({"axis": -2}, "case 1 of 7"),  # softmax over the queries
    ({"stable": False}, "case 6 of 7 (logits of ±1e4"),  # exp overflows
    ({"safe_empty": False}, "case 5 of 7 (a padding mask whose rows 0 and 1 allow no key"),  # NaN rows
    ({"use_mask": False}, "case 4 of 7 (a causal mask"),
    ({"transpose": False}, "case 1 of 7"),  # K not transposed: a shape error
])
def test_classic_attention_mistakes_are_caught(capsys, mistake, case):
    assert check_attention(make_attention(**mistake)) is False
    text = one_line(capsys)
    assert text.startswith("✗ my_attention, " + case), text
    if mistake == {"transpose": False}:
        assert "raised ValueError" in text
    if mistake == {"stable": False}:
        assert "nan at index" in text


def test_float64_out_of_float32_in_is_caught(capsys):
    def widens(q, k, v, mask=None):
        out, weights = make_attention()(q, k, v, mask)
        return out.astype(np.float64), weights
    assert check_attention(widens) is False
    assert "dtype float64, expected float32" in one_line(capsys)


def test_an_unanswered_attention_is_not_answered_yet(capsys):
    def my_attention(q, k, v, mask=None):
        return ...
    assert check_attention(my_attention) is False
    assert "my_attention: not answered yet" in one_line(capsys)


# --- check_multi_head --------------------------------------------------------------------------

def make_multi_head(*, split="heads", merge="heads", scale="d_head", order=1, use_w_o=True):
    """A learner's multi-head forward from the four matrices; each keyword switches one mistake on."""
    def my_multi_head(x, w_q, w_k, w_v, w_o, n_heads):
        T, d_model = x.shape
        d_head = d_model // n_heads

        def to_heads(m):  # (T, d_model) -> (H, T, d_head)
            if split == "plain":
                return m.reshape(n_heads, T, d_head)
            return m.reshape(T, n_heads, d_head).transpose(1, 0, 2)

        q, k, v = to_heads(x @ w_q), to_heads(x @ w_k), to_heads(x @ w_v)
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(d_head if scale == "d_head" else d_model)
        e = np.exp(scores - scores.max(axis=-1, keepdims=True))
        weights = e / e.sum(axis=-1, keepdims=True)  # (H, T, T)
        heads = (weights @ v)[::order]  # (H, T, d_head)
        merged = heads.reshape(T, d_model) if merge == "plain" else heads.transpose(1, 0, 2).reshape(T, d_model)
        return (merged @ w_o if use_w_o else merged), weights
    return my_multi_head


def test_the_reference_is_the_library_layer():
    layer = MultiHeadAttention(16, 4, seed=9)
    x = np.random.default_rng(9).normal(size=(6, 16))
    out, weights = multi_head_reference(x, layer.w_q, layer.w_k, layer.w_v, layer.w_o, 4)
    lib_out, lib_weights = layer(x)
    np.testing.assert_allclose(out, lib_out, atol=1e-12)
    np.testing.assert_allclose(weights, lib_weights, atol=1e-12)


def test_a_correct_multi_head_passes(capsys):
    assert check_multi_head(make_multi_head()) is True
    assert one_line(capsys) == "✓ my_multi_head matches the per-head reference for H = 1, 2, 4, 8 and d_model = 8, 16"


@pytest.mark.parametrize("mistake", [
    {"split": "plain"}, {"merge": "plain"}, {"scale": "d_model"}, {"order": -1}, {"use_w_o": False},
])
def test_classic_multi_head_mistakes_are_caught_and_h_1_alone_cannot_see_most(capsys, mistake):
    buggy = make_multi_head(**mistake)
    assert check_multi_head(buggy) is False
    text = one_line(capsys)
    first_case = "H = 1, d_model = 8" if mistake == {"use_w_o": False} else "H = 2, d_model = 8"
    assert text.startswith(f"✗ my_multi_head, case {1 if 'use_w_o' in mistake else 3} of 8 ({first_case})"), text
    # With one head the split, the merge, the scale and the order are all trivially right.
    assert check_multi_head(buggy, heads=(1,)) is ("use_w_o" not in mistake)
    capsys.readouterr()


# --- lab 02: the learner's perturbation tests, graded against known heads ------------------------

def perturbation_test(fn, x, *, size=100.0, seed=0, only_next=False, compare=np.array_equal):
    rng = np.random.default_rng(seed)
    base = fn(x)[0]
    verdicts = np.zeros(len(x), dtype=bool)
    for t in range(len(x)):
        moved = x.copy()
        after = slice(t + 1, t + 2) if only_next else slice(t + 1, None)
        moved[after] += size * rng.normal(size=moved[after].shape)
        verdicts[t] = compare(fn(moved)[0][: t + 1], base[: t + 1])
    return verdicts


def test_a_correct_perturbation_test_passes(capsys):
    assert check_perturbation_test(perturbation_test) is True
    text = one_line(capsys)
    assert text.startswith("✓ your perturbation test accepts the correct head and rejects")
    assert "-25 instead of -inf" in text and "t + 2" in text


@pytest.mark.parametrize("variant, fooled_by", [
    ({"compare": np.allclose}, "-25 instead of -inf"),
    ({"only_next": True}, "also sees key t + 2"),
])
def test_weak_perturbation_tests_are_rejected(capsys, variant, fooled_by):
    def weak(fn, x):
        return perturbation_test(fn, x, **variant)
    assert check_perturbation_test(weak) is False
    text = one_line(capsys)
    assert text.startswith("✗ your perturbation test misjudges") and fooled_by in text


def test_the_allclose_test_that_also_moves_only_t_plus_1_is_rejected(capsys):
    # The test lab 02 used to grade ✓ ✓.
    def weakest(fn, x):
        return perturbation_test(fn, x, only_next=True, compare=np.allclose)
    assert check_perturbation_test(weakest) is False
    capsys.readouterr()


def test_a_test_that_always_says_false_is_rejected_on_the_correct_head(capsys):
    assert check_perturbation_test(lambda fn, x: np.zeros(len(x), dtype=bool)) is False
    assert "misjudges the correct causal head" in one_line(capsys)


def self_test(fn, x, *, size=100.0, seed=0, use_weights=True):
    rng = np.random.default_rng(seed)
    base, weights = fn(x)
    verdicts = np.zeros(len(x), dtype=bool)
    for t in range(len(x)):
        moved = x.copy()
        moved[t] += size * rng.normal(size=x.shape[-1])
        out_moved, weights_moved = fn(moved)
        changed = not np.array_equal(out_moved[t], base[t])
        own_weight = weights[t, t] > 0 or weights_moved[t, t] > 0
        verdicts[t] = changed and (own_weight or not use_weights)
    return verdicts


def test_a_self_test_must_read_the_weights_to_catch_no_self_from_position_2(capsys):
    assert check_self_test(self_test) is True
    assert one_line(capsys).startswith("✓ your self-test accepts the correct head")

    def outputs_only(fn, x):
        return self_test(fn, x, use_weights=False)
    assert check_self_test(outputs_only) is False
    text = one_line(capsys)
    assert "misjudges the head without its diagonal" in text and "wrong at" in text


def test_an_unanswered_or_crashing_test_never_raises(capsys):
    def unanswered(fn, x, *, size=100.0, seed=0):
        return ...
    assert check_perturbation_test(unanswered) is False
    assert "not answered yet" in one_line(capsys)

    def crashes(fn, x):
        return fn(x)[0][len(x) + 5]
    assert check_self_test(crashes) is False
    assert one_line(capsys).startswith("✗ your self-test raised IndexError")
    assert check_self_test(lambda fn, x: np.ones(3, dtype=bool)) is False
    assert "shape (3,) given, (8,) expected" in one_line(capsys)


def test_the_causal_mask_is_what_the_graders_call_correct():
    from minimodel.attention.checks import _lab02_heads

    x, heads = _lab02_heads()
    _, weights = next(iter(heads.values()))(x)
    assert np.array_equal(weights > 0, causal_mask(len(x)))
