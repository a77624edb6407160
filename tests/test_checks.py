"""check_causal, check_shape, check_answer: they pass correct code and catch real bugs.

Every broken layer below is written out here, on purpose, as a later phase might
get it wrong; the test says which half of the check must catch it.
"""

import math

import numpy as np
import pytest

from minimodel.attention import MultiHeadAttention, causal_mask, scaled_dot_product_attention, softmax
from minimodel.attention.checks import CausalResult, check_answer, check_causal, check_shape


def self_attention(mask_of_T, gain=1.0):
    """Q = K = V = gain·x with the mask mask_of_T(T); returns (out, weights) like the library."""
    def attend(x):
        y = gain * x
        return scaled_dot_product_attention(y, y, y, mask_of_T(x.shape[-2]))
    return attend


def outputs_only(fn):
    return lambda x: fn(x)[0]


def shifted(k):
    return lambda T: np.tril(np.ones((T, T), dtype=bool), k=k)


# --- must pass ------------------------------------------------------------------------------

@pytest.mark.parametrize("gain", [1.0, 10.0, 100.0])
def test_the_library_passes_even_when_its_softmax_saturates(gain):
    fn = self_attention(causal_mask, gain)
    _, weights = fn(np.random.default_rng(0).normal(size=(8, 4)))
    if gain == 100.0:  # saturated indeed: rows are one-hot to the last bit
        assert np.isin(weights, (0.0, 1.0)).mean() > 0.9
    result = check_causal(fn)
    assert result and result.passed and isinstance(result, CausalResult), result
    assert check_causal(outputs_only(fn)), "outputs alone must pass too"


@pytest.mark.parametrize("gain, seed", [(10.0, 1), (10.0, 14), (100.0, 2), (100.0, 8)])
def test_multi_head_attention_passes_on_saturating_inputs(gain, seed):
    # Seeds at which the single-change self test of earlier versions said "does not see itself".
    mha = MultiHeadAttention(8, 2, seed=3)
    assert check_causal(lambda x: mha(gain * x, causal_mask(x.shape[-2])), d=8, seed=seed)


def test_multi_head_attention_passes_in_a_batch():
    mha = MultiHeadAttention(8, 2, seed=3)
    result = check_causal(lambda x: mha(x, causal_mask(x.shape[-2])), d=8, batch=3)
    assert result and "3 items of a batch never see each other" in result.reason and str(result).startswith("✓")


def test_the_old_single_length_call_still_works():
    assert check_causal(self_attention(causal_mask), d=4, lengths=(8,), seed=1)


# --- must be caught ---------------------------------------------------------------------------

def test_no_mask_is_caught_by_the_future_half():
    result = check_causal(self_attention(lambda T: None))
    assert not result and result.reason.startswith("T = 2, future half")
    assert "after position 0 changed the output at position 0" in result.reason
    assert str(result).startswith("✗ NOT causal: T = 2")


def test_a_diagonal_shifted_one_step_ahead_is_caught():
    result = check_causal(outputs_only(self_attention(shifted(1))))
    assert not result
    assert "T = 2, future half: moving the tokens after position 0 changed the output at position 0" in result.reason


def test_unmasked_returned_weights_are_caught_although_the_outputs_are_causal():
    def layer(x):
        out, _ = scaled_dot_product_attention(x, x, x, causal_mask(len(x)))
        _, open_weights = scaled_dot_product_attention(x, x, x)  # the bug: weights of the unmasked scores
        return out, open_weights

    assert check_causal(outputs_only(layer)), "the outputs alone are causal"
    result = check_causal(layer)
    assert not result and "T = 2, future half" in result.reason and "weights" in result.reason


def test_a_mask_buffer_of_8_that_is_open_beyond_8_is_caught_at_33():
    buffer = np.tril(np.ones((8, 8), dtype=bool))  # registered once, as in many GPT codes

    def mask(T):
        full = np.ones((T, T), dtype=bool)  # the bug: what the buffer does not cover stays open
        n = min(T, 8)
        full[:n, :n] = buffer[:n, :n]
        return full

    assert check_causal(self_attention(mask), lengths=(1, 2, 8)), "a test at T <= 8 cannot see it"
    result = check_causal(self_attention(mask))
    assert not result and result.reason.startswith("T = 33, future half")
    assert "after position 0 changed the output at position 0" in result.reason


def test_a_batch_packed_into_one_causal_sequence_is_caught_by_the_batch_half():
    def packed(x):
        B, T, d = x.shape
        flat = x.reshape(1, B * T, d)  # the bug: item b sees every item before it
        out, _ = scaled_dot_product_attention(flat, flat, flat, causal_mask(B * T))
        return out.reshape(B, T, d)

    assert check_causal(lambda x: packed(x[None])[0]), "one sequence at a time it is causal"
    result = check_causal(packed, batch=3)
    assert not result and "batch half: moving the tokens of item 0 changed the output of item 1" in result.reason


def test_items_of_a_batch_must_not_see_each_other_through_the_weights_either():
    def mixes_weights(x):
        out, weights = scaled_dot_product_attention(x, x, x, causal_mask(x.shape[-2]))
        return out, np.broadcast_to(weights.mean(axis=0), weights.shape)  # the bug: weights averaged over the batch

    result = check_causal(mixes_weights, batch=2)
    assert not result and "batch half" in result.reason and "returned weights of item 1" in result.reason


def test_no_self_mask_is_caught_by_the_present_half():
    result = check_causal(self_attention(shifted(-1)))
    assert not result and result.reason.startswith("T = 1, present half")
    assert "token 0" in result.reason and "does not see itself" in result.reason


def test_no_self_for_t_from_2_on_is_caught_through_the_weights():
    def mask(T):
        m = causal_mask(T)
        m[np.arange(2, T), np.arange(2, T)] = False  # the bug: the diagonal goes missing from position 2 on
        return m

    result = check_causal(self_attention(mask))
    assert not result and result.reason.startswith("T = 8, present half: position 2 gives its own token zero weight")


def test_a_layer_that_zeroes_its_own_weight_is_caught():
    def layer(x):
        T = len(x)
        weights = softmax(np.where(causal_mask(T), x @ x.T / 2.0, -np.inf))
        weights[np.arange(T), np.arange(T)] = 0.0  # the bug: "a token should not attend to itself"
        return weights @ x, weights

    result = check_causal(layer)
    assert not result and result.reason.startswith("T = 1, present half") and "token 0" in result.reason
    assert not check_causal(outputs_only(layer)), "row 0 is all zeros: the output half sees it too"


def test_multi_head_no_self_in_one_head_only_is_caught():
    mha = MultiHeadAttention(8, 2, seed=1)

    def layer(x):
        out, weights = mha(x, causal_mask(x.shape[-2]))
        weights = weights.copy()
        if weights.shape[-1] > 3:
            weights[..., 1, 3, 3] = 0.0  # head 1 forgets itself at position 3 (in the returned weights)
        return out, weights

    result = check_causal(layer, d=8, batch=2)
    assert not result and "position 3 gives its own token zero weight" in result.reason
    assert "[0, 1, 3, 3]" in result.reason


def test_a_leak_late_in_a_long_sequence_is_found_with_its_position():
    def leaks_at_20(T):
        mask = causal_mask(T)
        if T > 21:
            mask[20, 21] = True  # only position 20 peeks at 21
        return mask
    result = check_causal(self_attention(leaks_at_20))
    assert not result
    assert "query 20 a nonzero weight on the future key 21" in result.reason and "T = 33, future" in result.reason
    result = check_causal(outputs_only(self_attention(leaks_at_20)))
    assert not result
    assert "T = 33, future half: moving the tokens after position 20 changed the output at position 20" in result.reason


def test_a_leak_of_1e_minus_11_is_caught_because_the_comparison_is_exact():
    def leaky(x):
        scores = x @ x.T / 2.0
        weights = softmax(np.where(causal_mask(len(x)), scores, scores.min() - 25.0))
        return weights @ x

    result = check_causal(leaky)
    assert not result and "future half" in result.reason


def test_a_function_that_raises_or_returns_the_wrong_shape_is_a_failure_not_a_crash():
    result = check_causal(lambda x: x.sum())
    assert not result and "outputs must have shape (1,)" in result.reason
    mha = MultiHeadAttention(8, 2)
    result = check_causal(lambda x: mha(x), d=4)
    assert not result and "raised ValueError" in result.reason and "d_model = 8" in result.reason
    result = check_causal(lambda x: (x, np.ones((len(x), 2))))
    assert not result and "weights must have shape" in result.reason


def test_a_random_function_is_reported_as_non_deterministic():
    rng = np.random.default_rng(0)
    result = check_causal(lambda x: x + rng.normal(size=x.shape))
    assert not result and "two different results for the same x" in result.reason


def test_bad_arguments_to_check_causal_are_errors():
    with pytest.raises(ValueError, match="d must be a positive integer"):
        check_causal(lambda x: x, d=0)
    with pytest.raises(ValueError, match="every length"):
        check_causal(lambda x: x, lengths=(8, 2.5))
    with pytest.raises(ValueError, match="batch"):
        check_causal(lambda x: x, batch=True)


# --- check_shape and check_answer --------------------------------------------------------------

def test_check_shape():
    a = np.zeros((2, 3))
    assert check_shape(a, (2, 3)) is a
    with pytest.raises(AssertionError, match=r"weights has shape \(2, 3\), expected \(3, 2\)"):
        check_shape(a, (3, 2), "weights")


def line(capsys):
    out = capsys.readouterr().out
    assert out.count("\n") == 1, f"one line per check, got {out!r}"
    return out.strip()


def test_check_answer_marks_right_open_and_wrong_answers_without_raising(capsys):
    assert check_answer("w", ..., [1.0, 2.0]) is False
    assert "not answered yet" in line(capsys)
    assert check_answer("w", [1.0, 2.0 + 1e-7], [1.0, 2.0]) is True
    assert line(capsys) == "✓ w matches (largest difference 1.0e-07)"
    assert check_answer("w", [[1.0, 2.0], [3.0, 4.5]], [[1.0, 2.0], [3.0, 4.0]]) is False
    assert line(capsys) == "✗ w: worst entry at index (1, 1): expected 4, given 4.5, relative error 1.2e-01"
    assert check_answer("w", [1.0, 2.0, 3.0], [1.0, 2.0]) is False
    assert line(capsys) == "✗ w: shape (3,) given, (2,) expected"
    assert check_answer("w", [np.nan, 2.0], [1.0, 2.0]) is False
    assert line(capsys) == "✗ w: nan at index 0, expected 1"
    assert check_answer("n", 35, 36) is False
    assert line(capsys) == "✗ n: expected 36, given 35, relative error 2.8e-02"
    assert check_answer("w", "0.5", 0.5) is False
    assert "not a number" in line(capsys)
    assert check_answer("w", [[1, 2], [3]], [[1, 2], [3, 4]]) is False
    assert "cannot be read as an array" in line(capsys)


def test_check_answer_lists_the_wrong_positions_of_a_boolean_answer(capsys):
    expected = causal_mask(4)
    given = expected.copy()
    given[0, 1] = given[2, 3] = True
    assert check_answer("mask", given, expected) is False
    assert line(capsys) == "✗ mask: wrong at 2 of 16 positions: (0, 1), (2, 3) (at (0, 1) expected False, given True)"
    assert check_answer("mask", expected, expected) is True


def test_paper_answers_to_4_decimals_pass_with_a_note_and_5_decimals_of_e_too(capsys):
    weights = [[1 / (1 + math.exp(-1)), 1 / (1 + math.exp(1))], [1 / (1 + math.exp(-1.5)), 1 / (1 + math.exp(1.5))]]
    assert check_answer("weights", np.round(weights, 4), weights) is True
    text = line(capsys)
    assert text.startswith("✓ weights matches to 4 decimals") and "exact expression" in text
    e = 2.71828  # the lab's hint
    assert check_answer("row sums", [e + 1, e**2 + e**0.5], [math.e + 1, math.e**2 + math.exp(0.5)]) is True
    capsys.readouterr()
    assert check_answer("weights", np.round(weights, 3), weights) is False  # 3 decimals are not enough
    assert line(capsys).endswith("close: round only the final answer, or type an exact expression")
    assert check_answer("weights", np.round(weights, 4), weights, decimals=None) is False
    capsys.readouterr()
