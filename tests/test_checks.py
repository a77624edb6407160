"""check_causal and check_shape: they pass correct code and catch the classic mistakes."""

import numpy as np
import pytest

from minimodel.attention import MultiHeadAttention, causal_mask, scaled_dot_product_attention
from minimodel.attention.checks import check_causal, check_shape


def self_attention(mask_of_T):
    def attend(x):
        return scaled_dot_product_attention(x, x, x, mask_of_T(len(x)))
    return attend


def shifted(k):
    return lambda T: np.tril(np.ones((T, T), dtype=bool), k=k)


def test_the_library_is_causal():
    assert check_causal(self_attention(causal_mask)).passed
    mha = MultiHeadAttention(8, 2, seed=3)
    assert check_causal(lambda x: mha(x, causal_mask(len(x))), d=8).passed


@pytest.mark.parametrize("broken, evidence", [
    (lambda T: None, "after position 0 changed the output at position 0"),  # no mask at all
    (shifted(1), "after position 0 changed the output at position 0"),  # sees one step ahead
    (shifted(-1), "does not see itself"),  # cannot see itself
])
def test_broken_masks_are_caught(broken, evidence):
    result = check_causal(self_attention(broken))
    assert not result and evidence in str(result) and str(result).startswith("NOT causal")


def test_a_leak_late_in_the_sequence_is_found():
    def leaks_at_5(T):
        mask = causal_mask(T)
        mask[5, 6] = True  # only position 5 peeks at 6
        return mask
    result = check_causal(self_attention(leaks_at_5))
    assert not result and "after position 5 changed the output at position 5" in result.reason


def test_outputs_must_keep_the_sequence_axis():
    with pytest.raises(ValueError, match="outputs"):
        check_causal(lambda x: x.sum())


def test_check_shape():
    a = np.zeros((2, 3))
    assert check_shape(a, (2, 3)) is a
    with pytest.raises(AssertionError, match=r"weights has shape \(2, 3\), expected \(3, 2\)"):
        check_shape(a, (3, 2), "weights")


def test_check_answer(capsys):
    from minimodel.attention.checks import check_answer

    assert check_answer("w", ..., [1.0, 2.0]) is False
    assert "not answered yet" in capsys.readouterr().out
    assert check_answer("w", [1.0, 2.0 + 1e-7], [1.0, 2.0]) is True
    assert "✓ w matches" in capsys.readouterr().out
    with pytest.raises(AssertionError, match=r"differs from the expected value by up to 0\.1"):
        check_answer("w", [1.0, 2.1], [1.0, 2.0])
    with pytest.raises(AssertionError, match=r"has shape \(3,\), expected \(2,\)"):
        check_answer("w", [1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(AssertionError, match="nan"):
        check_answer("w", [np.nan, 2.0], [1.0, 2.0])
