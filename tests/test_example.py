"""The canonical sequence of the phase and its seeded embeddings."""

import numpy as np
import pytest

from minimodel.attention import example


def test_canonical_sequence():
    assert example.TOKENS == ("I", "work", ",", "you", "work", ",", "he", "___")
    assert example.TOKENS[example.QUERY_POSITION] == "___"
    assert example.TOKENS[example.QUERY_POSITION - 1] == "he"
    assert example.TARGET == "works"
    assert example.VOCAB == ("I", "work", ",", "you", "he", "___")


def test_embeddings_are_deterministic_and_shared_by_equal_tokens():
    x = example.embed()
    assert x.shape == (8, example.D_MODEL)
    assert np.array_equal(x, example.embed())
    assert np.array_equal(x[1], x[4]), "both 'work' tokens must share a vector"
    assert np.array_equal(x[2], x[5]), "both ',' tokens must share a vector"
    assert len({row.tobytes() for row in x}) == len(example.VOCAB)
    assert example.embed(d_model=4, seed=1).shape == (8, 4)


def test_unknown_token_is_named():
    with pytest.raises(ValueError, match="'she'"):
        example.embed(("he", "she"))
