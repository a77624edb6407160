"""Phase 15: scaled dot-product and multi-head attention in NumPy.

    from minimodel.attention import (
        softmax, scaled_dot_product_attention, MultiHeadAttention, causal_mask, padding_mask,
    )
"""

from minimodel.attention.attention import (
    MultiHeadAttention,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
    softmax,
)

__all__ = [
    "MultiHeadAttention",
    "causal_mask",
    "padding_mask",
    "scaled_dot_product_attention",
    "softmax",
]
