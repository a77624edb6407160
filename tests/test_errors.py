"""Every bad input raises ValueError or TypeError with a message that names the problem."""

import re

import numpy as np
import pytest

from minimodel.attention import (
    MultiHeadAttention,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
    softmax,
)

rng = np.random.default_rng(0)
Q, K, V = rng.normal(size=(4, 8)), rng.normal(size=(5, 8)), rng.normal(size=(5, 3))
X = rng.normal(size=(6, 16))


def with_value(a, value):
    """A copy of ``a`` with one entry replaced by ``value``."""
    a = a.copy()
    a.flat[1] = value
    return a


def raises(error, *fragments):
    """pytest.raises that also requires every fragment (literal text) in the message."""
    return pytest.raises(error, match="".join(f"(?=.*{re.escape(f)})" for f in fragments))


@pytest.mark.parametrize(
    ("args", "error", "fragments"),
    [
        ((Q[0], K, V), ValueError, ["q", "at least 2 axes", "(8,)"]),
        ((Q, K[0], V), ValueError, ["k", "(8,)"]),
        ((Q, K, V[0]), ValueError, ["v", "(3,)"]),
        ((Q, K[:, :6], V), ValueError, ["d_k", "(4, 8)", "(5, 6)"]),
        ((Q, K, V[:4]), ValueError, ["T_k", "(5, 8)", "(4, 3)"]),
        ((Q[None].repeat(2, 0), K[None].repeat(3, 0), V), ValueError, ["do not broadcast", "(2, 4, 8)", "(3, 5, 8)"]),
        ((Q[:0], K, V), ValueError, ["empty", "(0, 8)"]),
        ((Q, K[:, :0], V), ValueError, ["empty", "(5, 0)"]),
        ((Q + 1j, K, V), TypeError, ["q", "complex"]),
        ((np.array([["a", "b"]]), K, V), TypeError, ["q", "real numbers", "<U1"]),
        ((Q, np.array([[None]]), V), TypeError, ["k", "real numbers", "object"]),
        ((Q > 0, K, V), TypeError, ["q", "bool"]),
        ((with_value(Q, np.nan), K, V), ValueError, ["q", "NaN"]),
        ((Q, K, with_value(V, -np.inf)), ValueError, ["v", "infinite"]),
    ],
)
def test_bad_q_k_v(args, error, fragments):
    with raises(error, *fragments):
        scaled_dot_product_attention(*args)


@pytest.mark.parametrize(
    ("mask", "error", "fragments"),
    [
        (np.ones((4, 4), dtype=bool), ValueError, ["mask", "(4, 4)", "(4, 5)"]),
        (np.ones((3, 4, 5), dtype=bool), ValueError, ["mask", "(3, 4, 5)", "(4, 5)"]),
        (np.ones((4, 5)), TypeError, ["boolean", "float64", "mask.astype(bool)", "additive"]),
        (np.ones((4, 5), dtype=np.int8), TypeError, ["boolean", "int8", "mask.astype(bool)"]),
        (np.zeros((4, 5), dtype=np.float32), TypeError, ["additive float mask", "(mask == 0)"]),
    ],
)
def test_bad_mask(mask, error, fragments):
    with raises(error, *fragments):
        scaled_dot_product_attention(Q, K, V, mask)


@pytest.mark.parametrize(
    ("scale", "error", "fragments"),
    [("2", TypeError, ["scale", "str"]), (True, TypeError, ["scale", "bool"]), (np.nan, ValueError, ["scale", "nan"])],
)
def test_bad_scale(scale, error, fragments):
    with raises(error, *fragments):
        scaled_dot_product_attention(Q, K, V, scale=scale)


@pytest.mark.parametrize(
    ("args", "error", "fragments"),
    [
        ((10, 3), ValueError, ["d_model = 10", "n_heads = 3", "divisible"]),
        ((0, 1), ValueError, ["d_model", "positive", "0"]),
        ((8, -2), ValueError, ["n_heads", "positive", "-2"]),
        ((8.0, 2), TypeError, ["d_model", "integer", "8.0"]),
        ((8, "2"), TypeError, ["n_heads", "integer", "'2'"]),
        ((True, 1), TypeError, ["d_model", "integer", "True"]),
    ],
)
def test_bad_multi_head_sizes(args, error, fragments):
    with raises(error, *fragments):
        MultiHeadAttention(*args)


@pytest.mark.parametrize(
    ("x", "mask", "error", "fragments"),
    [
        (X[:, :12], None, ValueError, ["d_model = 16", "(6, 12)"]),
        (X[0], None, ValueError, ["(T, d_model)", "(16,)"]),
        (X[None, None], None, ValueError, ["(B, T, d_model)", "(1, 1, 6, 16)"]),
        (X.astype(complex), None, TypeError, ["x", "complex"]),
        (X.astype(str), None, TypeError, ["x", "real numbers"]),
        (with_value(X, np.nan), None, ValueError, ["x", "NaN"]),
        (X, causal_mask(5), ValueError, ["mask", "(5, 5)", "(6, 6)"]),
        (X, np.tril(np.ones((6, 6))), TypeError, ["boolean", "mask.astype(bool)"]),
        (X[None].repeat(2, 0), np.ones((3, 6, 6), dtype=bool), ValueError, ["mask", "(3, 6, 6)", "(2, 6, 6)"]),
    ],
)
def test_bad_multi_head_input(x, mask, error, fragments):
    with raises(error, *fragments):
        MultiHeadAttention(16, 4)(x, mask)


@pytest.mark.parametrize(
    ("T", "error", "fragments"),
    [(0, ValueError, ["T", "positive", "0"]), (-3, ValueError, ["T", "-3"]), (2.5, TypeError, ["T", "integer", "2.5"]),
     ("4", TypeError, ["T", "integer"]), (True, TypeError, ["T", "integer"])],
)
def test_bad_causal_mask_size(T, error, fragments):
    with raises(error, *fragments):
        causal_mask(T)


def test_causal_mask_accepts_numpy_integers():
    assert causal_mask(np.int64(3)).shape == (3, 3)


@pytest.mark.parametrize(
    ("valid", "error", "fragments"),
    [
        (np.ones(5, dtype=bool), ValueError, ["(B, T)", "(5,)"]),
        (np.ones((2, 1, 5), dtype=bool), ValueError, ["(B, T)", "(2, 1, 5)"]),
        (np.ones((2, 5), dtype=int), TypeError, ["boolean", "int64", "valid.astype(bool)"]),
    ],
)
def test_bad_padding_mask_input(valid, error, fragments):
    with raises(error, *fragments):
        padding_mask(valid)


@pytest.mark.parametrize(
    ("x", "kwargs", "error", "fragments"),
    [
        (np.array([1.0, np.nan]), {}, ValueError, ["NaN", "+inf"]),
        (np.array([1.0, np.inf]), {}, ValueError, ["+inf"]),
        (np.zeros((3, 0)), {}, ValueError, ["empty axis", "(3, 0)"]),
        (np.zeros((3, 4)), {"axis": 2}, ValueError, ["axis 2", "out of bounds"]),
        (np.array([1 + 2j]), {}, TypeError, ["complex"]),
    ],
)
def test_bad_softmax_input(x, kwargs, error, fragments):
    with raises(error, *fragments):
        softmax(x, **kwargs)
