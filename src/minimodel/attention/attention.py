"""Scaled dot-product attention and multi-head attention, in NumPy.

Conventions used throughout
---------------------------
* Row vectors: a token is a row, a projection is ``x @ w``.
* Shapes: ``T_q`` queries, ``T_k`` keys and values, ``d_k`` the query/key width,
  ``d_v`` the value width. Any leading axes (``...``: batch, heads) broadcast.
* Masks are boolean and True means "may attend" (the convention of PyTorch's
  ``scaled_dot_product_attention`` and of JAX). A query whose row holds no True
  gets all-zero weights and a zero output, never NaN.
* dtype is kept: float32 in, float32 out. float16 is computed in float32 and
  returned as float16; integer input is computed in float64.

This is the naive form on purpose: the ``(..., T_q, T_k)`` weights are
materialised, so memory grows as T². Phase 27 (FlashAttention) removes that.
"""

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from minimodel.attention._validate import (
    as_float_array,
    check_mask,
    check_positive_int,
    check_qkv,
    check_scale,
    compute_dtype,
)


def softmax(x, axis=-1):
    """Softmax along ``axis``, stable for large logits; returns a new float array.

    ``-inf`` entries get weight 0; a slice that is entirely ``-inf`` gets all
    zeros (the "fully masked row" convention). NaN or ``+inf`` raise ValueError.
    """
    x = as_float_array("x", x, finite=False)
    work = np.array(np.moveaxis(x, axis, -1), dtype=compute_dtype(x.dtype), order="C")  # softmax axis last
    if work.shape[-1] == 0:
        raise ValueError(f"softmax over an empty axis is undefined: x has shape {x.shape}, axis {axis}")
    return np.moveaxis(_softmax_inplace(work), -1, axis).astype(x.dtype, copy=False)


_CORES = os.cpu_count() or 1
_POOL = ThreadPoolExecutor(max_workers=_CORES)  # threads start on first use


def _softmax_inplace(x):
    """Softmax over the last axis of the C-contiguous float array ``x``, in place."""
    rows = x.reshape(-1, x.shape[-1])  # (N, T_k), a view of x
    # np.exp runs on one core while BLAS uses all of them. Rows are independent
    # and ufuncs release the GIL, so large inputs are cut into slabs of rows
    # shared among the cores. A slab of ~1 MiB stays in cache across the five
    # passes below (max, subtract, exp, sum, divide): 5-10 % faster at T >= 512.
    if rows.size < 1 << 16 or _CORES == 1:
        _softmax_rows(rows)
    else:
        n_slabs = max(_CORES, rows.size >> 18)  # slabs of about 2**18 numbers
        list(_POOL.map(_softmax_rows, np.array_split(rows, n_slabs)))
    return x


def _softmax_rows(rows):
    # Subtracting the row maximum changes nothing mathematically (softmax is
    # shift-invariant) but keeps every exponent <= 0, so exp cannot overflow.
    row_max = rows.max(axis=-1, keepdims=True)
    if np.isnan(row_max).any() or np.isposinf(row_max).any():
        raise ValueError(
            "softmax got NaN or +inf logits: the input holds non-finite values, or the "
            "attention scores overflowed (inputs this large need a wider dtype)"
        )
    row_max[np.isneginf(row_max)] = 0.0  # all -inf: avoid -inf - (-inf) = NaN
    rows -= row_max
    np.exp(rows, out=rows)
    total = rows.sum(axis=-1, keepdims=True)
    total[total == 0] = 1.0  # an all-zero row stays all zero instead of 0/0
    rows /= total


# Overflow is reported once, as a ValueError naming the cause, instead of as
# NumPy warnings followed by NaN: the functions below check their results.
_overflow_checked = np.errstate(over="ignore", invalid="ignore")


@_overflow_checked
def scaled_dot_product_attention(q, k, v, mask=None, *, scale=None):
    """softmax(q kᵀ · scale, masked) v.

    q (..., T_q, d_k), k (..., T_k, d_k), v (..., T_k, d_v); leading axes broadcast.
    mask: boolean, broadcastable to (..., T_q, T_k), True = "may attend".
    scale: defaults to 1 / sqrt(d_k).
    Returns out (..., T_q, d_v) and weights (..., T_q, T_k), in the inputs' dtype.
    """
    q, k, v = check_qkv(q, k, v)
    if mask is not None:
        scores_shape = (*np.broadcast_shapes(q.shape[:-2], k.shape[:-2]), q.shape[-2], k.shape[-2])
        mask = check_mask(mask, scores_shape)
    out_dtype = np.result_type(q, k, v)
    work_dtype = compute_dtype(out_dtype)
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else check_scale(scale)
    q, k, v = (a.astype(work_dtype, copy=False) for a in (q, k, v))
    # Scaling q (T·d numbers) is cheaper than scaling the scores (T² numbers), and
    # the scaled copy dies with this expression. A Python float keeps float32 as
    # float32 under NumPy 2's promotion rules.
    scores = (q * scale) @ np.swapaxes(k, -1, -2)  # (..., T_q, T_k)
    if mask is not None:
        np.copyto(scores, -np.inf, where=~mask)  # in place: no second T×T array
    weights = _softmax_inplace(scores)  # (..., T_q, T_k)
    out = weights @ v  # (..., T_q, d_v)
    _check_finite(out)
    return out.astype(out_dtype, copy=False), weights.astype(out_dtype, copy=False)


def _check_finite(out):
    if not np.isfinite(out).all():
        raise ValueError(f"attention overflowed {out.dtype}: the inputs are too large for this dtype")


def causal_mask(T):
    """(T, T) boolean mask, True on and below the diagonal: query t sees keys 0..t."""
    T = check_positive_int("T", T)
    return np.tril(np.ones((T, T), dtype=bool))


def padding_mask(valid):
    """(B, 1, T) boolean key mask from a (B, T) boolean array of real (non-pad) tokens.

    Every query may attend to the real tokens of its own sequence. Combine with
    ``&``: ``causal_mask(T) & padding_mask(valid)`` has shape (B, T, T).
    """
    valid = np.asarray(valid)
    if valid.ndim != 2:
        raise ValueError(f"padding_mask needs a (B, T) array, got shape {valid.shape}")
    if valid.dtype != bool:
        raise TypeError(
            f"padding_mask needs a boolean (B, T) array (True = real token), got dtype "
            f"{valid.dtype}; for 0/1 values pass valid.astype(bool)"
        )
    return valid[:, None, :].copy()  # (B, 1, T)


class MultiHeadAttention:
    """Multi-head self-attention with H heads of width d_head = d_model / H.

    Parameters w_q, w_k, w_v, w_o are (d_model, d_model) float64 arrays used as
    ``x @ w`` (row vectors), without biases, drawn from N(0, 1/d_model) by a
    generator seeded with ``seed``: the same seed gives the same parameters.
    Head h uses columns h·d_head … (h+1)·d_head of w_q, w_k and w_v.

    Call with x (T, d_model) or (B, T, d_model) and an optional boolean mask
    broadcastable to (T, T) or (B, T, T) (True = "may attend"); the head axis is
    inserted here. Returns out (x's shape) and weights (H, T, T) or (B, H, T, T).
    """

    def __init__(self, d_model, n_heads, *, seed=0):
        d_model = check_positive_int("d_model", d_model)
        n_heads = check_positive_int("n_heads", n_heads)
        if d_model % n_heads:
            raise ValueError(f"d_model = {d_model} is not divisible by n_heads = {n_heads}")
        self.d_model, self.n_heads, self.d_head = d_model, n_heads, d_model // n_heads
        rng = np.random.default_rng(seed)
        std = 1.0 / math.sqrt(d_model)  # keeps each projected feature at the input's scale
        self.w_q, self.w_k, self.w_v, self.w_o = (
            rng.normal(0.0, std, size=(d_model, d_model)) for _ in range(4)
        )

    def __repr__(self):
        return f"MultiHeadAttention(d_model={self.d_model}, n_heads={self.n_heads})"

    @_overflow_checked
    def __call__(self, x, mask=None):
        x = as_float_array("x", x)
        if x.ndim not in (2, 3) or x.shape[-1] != self.d_model:
            raise ValueError(
                f"x must be (T, d_model) or (B, T, d_model) with d_model = {self.d_model}, "
                f"got shape {x.shape}"
            )
        unbatched = x.ndim == 2
        x3 = x[None] if unbatched else x  # (B, T, d_model)
        B, T, _ = x3.shape
        H, d_head = self.n_heads, self.d_head
        if mask is not None:
            mask = check_mask(mask, (T, T) if unbatched else (B, T, T))
            mask = np.broadcast_to(mask, (B, T, T))[:, None]  # (B, 1, T, T): same for every head
        dtype = compute_dtype(x.dtype)
        x3 = x3.astype(dtype, copy=False)

        # 1. Project every token to queries, keys and values (parameters cast to
        #    x's dtype one at a time, so the casts never pile up in memory).
        q = x3 @ self.w_q.astype(dtype, copy=False)  # (B, T, d_model)
        k = x3 @ self.w_k.astype(dtype, copy=False)  # (B, T, d_model)
        v = x3 @ self.w_v.astype(dtype, copy=False)  # (B, T, d_model)
        # 2. Split d_model into H heads of width d_head. The copy makes each head
        #    one contiguous block, which NumPy hands to BLAS directly (a strided
        #    view takes a path several times slower).
        q = np.ascontiguousarray(q.reshape(B, T, H, d_head).transpose(0, 2, 1, 3))  # (B, H, T, d_head)
        k = np.ascontiguousarray(k.reshape(B, T, H, d_head).transpose(0, 2, 1, 3))  # (B, H, T, d_head)
        v = np.ascontiguousarray(v.reshape(B, T, H, d_head).transpose(0, 2, 1, 3))  # (B, H, T, d_head)
        # 3. Attend within every head independently.
        heads, weights = scaled_dot_product_attention(q, k, v, mask)  # (B, H, T, d_head), (B, H, T, T)
        # 4. Merge the heads back side by side.
        merged = heads.transpose(0, 2, 1, 3).reshape(B, T, self.d_model)  # (B, T, d_model)
        # 5. Mix the heads with the output projection.
        out = merged @ self.w_o.astype(dtype, copy=False)  # (B, T, d_model)

        _check_finite(out)
        out, weights = out.astype(x.dtype, copy=False), weights.astype(x.dtype, copy=False)
        return (out[0], weights[0]) if unbatched else (out, weights)
