"""The canonical example of Phase 15: ``I work , you work , he ___``.

Every chapter and lab uses this one sequence, so their figures can be compared.
Position 7 (``___``) is where the next form should be ``works``: third-person
singular, agreeing with ``he`` at position 6 (positions count from 0).

The embeddings are seeded random vectors, one per vocabulary entry, so the same
token always gets the same vector. Phase 15 trains nothing: the vectors carry
no meaning, and attention over them shows shape, not semantics (Phase 18 trains
it). They carry no position either; that is Phase 16.
"""

import numpy as np

from minimodel.attention import MultiHeadAttention

TOKENS = ("I", "work", ",", "you", "work", ",", "he", "___")
TARGET = "works"  # the form that belongs at QUERY_POSITION
QUERY_POSITION = 7
VOCAB = tuple(dict.fromkeys(TOKENS))  # ("I", "work", ",", "you", "he", "___"), first-seen order
D_MODEL = 16
SEED = 15


def embedding_table(d_model=D_MODEL, seed=SEED):
    """(len(VOCAB), d_model) table of N(0, 1) vectors; row i embeds VOCAB[i]."""
    return np.random.default_rng(seed).normal(size=(len(VOCAB), d_model))


def embed(tokens=TOKENS, d_model=D_MODEL, seed=SEED):
    """(T, d_model) embeddings of ``tokens`` (tokens from VOCAB), looked up in the seeded table."""
    unknown = [t for t in tokens if t not in VOCAB]
    if unknown:
        raise ValueError(f"tokens {unknown} are not in the canonical vocabulary {VOCAB}")
    rows = [VOCAB.index(t) for t in tokens]
    return embedding_table(d_model, seed)[rows]  # (T, d_model)


def canonical_head_weights(n_heads=4, d_model=D_MODEL, seed=0):
    """(n_heads, 8, 8) weights of an untrained MultiHeadAttention(d_model, n_heads, seed) on the canonical tokens.

    No mask: every token sees every other. Untrained, so this is the shape of
    attention (rows summing to 1, one map per head), not a learned pattern.
    """
    _, weights = MultiHeadAttention(d_model, n_heads, seed=seed)(embed(d_model=d_model))
    return weights  # (H, 8, 8)
