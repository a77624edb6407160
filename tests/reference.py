"""A slow reference for attention that is correct by inspection.

Plain Python loops over queries and keys, ``math.exp`` and no max subtraction:
nothing vectorised, nothing clever. The tests compare the library against it.
"""

import math

import numpy as np


def reference_attention(q, k, v, mask=None, scale=None):
    """Same contract as ``scaled_dot_product_attention``, computed one number at a time."""
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    T_q, d_k = q.shape[-2:]
    T_k, d_v = v.shape[-2:]
    if scale is None:
        scale = 1.0 / math.sqrt(d_k)
    if mask is None:
        mask = np.ones((T_q, T_k), dtype=bool)
    mask = np.broadcast_to(mask, (*batch, T_q, T_k))
    q, k, v = (np.broadcast_to(a, batch + a.shape[-2:]) for a in (q, k, v))
    out = np.zeros((*batch, T_q, d_v))
    weights = np.zeros((*batch, T_q, T_k))
    for b in np.ndindex(*batch):
        for i in range(T_q):
            allowed = [j for j in range(T_k) if mask[b][i, j]]
            scores = {j: scale * sum(q[b][i, c] * k[b][j, c] for c in range(d_k)) for j in allowed}
            total = sum(math.exp(s) for s in scores.values())
            for j, s in scores.items():
                weights[b][i, j] = math.exp(s) / total
            for c in range(d_v):
                out[b][i, c] = sum(weights[b][i, j] * v[b][j, c] for j in allowed)
    return out, weights
