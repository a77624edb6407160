"""Peak memory of one forward pass, traced allocation by allocation (not a timing)."""

import tracemalloc

import numpy as np

from minimodel.attention import MultiHeadAttention, causal_mask


def peak_bytes_of_forward(mha, x, mask=None):
    mha(x[:2], None if mask is None else mask[:2, :2])  # warm up: first-call allocations are not ours
    tracemalloc.start()
    try:
        _, weights = mha(x, mask)
        return tracemalloc.get_traced_memory()[1], weights.nbytes
    finally:
        tracemalloc.stop()


def test_peak_of_multi_head_forward_is_within_1_5x_the_weights():
    # The naive form keeps the (H, T, T) weights on purpose; anything beyond
    # them should be T·d-sized, not another T×T temporary.
    T, d_model, H = 1024, 512, 8
    mha = MultiHeadAttention(d_model, H)
    x = np.random.default_rng(0).normal(size=(T, d_model)).astype(np.float32)
    for mask in (None, causal_mask(T)):
        peak, weights_bytes = peak_bytes_of_forward(mha, x, mask)
        assert weights_bytes == H * T * T * 4
        assert peak <= 1.5 * weights_bytes, f"peak {peak / weights_bytes:.2f}× the weights' bytes"
