"""Properties that hold for every input, checked by Hypothesis on generated shapes and values."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from minimodel.attention import MultiHeadAttention, causal_mask, scaled_dot_product_attention, softmax

settings.register_profile("minimodel", deadline=None, max_examples=80)
settings.load_profile("minimodel")

finite = st.floats(-10, 10, allow_nan=False, width=64)
sizes = st.integers(1, 6)


@st.composite
def qkv(draw, with_mask=False):
    T_q, T_k, d_k, d_v = draw(sizes), draw(sizes), draw(sizes), draw(sizes)
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    q = draw(arrays(np.float64, (*batch, T_q, d_k), elements=finite))
    k = draw(arrays(np.float64, (*batch, T_k, d_k), elements=finite))
    v = draw(arrays(np.float64, (*batch, T_k, d_v), elements=finite))
    mask = draw(arrays(bool, (*batch, T_q, T_k))) if with_mask else None
    return q, k, v, mask


@st.composite
def mha_and_input(draw, batched=None):
    n_heads = draw(st.integers(1, 3))
    d_model = n_heads * draw(st.integers(1, 3))
    T = draw(st.integers(1, 6))
    batch = (draw(st.integers(1, 3)),) if (batched if batched is not None else draw(st.booleans())) else ()
    x = draw(arrays(np.float64, (*batch, T, d_model), elements=finite))
    return MultiHeadAttention(d_model, n_heads, seed=draw(st.integers(0, 2**16))), x


@given(qkv(with_mask=True))
def test_rows_sum_to_one_or_zero_where_fully_masked(case):
    q, k, v, mask = case
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    fully_masked = ~mask.any(axis=-1)
    np.testing.assert_allclose(weights.sum(-1), np.where(fully_masked, 0.0, 1.0), atol=1e-12)
    assert (weights >= 0).all()
    assert np.array_equal(weights[~mask], np.zeros(np.count_nonzero(~mask)))
    assert np.array_equal(out[fully_masked], np.zeros_like(out[fully_masked]))


@given(arrays(np.float64, st.tuples(sizes, sizes), elements=finite), st.floats(-1e3, 1e3))
def test_softmax_is_shift_invariant(x, shift):
    np.testing.assert_allclose(softmax(x + shift), softmax(x), rtol=1e-12, atol=1e-12)


@given(mha_and_input(batched=False), st.randoms(use_true_random=False))
def test_unmasked_attention_is_permutation_equivariant(model_and_x, random):
    mha, x = model_and_x
    perm = list(range(x.shape[0]))
    random.shuffle(perm)
    out, weights = mha(x)
    out_p, weights_p = mha(x[perm])
    np.testing.assert_allclose(out_p, out[perm], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(weights_p, weights[:, perm][:, :, perm], rtol=1e-12, atol=1e-12)


@given(mha_and_input(), st.data())
def test_causal_outputs_ignore_the_future_bit_for_bit(model_and_x, data):
    mha, x = model_and_x
    T = x.shape[-2]
    t = data.draw(st.integers(0, T - 1), label="t")
    changed = x.copy()
    noise = data.draw(arrays(np.float64, changed[..., t + 1 :, :].shape, elements=st.floats(-1e3, 1e3)))
    changed[..., t + 1 :, :] += noise
    out, weights = mha(x, causal_mask(T))
    out_c, weights_c = mha(changed, causal_mask(T))
    assert np.array_equal(out[..., : t + 1, :], out_c[..., : t + 1, :])
    assert np.array_equal(weights[..., : t + 1, :], weights_c[..., : t + 1, :])


@given(st.integers(1, 6).flatmap(lambda d: st.tuples(st.just(d), arrays(np.float64, (5, d), elements=finite))))
def test_one_head_is_the_single_head_function_then_w_o(d_and_x):
    d_model, x = d_and_x
    mha = MultiHeadAttention(d_model, 1, seed=3)
    out, weights = mha(x, causal_mask(5))
    head, head_weights = scaled_dot_product_attention(x @ mha.w_q, x @ mha.w_k, x @ mha.w_v, causal_mask(5))
    np.testing.assert_allclose(weights[0], head_weights, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out, head @ mha.w_o, rtol=1e-12, atol=1e-12)


@given(mha_and_input(batched=True))
def test_unbatched_equals_batched(model_and_x):
    mha, x = model_and_x
    mask = causal_mask(x.shape[1])
    out, weights = mha(x, mask)
    for b in range(x.shape[0]):
        out_b, weights_b = mha(x[b], mask)
        np.testing.assert_allclose(out_b, out[b], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(weights_b, weights[b], rtol=1e-12, atol=1e-12)
