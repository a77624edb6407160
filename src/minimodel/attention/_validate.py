"""Input checks shared by the attention functions.

Kept apart from ``attention.py`` so that the mechanism reads in one sitting;
every check raises ValueError or TypeError with a message that names the
offending argument, its shape or its value.
"""

import numbers

import numpy as np


def as_float_array(name, a, *, finite=True):
    """``a`` as a real floating array (integers become float64); reject anything else."""
    a = np.asarray(a)
    if a.dtype.kind == "c":
        raise TypeError(f"{name} is complex ({a.dtype}); attention is defined for real numbers")
    if a.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    if a.dtype.kind in "iu":
        a = a.astype(np.float64)
    if finite and not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return a


def compute_dtype(dtype):
    """The dtype to compute in: float16 sums lose too much, so it is computed in float32."""
    return np.dtype(np.float32) if dtype == np.float16 else np.dtype(dtype)


def check_positive_int(name, n):
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {n!r} ({type(n).__name__})")
    if n <= 0:
        raise ValueError(f"{name} must be positive, got {n}")
    return int(n)


def check_scale(scale):
    """A finite real scale factor, returned as a Python float (keeps float32 as float32)."""
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real):
        raise TypeError(f"scale must be a real number, got {scale!r} ({type(scale).__name__})")
    if not np.isfinite(scale):
        raise ValueError(f"scale must be finite, got {scale}")
    return float(scale)


def check_qkv(q, k, v):
    """Shapes q (..., T_q, d_k), k (..., T_k, d_k), v (..., T_k, d_v), batch axes broadcasting."""
    q, k, v = as_float_array("q", q), as_float_array("k", k), as_float_array("v", v)
    for name, a in (("q", q), ("k", k), ("v", v)):
        if a.ndim < 2:
            raise ValueError(f"{name} must have at least 2 axes (..., T, d), got shape {a.shape}")
        if 0 in a.shape[-2:]:
            raise ValueError(f"{name} has an empty sequence or feature axis: shape {a.shape}")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q and k must share d_k (last axis): q {q.shape}, k {k.shape}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"k and v must have the same number of tokens T_k: k {k.shape}, v {v.shape}")
    try:
        np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(
            f"the leading (batch) axes of q {q.shape}, k {k.shape} and v {v.shape} do not broadcast"
        ) from None
    return q, k, v


def check_mask(mask, target_shape):
    """A boolean mask that broadcasts to ``target_shape`` (the scores' shape) without enlarging it."""
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(
            f"mask must be boolean with True = 'may attend', got dtype {mask.dtype}. "
            "For a 0/1 mask pass mask.astype(bool); an additive float mask (0 / -inf) "
            "is not accepted: pass (mask == 0) instead"
        )
    try:
        fits = np.broadcast_shapes(mask.shape, target_shape) == tuple(target_shape)
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"mask of shape {mask.shape} does not broadcast to the scores' shape {tuple(target_shape)}")
    return mask
