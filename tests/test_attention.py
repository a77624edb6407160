"""The attention library against the loop reference, and the behaviour callers rely on."""

import warnings

import numpy as np
import pytest
from reference import reference_attention

from minimodel.attention import (
    MultiHeadAttention,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
    softmax,
)

N_RANDOM_CASES = 240


def random_case(rng):
    """Random shapes, optional batch axes (some broadcast), optional random mask."""
    T_q, T_k, d_k, d_v = (int(n) for n in rng.integers(1, 7, size=4))
    batch = tuple(int(n) for n in rng.integers(1, 4, size=rng.integers(0, 3)))
    k_batch = tuple(1 if rng.random() < 0.3 else n for n in batch)  # broadcast sometimes
    q = rng.normal(size=(*batch, T_q, d_k))
    k = rng.normal(size=(*k_batch, T_k, d_k))
    v = rng.normal(size=(*k_batch, T_k, d_v))
    kind = rng.integers(0, 3)
    mask = None
    if kind == 1:
        mask = rng.random((*batch, T_q, T_k)) < 0.6  # fully masked rows happen too
    elif kind == 2 and T_q == T_k:
        mask = causal_mask(T_q)
    return q, k, v, mask


@pytest.mark.parametrize("seed", range(N_RANDOM_CASES))
def test_matches_loop_reference(seed):
    q, k, v, mask = random_case(np.random.default_rng(seed))
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    ref_out, ref_weights = reference_attention(q, k, v, mask)
    assert out.shape == ref_out.shape and weights.shape == ref_weights.shape
    np.testing.assert_allclose(weights, ref_weights, rtol=0, atol=1e-12)
    np.testing.assert_allclose(out, ref_out, rtol=0, atol=1e-12)


def test_explicit_scale_matches_reference():
    rng = np.random.default_rng(1)
    q, k, v = rng.normal(size=(3, 5, 4)), rng.normal(size=(3, 6, 4)), rng.normal(size=(3, 6, 2))
    for scale in (1.0, 0.0, 2.5):
        out, weights = scaled_dot_product_attention(q, k, v, scale=scale)
        ref_out, ref_weights = reference_attention(q, k, v, scale=scale)
        np.testing.assert_allclose(weights, ref_weights, rtol=0, atol=1e-12)
        np.testing.assert_allclose(out, ref_out, rtol=0, atol=1e-12)


def test_softmax_of_huge_logits_is_finite_and_silent():
    for dtype in (np.float16, np.float32, np.float64):
        x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]]).astype(dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            w = softmax(x)
        assert w.dtype == dtype
        assert np.isfinite(w).all()
        np.testing.assert_allclose(w.astype(np.float64), [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], atol=1e-3)


def test_softmax_along_another_axis():
    x = np.random.default_rng(0).normal(size=(3, 4, 5))
    w = softmax(x, axis=1)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-15)
    np.testing.assert_allclose(w, np.moveaxis(softmax(np.moveaxis(x, 1, -1)), -1, 1), atol=0)
    assert np.array_equal(x, np.random.default_rng(0).normal(size=(3, 4, 5))), "input was modified"


def test_softmax_of_an_all_minus_inf_row_is_zero():
    w = softmax(np.array([[-np.inf, -np.inf], [0.0, -np.inf]]))
    assert np.array_equal(w, [[0.0, 0.0], [1.0, 0.0]])


def test_fully_masked_rows_give_zero_weights_and_zero_output():
    # Left padding + causal mask: the pad query at position 0 may attend nothing.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 4, 3))
    valid = np.array([[False, False, True, True], [True, True, True, True]])
    mask = causal_mask(4) & padding_mask(valid)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, weights = scaled_dot_product_attention(x, x, x, mask)
    assert np.array_equal(weights[0, :2], np.zeros((2, 4)))
    assert np.array_equal(out[0, :2], np.zeros((2, 3)))
    np.testing.assert_allclose(weights[0, 2:].sum(-1), 1.0)
    np.testing.assert_allclose(weights[1].sum(-1), 1.0)
    assert not np.isnan(out).any()


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_dtype_is_kept(dtype):
    rng = np.random.default_rng(0)
    q, k, v = (rng.normal(size=(5, 8)).astype(dtype) for _ in range(3))
    out, weights = scaled_dot_product_attention(q, k, v, causal_mask(5))
    assert out.dtype == dtype and weights.dtype == dtype
    mha = MultiHeadAttention(8, 2)
    out, weights = mha(q, causal_mask(5))
    assert out.dtype == dtype and weights.dtype == dtype


def test_float16_is_accumulated_in_float32():
    # 2048 keys: summing 2048 float16 weights in float16 would be off by ~1e-2;
    # computed in float32 and rounded once, every row sums to 1 within float16's eps.
    rng = np.random.default_rng(0)
    q, k, v = (rng.normal(size=(4, 2048, 16)).astype(np.float16) for _ in range(3))
    out, weights = scaled_dot_product_attention(q, k, v)
    ref_out, _ = scaled_dot_product_attention(*(a.astype(np.float64) for a in (q, k, v)))
    assert np.isfinite(out).all()
    np.testing.assert_allclose(weights.astype(np.float64).sum(-1), 1.0, atol=2e-3)
    np.testing.assert_allclose(out.astype(np.float64), ref_out, atol=4e-3)


def test_integer_input_is_computed_in_float64():
    q = np.array([[1, 0], [0, 1]])
    out, weights = scaled_dot_product_attention(q, q, q)
    assert out.dtype == np.float64
    e = np.exp(1 / np.sqrt(2))
    np.testing.assert_allclose(weights, [[e / (e + 1), 1 / (e + 1)], [1 / (e + 1), e / (e + 1)]])


def test_float32_overflow_is_an_error_not_nan():
    q = np.full((2, 4), 3e19, dtype=np.float32)  # q·k = 3.6e39 > float32 max
    with pytest.raises(ValueError, match="overflowed"):
        scaled_dot_product_attention(q, q, q)


def test_multi_head_shapes_and_normalisation():
    rng = np.random.default_rng(0)
    mha = MultiHeadAttention(12, 3, seed=4)
    x = rng.normal(size=(2, 7, 12))
    out, weights = mha(x, causal_mask(7))
    assert out.shape == (2, 7, 12)
    assert weights.shape == (2, 3, 7, 7)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-15)
    assert np.array_equal(np.triu(weights, k=1), np.zeros_like(weights)), "weight above the diagonal"
    out1, weights1 = mha(x[1], causal_mask(7))
    assert out1.shape == (7, 12) and weights1.shape == (3, 7, 7)


def test_multi_head_matches_per_head_loop_reference():
    rng = np.random.default_rng(3)
    mha = MultiHeadAttention(8, 4, seed=2)
    x = rng.normal(size=(6, 8))
    out, weights = mha(x, causal_mask(6))
    heads = []
    for h in range(4):
        cols = slice(2 * h, 2 * h + 2)
        q, k, v = x @ mha.w_q[:, cols], x @ mha.w_k[:, cols], x @ mha.w_v[:, cols]
        head_out, head_weights = reference_attention(q, k, v, causal_mask(6))
        np.testing.assert_allclose(weights[h], head_weights, rtol=0, atol=1e-12)
        heads.append(head_out)
    np.testing.assert_allclose(out, np.concatenate(heads, axis=-1) @ mha.w_o, rtol=0, atol=1e-12)


def test_parameters_are_deterministic_from_the_seed():
    a, b, c = MultiHeadAttention(16, 4, seed=7), MultiHeadAttention(16, 4, seed=7), MultiHeadAttention(16, 4)
    for name in ("w_q", "w_k", "w_v", "w_o"):
        assert getattr(a, name).shape == (16, 16)
        assert np.array_equal(getattr(a, name), getattr(b, name))
        assert not np.array_equal(getattr(a, name), getattr(c, name))
    assert len({getattr(a, n).tobytes() for n in ("w_q", "w_k", "w_v", "w_o")}) == 4


def test_inputs_are_not_modified():
    rng = np.random.default_rng(0)
    q, k, v = (rng.normal(size=(3, 4)) for _ in range(3))
    mask = causal_mask(3)
    copies = [a.copy() for a in (q, k, v, mask)]
    scaled_dot_product_attention(q, k, v, mask, scale=0.5)
    for before, after in zip(copies, (q, k, v, mask), strict=True):
        assert np.array_equal(before, after)


def test_causal_and_padding_masks():
    assert np.array_equal(causal_mask(3), [[1, 0, 0], [1, 1, 0], [1, 1, 1]])
    assert causal_mask(3).dtype == bool
    valid = np.array([[True, True, False], [False, True, True]])
    pad = padding_mask(valid)
    assert pad.shape == (2, 1, 3) and pad.dtype == bool
    both = causal_mask(3) & pad
    assert both.shape == (2, 3, 3)
    assert np.array_equal(both[0], [[1, 0, 0], [1, 1, 0], [1, 1, 0]])
    assert np.array_equal(both[1], [[0, 0, 0], [0, 1, 0], [0, 1, 1]])
    valid[0, 0] = False
    assert pad[0, 0, 0], "padding_mask must not alias its input"
