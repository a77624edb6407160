"""Peak memory of one forward pass, traced allocation by allocation (not a timing)."""

from minimodel.attention import causal_mask
from minimodel.attention.bench import peak_bytes


def test_peak_of_multi_head_forward_is_within_1_5x_the_weights():
    # The naive form keeps the (H, T, T) weights on purpose; anything beyond
    # them should be T·d-sized, not another T×T temporary.
    T, d_model, H = 1024, 512, 8
    for mask in (None, causal_mask(T)):
        peak, weights_bytes = peak_bytes(T, d_model, H, mask)
        assert weights_bytes == H * T * T * 4  # float32 weights, as the input
        assert peak <= 1.5 * weights_bytes, f"peak {peak / weights_bytes:.2f}× the weights' bytes"
