"""The worked solutions' answers, typed into a copy of a lab the way a learner would.

``answered(name, wrong=..., missing=...)`` returns the text of lab/<name>.md with every
answer filled in, except the ones named ``missing`` (left as ``...``) and ``wrong``
(given a wrong value). Each key is the placeholder text in the lab and must occur in it
exactly once, so a lab that changes its placeholders fails here loudly, not silently.
"""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent

SIGMA = "1 / (1 + math.exp({}))"  # the logistic form of a two-key softmax entry

LAB00 = {
    "my_scores = ...": "my_scores = [[2, 0], [4, 1]]",
    "my_scaled = ...": "my_scaled = [[1, 0], [2, 0.5]]",
    "my_exps = ...": "my_exps = [[math.e, 1], [math.e**2, math.exp(0.5)]]",
    "my_row_sums = ...": "my_row_sums = [2.7183 + 1, 7.3891 + 1.6487]",  # typed to 4 decimals
    "my_weights = ...": "my_weights = [[0.7311, 0.2689], [0.8176, 0.1824]]",  # typed to 4 decimals
    "my_output = ...": "my_output = [[1 + 2 * {a}, 3 - 2 * {a}], [1 + 2 * {b}, 3 - 2 * {b}]]".format(
        a=SIGMA.format(-1), b=SIGMA.format(-1.5)),
    "my_masked_weights = ...": f"my_masked_weights = [[1, 0], [{SIGMA.format(-1.5)}, {SIGMA.format(1.5)}]]",
    "my_masked_output = ...": "my_masked_output = [[3, 1], [1 + 2 * {b}, 3 - 2 * {b}]]".format(b=SIGMA.format(-1.5)),
    "    return ...  # your code here\n": """    top = np.max(x, axis=-1, keepdims=True)
    e = np.exp(x - np.where(np.isneginf(top), 0.0, top))
    total = e.sum(axis=-1, keepdims=True)
    return e / np.where(total == 0, 1.0, total)
""",
    "    return ..., ...  # your code here: (out, weights)\n": """\
    scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    weights = my_softmax(scores)
    return weights @ v, weights
""",
    "my_shifted_weights = ...": "my_shifted_weights = my_weights  # a common shift of a row changes nothing",
    "my_doubled_output = ...": "my_doubled_output = 2 * np.array(my_output)",
    "my_sharper_weights = ...": f"my_sharper_weights = [[{SIGMA.format(-2)}, {SIGMA.format(2)}], "
                                f"[{SIGMA.format(-3)}, {SIGMA.format(3)}]]",
}

LAB01 = {
    "Q = ...": "Q = x @ mha.w_q",
    "K = ...": "K = x @ mha.w_k",
    "V = ...": "V = x @ mha.w_v",
    "q = ...": "q = Q.reshape(T, H, d_head).transpose(1, 0, 2)",
    "k = ...": "k = K.reshape(T, H, d_head).transpose(1, 0, 2)",
    "v = ...": "v = V.reshape(T, H, d_head).transpose(1, 0, 2)",
    "heads, weights = ..., ...": "heads, weights = scaled_dot_product_attention(q, k, v)",
    "merged = ...": "merged = heads.transpose(1, 0, 2).reshape(T, d_model)",
    "\nout = ...": "\nout = merged @ mha.w_o",  # the newline tells it from reduced_out
    "    return ..., ...  # replace with your out and weights\n": """    t, d = x.shape
    dh = d // n_heads
    split = [m.reshape(t, n_heads, dh).transpose(1, 0, 2) for m in (x @ w_q, x @ w_k, x @ w_v)]
    heads, weights = scaled_dot_product_attention(*split)
    return heads.transpose(1, 0, 2).reshape(t, d) @ w_o, weights
""",
    "single_out, single_weights = ..., ...": "single_out, single_weights = scaled_dot_product_attention("
                                             "x @ one.w_q, x @ one.w_k, x @ one.w_v)",
    "reduced_out = ...": "reduced_out = single_out @ one.w_o",
    "n_per_head = ...": "n_per_head = 4 * d_model * d_head",
    "n_layer = ...": "n_layer = 4 * d_model**2",
    "n_one_wide_head = ...": "n_one_wide_head = 4 * d_model**2",
    "row7 = ...": "row7 = weights[:, 7]",
}

PERTURBATION_TEST = '''def perturbation_test(fn, x, *, size=100.0, seed=0):
    rng = np.random.default_rng(seed)
    base = fn(x)[0]
    verdicts = np.zeros(len(x), dtype=bool)
    for t in range(len(x)):
        moved = x.copy()
        moved[t + 1 :] += size * rng.normal(size=moved[t + 1 :].shape)
        verdicts[t] = np.array_equal(fn(moved)[0][: t + 1], base[: t + 1])
    return verdicts
'''
SELF_TEST = '''def self_test(fn, x, *, size=100.0, seed=0):
    rng = np.random.default_rng(seed)
    base, weights = fn(x)
    verdicts = np.zeros(len(x), dtype=bool)
    for t in range(len(x)):
        moved = x.copy()
        moved[t] += size * rng.normal(size=x.shape[-1])
        out_moved, weights_moved = fn(moved)
        own = weights[t, t] > 0 or weights_moved[t, t] > 0
        verdicts[t] = own and not np.array_equal(out_moved[t], base[t])
    return verdicts
'''
PAD_TEST = '''def pad_test(fn, x, valid, *, size=100.0, seed=1):
    rng = np.random.default_rng(seed)
    base = fn(x)[0]
    moved = x.copy()
    moved[~valid] += size * rng.normal(size=moved[~valid].shape)
    after = fn(moved)[0]
    return np.array([np.array_equal(a[v], b[v]) for a, b, v in zip(after, base, valid, strict=True)])
'''


def function_stub(name):
    """The lab's stub of function ``name``: from its def line to its ``return ...``."""
    return re.compile(rf"def {name}\(.*?\n    return \.\.\.\n", re.DOTALL)


LAB02 = {
    "my_mask = ...": "my_mask = np.tril(np.ones((T, T), dtype=bool))",
    "my_weights = ...": """z = np.where(my_mask, q @ k.T / math.sqrt(d_k), -np.inf)
e = np.exp(z - z.max(axis=-1, keepdims=True))
my_weights = e / e.sum(axis=-1, keepdims=True)""",
    "my_n_allowed = ...": "my_n_allowed = T * (T + 1) // 2",
    function_stub("perturbation_test"): PERTURBATION_TEST,
    function_stub("self_test"): SELF_TEST,
    "my_mask_right = ...": "my_mask_right = causal_mask(T) & padding_mask(valid_right)",
    "my_mask_left = ...": "my_mask_left = causal_mask(T) & padding_mask(valid_left)",
    "my_empty_right = ...": "my_empty_right = []",
    "my_empty_left = ...": "my_empty_left = [0, 1, 2]",
    function_stub("pad_test"): PAD_TEST,
}

ANSWERS = {"00-attention-by-hand": LAB00, "01-multi-head-attention": LAB01, "02-causal-mask": LAB02}


def answered(name, *, wrong=None, missing=(), wrong_value="0.5"):
    """lab/<name>.md with the answers filled in; ``wrong`` gets ``wrong_value``, ``missing`` stays ``...``."""
    text = (ROOT / "lab" / f"{name}.md").read_text(encoding="utf-8")
    for key, answer in ANSWERS[name].items():
        pattern = key if isinstance(key, re.Pattern) else re.compile(re.escape(key))
        assert len(pattern.findall(text)) == 1, f"{name}: the placeholder {pattern.pattern!r} is not there exactly once"
        if key in missing:
            continue
        if key == wrong:
            answer = key.replace("...", wrong_value)
        text = pattern.sub(lambda _, answer=answer: answer, text)
    return text
