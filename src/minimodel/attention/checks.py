"""Reusable verifications for any attention implementation, and the graders of the labs.

    from minimodel.attention.checks import check_answer, check_attention, check_causal, check_multi_head

    check_shape(weights, (H, T, T), "weights")        # AssertionError naming both shapes if not
    check_answer("weights", my_weights, expected)     # prints ✓, "not answered yet" or ✗ with why; True/False
    check_attention(my_attention)                     # a learner's single-head function against the library
    check_multi_head(my_multi_head)                   # a learner's multi-head forward against a per-head reference
    result = check_causal(layer, d=16, batch=3)       # the perturbation test of causality
    assert result, result

Every ``check_*`` used in a lab prints one line and returns True or False; it
never raises, so Run All reaches the last cell with a mark on every exercise.
``check_causal`` returns a ``CausalResult``, true when the function passed, that
prints as the same kind of line. It treats the function as a black box from a
sequence ``x`` (T, d) or a batch (B, T, d) to outputs (and optionally weights),
so the same test applies to the library, a learner's version from a lab, or a
later phase's layer.
"""

import math
from dataclasses import dataclass

import numpy as np

from minimodel.attention._feedback import MARK_RIGHT, MARK_WRONG, as_numbers, compare, not_answered, raised


def check_shape(array, expected, name="array"):
    """Assert that ``array.shape == expected`` (a tuple); returns the array for chaining."""
    shape = np.shape(array)
    if shape != tuple(expected):
        raise AssertionError(f"{name} has shape {shape}, expected {tuple(expected)}")
    return array


# ---------------------------------------------------------------------------------------------
# Answers typed into a lab
# ---------------------------------------------------------------------------------------------

def check_answer(name, answer, expected, *, atol=1e-5, decimals=4):
    """Grade a lab answer against the expected value (typically the library's result).

    Prints one line and returns True when the answer is right, False otherwise:
    ``...`` (the lab's placeholder) is "not answered yet"; a wrong answer gets a
    ✗ naming the worst entry with the expected and given values and the relative
    error, the wrong positions of a boolean array, or both shapes. A number
    matches when it is within ``atol`` of the expected one, or when it is the
    expected one rounded to ``decimals`` decimals (a value worked out on paper);
    ``decimals=None`` turns that allowance off.
    """
    if answer is Ellipsis:
        print(not_answered(name))
        return False
    given, problem = as_numbers(name, answer)
    if problem is None:
        expected = np.asarray(expected)
        problem, largest = compare(given, expected, atol=atol)
        if problem is None:
            print(f"{MARK_RIGHT} {name} matches (largest difference {largest:.1e})")
            return True
        if decimals is not None and expected.dtype != bool and given.shape == expected.shape:
            if compare(given, expected, atol=0.5 * 10.0**-decimals * (1 + 1e-6))[0] is None:
                print(f"{MARK_RIGHT} {name} matches to {decimals} decimals (largest difference {largest:.1e}); "
                      "an exact expression such as math.exp(0.5) instead of 1.6487 would keep every digit")
                return True
        problem = f"{name}: {problem}"
        close = expected.size and largest <= 1e-3 * max(1.0, float(np.abs(expected).max()))
        if given.shape == expected.shape and expected.dtype != bool and close:
            problem += "; close: round only the final answer, or type an exact expression"
    print(f"{MARK_WRONG} {problem}")
    return False


# ---------------------------------------------------------------------------------------------
# check_causal: the perturbation test
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CausalResult:
    """What ``check_causal`` found: ``passed``, and the evidence (T, position, half) when it failed."""

    passed: bool
    reason: str

    def __bool__(self):
        return self.passed

    def __str__(self):
        return (f"{MARK_RIGHT} causal: " if self.passed else f"{MARK_WRONG} NOT causal: ") + self.reason

    def _repr_pretty_(self, printer, cycle):  # a notebook shows the ✓/✗ line, not the dataclass
        printer.text(str(self))


class _Evidence(Exception):
    """Raised inside check_causal with the reason it fails; caught and returned as a CausalResult."""


SIZE = 100.0  # the scale of the random changes made to tokens


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise ValueError(f"check_causal: {name} must be a positive integer, got {value!r}")
    return int(value)


def _run(fn, x, batch):
    """fn(x) as (out, weights or None), with the shapes the test relies on, or _Evidence saying why not."""
    try:
        with np.errstate(all="ignore"):
            result = fn(x)
    except Exception as error:
        raise _Evidence(f"the function {raised(error)} on x of shape {x.shape}") from None
    out, weights = (result[0], result[1] if len(result) > 1 else None) if isinstance(result, tuple) else (result, None)
    out, lead = np.asarray(out), x.shape[:-1]  # lead: (T,) or (B, T)
    if out.shape[: len(lead)] != lead:
        raise _Evidence(f"for x of shape {x.shape} the outputs must have shape {lead} + (...), got {out.shape}")
    if weights is not None:
        weights, T = np.asarray(weights), x.shape[-2]
        if weights.ndim < 2 or weights.shape[-2:] != (T, T) or (batch and weights.shape[0] != batch):
            expected = f"({batch}, ..., {T}, {T})" if batch else f"(..., {T}, {T})"
            raise _Evidence(f"for x of shape {x.shape} the weights must have shape {expected}, got {weights.shape}")
    return out, weights


def _changed_positions(a, b, t_axis):
    """Sorted positions along the sequence axis where a and b differ in any bit (NaN counts as a change)."""
    other = tuple(i for i in range(a.ndim) if i != t_axis)
    return np.flatnonzero(np.any(a != b, axis=other))


def _future_half(run, x, T, rng, t_axis):
    out, weights = run(x)
    again = run(x)
    if not (np.array_equal(again[0], out) and (weights is None or np.array_equal(again[1], weights))):
        raise _Evidence("future half: the function gave two different results for the same x; "
                        "the perturbation test needs a deterministic function")
    future = np.triu(np.ones((T, T), dtype=bool), k=1)
    for t in range(T):
        moved = x.copy()
        moved[..., t + 1 :, :] += SIZE * rng.normal(size=moved[..., t + 1 :, :].shape)
        out_m, weights_m = run(moved) if t < T - 1 else (out, weights)
        past = (slice(None),) * t_axis + (slice(0, t + 1),)
        changed = _changed_positions(out_m[past], out[past], t_axis)
        if changed.size:
            raise _Evidence(f"future half: moving the tokens after position {t} changed the output at "
                            f"position {changed[0]}")
        if weights is None:
            continue
        changed = _changed_positions(weights_m[..., : t + 1, :], weights[..., : t + 1, :], weights.ndim - 2)
        if changed.size:
            raise _Evidence(f"future half: moving the tokens after position {t} changed row {changed[0]} "
                            "of the returned weights")
        for w in (weights, weights_m):
            leaks = np.argwhere(np.any((w != 0) & future, axis=tuple(range(w.ndim - 2))))
            if leaks.size:
                query, key = leaks[0]
                raise _Evidence(f"future half: the returned weights give query {query} a nonzero weight "
                                f"on the future key {key}")


def _present_half(run, x, T, rng, t_axis):
    """Position t sees token t: some change of token t changes output t, and its own weight is not always 0.

    Several changes in different directions and of different sizes are tried, so that
    a correct layer whose softmax saturates (a one-hot row that stays one-hot under
    one change) is not flagged. Shrinking token t towards zero brings its scores back
    to a range where its own weight is positive, whatever the gain of the layer.
    """
    out, weights = run(x)
    token = x[..., 0, :].shape  # (d,) or (B, d)
    for t in range(T):
        original = x[..., t, :]
        tries = (original + SIZE * rng.normal(size=token), original + 0.1 * rng.normal(size=token),
                 1e-3 * original, -original, 10.0 * original + rng.normal(size=token))
        seen_out = np.zeros(token[:-1], dtype=bool)  # () or (B,)
        seen_weight = None if weights is None else weights[..., t, t] > 0
        for replacement in tries:
            moved = x.copy()
            moved[..., t, :] = replacement
            out_m, weights_m = run(moved)
            here = (slice(None),) * t_axis + (t,)
            seen_out |= np.any((out_m[here] != out[here]).reshape(*token[:-1], -1), axis=-1)
            if weights is not None:
                seen_weight |= weights_m[..., t, t] > 0
        item = "" if t_axis == 0 else " of item {}"
        if not seen_out.all():
            which = item.format(int(np.argmin(seen_out.reshape(-1))))
            raise _Evidence(f"present half: none of {len(tries)} changes of token {t} (several directions and "
                            f"sizes) changed the output{which} at position {t}: the token does not see itself")
        if seen_weight is not None and not seen_weight.all():
            index = (*(np.argwhere(~seen_weight)[0] if seen_weight.ndim else ()), t, t)
            raise _Evidence(f"present half: position {t} gives its own token zero weight in every one of "
                            f"{len(tries) + 1} inputs (returned weights[{', '.join(map(str, index))}] = 0)")


def _batch_half(run, x, B, rng):
    out, weights = run(x)
    for b in range(B):
        moved = x.copy()
        moved[b] += SIZE * rng.normal(size=moved[b].shape)
        out_m, weights_m = run(moved)
        others = np.arange(B) != b
        for name, now, before in (("output", out_m, out), ("weights", weights_m, weights)):
            if before is None:
                continue
            differs = np.argwhere(np.any(now[others] != before[others], axis=tuple(range(2, now.ndim))))
            if differs.size:
                item, position = differs[0]
                item = int(np.flatnonzero(others)[item])
                kind = "output" if name == "output" else "returned weights"
                raise _Evidence(f"batch half: moving the tokens of item {b} changed the {kind} of item {item} "
                                f"at position {position}")


def check_causal(fn, *, d=4, lengths=(1, 2, 8, 33), batch=None, seed=0):
    """The perturbation test of causality for a self-attention function or layer ``fn``.

    ``fn(x)`` returns ``out`` or ``(out, weights)``. x is (T, d) random numbers, or
    (B, T, d) with ``batch=B``; out is (T, ...) or (B, T, ...); weights, when
    returned, have the query and key axes last, (..., T, T). For every T in
    ``lengths`` the test checks three things and stops at the first evidence:

    * future half: for every t, moving the tokens after t by large random amounts
      leaves the outputs at 0..t, and the weights' rows 0..t, bit-for-bit equal;
      every returned weight on a future key is exactly 0;
    * present half: position t sees token t. Some of several changes of token t
      must change output t, and the returned weight of t on itself must be
      positive for some input. Without returned weights, a layer that hides
      token t from position t but still reads it as a query cannot be told apart.
    * batch half (``batch=B``): moving the tokens of item b changes no output (and
      no weights) of any other item.

    Returns a ``CausalResult``: true when every check held; ``.reason`` names the
    T, the position and the half that failed. An exception inside ``fn`` is a
    failure with its message, not a crash.
    """
    d, lengths = _positive_int("d", d), tuple(_positive_int("every length", T) for T in lengths)
    batch = None if batch is None else _positive_int("batch", batch)
    if not lengths:
        raise ValueError("check_causal: lengths must name at least one sequence length")
    rng = np.random.default_rng(seed)
    t_axis = 0 if batch is None else 1

    def run(x):
        return _run(fn, x, batch)

    for T in lengths:
        x = rng.normal(size=(T, d) if batch is None else (batch, T, d))
        try:
            _future_half(run, x, T, rng, t_axis)
            _present_half(run, x, T, rng, t_axis)
            if batch:
                _batch_half(run, x, batch, rng)
        except _Evidence as evidence:
            return CausalResult(False, f"T = {T}, {evidence}")
    tested = ", ".join(map(str, lengths))
    items = f", and the {batch} items of a batch never see each other" if batch and batch > 1 else ""
    return CausalResult(True, f"for T = {tested}, outputs 0..t ignore the tokens after t and depend on token t{items}")


# ---------------------------------------------------------------------------------------------
# Graders of a learner's code: single head, multi-head, and the lab's perturbation tests
# ---------------------------------------------------------------------------------------------

def _name(fn):
    return getattr(fn, "__name__", "your function")


def _answer(fn, *args):
    """(out, weights or None) from a learner's function, or a sentence if it raised."""
    try:
        with np.errstate(all="ignore"):
            result = fn(*args)
    except Exception as error:
        return None, None, raised(error)
    if isinstance(result, tuple):
        return result[0], (result[1] if len(result) > 1 else None), None
    return result, None, None


def _grade(label, given, expected, *, rtol, atol):
    """A sentence saying how ``given`` differs from ``expected`` (dtype included), or None."""
    array, problem = as_numbers(label, given)
    if problem:
        return problem
    problem, _ = compare(array, expected, atol=atol, rtol=rtol)
    if problem:
        return f"{label}: {problem}"
    if expected.dtype == np.float32 and array.dtype != np.float32:
        return f"{label}: dtype {array.dtype}, expected float32 (float32 in, float32 out)"
    return None


def _compare_to_reference(fn, args, reference, *, rtol, atol):
    """None when fn(*args) matches the reference (out, weights); else the sentence saying why not."""
    out, weights, error = _answer(fn, *args)
    if error:
        return f"your function {error}"
    if out is Ellipsis:
        return "…"
    problem = _grade("output", out, reference[0], rtol=rtol, atol=atol)
    if problem is None and weights is not None:
        problem = _grade("weights", weights, reference[1], rtol=rtol, atol=atol)
    return problem


def _tolerances(dtype):
    return {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-8, "atol": 1e-10}


def _report(fn, cases, success):
    """Run ``cases`` [(label, args, reference, dtype)]; print ✓ ``success`` or ✗ the first failing case."""
    name = _name(fn)
    for number, (label, args, reference, dtype) in enumerate(cases, start=1):
        problem = _compare_to_reference(fn, args, reference, **_tolerances(dtype))
        if problem == "…":
            print(not_answered(name))
            return False
        if problem:
            print(f"{MARK_WRONG} {name}, case {number} of {len(cases)} ({label}): {problem}")
            return False
    print(f"{MARK_RIGHT} {name} {success}")
    return True


def attention_cases():
    """The cases ``check_attention`` runs: [(label, (q, k, v[, mask]), (out, weights), dtype)]."""
    from minimodel.attention import scaled_dot_product_attention

    rng = np.random.default_rng(15)
    T = 5
    causal = np.tril(np.ones((T, T), dtype=bool))
    pad_first_two = causal & np.array([False, False, True, True, True])  # left padding: rows 0, 1 see nothing
    q, k, v = rng.normal(size=(T, 4)), rng.normal(size=(T, 4)), rng.normal(size=(T, 3))
    q_big = 1e4 * np.array([[1.0, 0, 0, 0], [-1, 0, 0, 0], [0, 1, 0, 0]])  # with k_big: logits 0 and ±1e4
    k_big = np.array([[2.0, 0, 0, 0], [0, 2, 0, 0], [-2, 0, 0, 0]])
    inputs = [
        ("3 queries, 5 keys, d_k = 4, d_v = 2", (rng.normal(size=(3, 4)), rng.normal(size=(5, 4)),
                                                 rng.normal(size=(5, 2)))),
        ("4 tokens, d_k = 8, d_v = 3", (rng.normal(size=(4, 8)), rng.normal(size=(4, 8)), rng.normal(size=(4, 3)))),
        ("batch axes: q (2, 3, 4, 6) against k, v (3, 5, ·)", (rng.normal(size=(2, 3, 4, 6)),
                                                               rng.normal(size=(3, 5, 6)), rng.normal(size=(3, 5, 2)))),
        ("a causal mask, T = 5", (q, k, v, causal)),
        ("a padding mask whose rows 0 and 1 allow no key: zeros there, never NaN", (q, k, v, pad_first_two)),
        ("logits of ±1e4: finite weights expected", (q_big, k_big, rng.normal(size=(3, 2)))),
        ("float32 in, float32 out, with a causal mask", (*(a.astype(np.float32) for a in (q, k, v)), causal)),
    ]
    cases = []
    for label, args in inputs:
        reference = scaled_dot_product_attention(*args)
        cases.append((label, args, reference, args[0].dtype))
    return cases


def check_attention(fn):
    """Grade a learner's single-head ``fn(q, k, v, mask=None)`` -> ``out`` or ``(out, weights)``.

    Compares it with ``scaled_dot_product_attention`` on the cases of
    ``attention_cases()``: T_q ≠ T_k and d_k ≠ d_v, leading batch axes that
    broadcast, a causal mask, a padding mask with fully masked rows (zeros, not
    NaN), logits of ±1e4 (finite), float32 in and out. Prints one line (✓, or ✗
    naming the first failing case and what differs) and returns True or False.
    """
    return _report(fn, attention_cases(), "agrees with scaled_dot_product_attention on all "
                   f"{len(attention_cases())} cases: T_q ≠ T_k, d_k ≠ d_v, batch axes, causal and padding "
                   "masks, fully masked rows, logits of ±1e4, float32")


def multi_head_reference(x, w_q, w_k, w_v, w_o, n_heads):
    """Σ_h softmax(X W_q^h (X W_k^h)ᵀ / √d_head) X W_v^h W_o^h, one head at a time.

    W_q^h, W_k^h, W_v^h are the h-th blocks of d_head columns and W_o^h the h-th
    block of d_head rows. No reshape, no transpose of heads: an independent
    reference for a forward pass written with them. Returns out (T, d_model) and
    weights (H, T, T).
    """
    d_head = x.shape[-1] // n_heads
    out, weights = np.zeros((x.shape[0], w_o.shape[1])), []
    for h in range(n_heads):
        block = slice(h * d_head, (h + 1) * d_head)
        scores = (x @ w_q[:, block]) @ (x @ w_k[:, block]).T / math.sqrt(d_head)  # (T, T)
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
        a = e / e.sum(axis=1, keepdims=True)  # (T, T): head h's weights
        out += a @ (x @ w_v[:, block]) @ w_o[block, :]  # head h's share of the output
        weights.append(a)
    return out, np.stack(weights)


def multi_head_cases(heads=(1, 2, 4, 8), widths=(8, 16), T=5):
    """The cases ``check_multi_head`` runs: [(label, (x, w_q, w_k, w_v, w_o, H), (out, weights), dtype)]."""
    cases = []
    for H in heads:
        for d_model in widths:
            rng = np.random.default_rng(100 * H + d_model)
            x = rng.normal(size=(T, d_model))
            params = tuple(rng.normal(0.0, 1.0 / math.sqrt(d_model), size=(d_model, d_model)) for _ in range(4))
            args = (x, *params, H)
            cases.append((f"H = {H}, d_model = {d_model}", args, multi_head_reference(*args), x.dtype))
    return cases


def check_multi_head(fn, *, heads=(1, 2, 4, 8)):
    """Grade a learner's ``fn(x, w_q, w_k, w_v, w_o, n_heads)`` -> ``out`` or ``(out, weights)``.

    x is (T, d_model), the four matrices (d_model, d_model); the weights, when
    returned, are (H, T, T). Compared with ``multi_head_reference`` for every H in
    ``heads`` and d_model in (8, 16). Prints one line and returns True or False.
    """
    cases = multi_head_cases(heads)
    listed = ", ".join(map(str, heads))
    return _report(fn, cases, f"matches the per-head reference for H = {listed} and d_model = 8, 16")


def _lab02_heads():
    """The seeded input and heads that grade lab 02's perturbation tests: {name: fn(x) -> (out, weights)}."""
    from minimodel.attention import scaled_dot_product_attention, softmax

    rng = np.random.default_rng(202)
    T, d, d_k = 8, 16, 8
    x = rng.normal(size=(T, d))
    w_q, w_k, w_v = rng.normal(0.0, 1.0 / math.sqrt(d), size=(3, d, d_k))

    def masked(rule):
        def head(x):
            return scaled_dot_product_attention(x @ w_q, x @ w_k, x @ w_v, rule(len(x)))
        return head

    def leaky(x):  # forbidden scores filled with -25 instead of -inf: weights of about 1e-11 on the future
        scores = (x @ w_q) @ (x @ w_k).T / math.sqrt(d_k)
        weights = softmax(np.where(np.tril(np.ones((len(x), len(x)), dtype=bool)), scores, -25.0))
        return weights @ (x @ w_v), weights

    def causal(T, k=0):
        return np.tril(np.ones((T, T), dtype=bool), k=k)

    heads = {
        "the correct causal head": masked(causal),
        "the head whose masked scores are -25 instead of -inf (it fools np.allclose)": leaky,
        "the head where query t also sees key t + 2 (but not t + 1)": masked(
            lambda T: causal(T) | np.eye(T, k=2, dtype=bool)),
        "the head without its diagonal (query t sees keys 0..t-1)": masked(lambda T: causal(T, k=-1)),
        "the head without its diagonal from position 2 on": masked(lambda T: causal(T) & ~np.diag(np.arange(T) >= 2)),
    }
    return x, heads


def _grade_test(test, kind, names, expected_of):
    x, heads = _lab02_heads()
    label = f"your {kind}"
    for name in names:
        verdicts, _, error = _answer(test, heads[name], x.copy())
        if error:
            print(f"{MARK_WRONG} {label} {error} on {name}")
            return False
        if verdicts is Ellipsis:
            print(not_answered(label))
            return False
        array, problem = as_numbers("its verdicts", verdicts)
        if problem is None:
            problem, _ = compare(array, expected_of(heads[name](x)[1]), atol=0)
        if problem:
            print(f"{MARK_WRONG} {label} misjudges {name}: {problem}")
            return False
    print(f"{MARK_RIGHT} {label} accepts the correct head and rejects " + "; ".join(names[1:]))
    return True


def check_perturbation_test(test):
    """Grade lab 02's ``test(fn, x)`` -> (T,) booleans: True at t when fn's outputs 0..t ignore the tokens after t.

    It runs on the correct causal head and on two broken ones, a head with a
    leak of about 1e-11 (-25 instead of -inf) and a head that sees t + 2 but not
    t + 1; its verdicts must equal, position by position, what the heads'
    weights imply. Prints one line and returns True or False.
    """
    def closed_to_future(weights):
        return np.array([not (weights[: t + 1, t + 1 :] > 0).any() for t in range(len(weights))])

    _, heads = _lab02_heads()
    names = list(heads)[:3]
    return _grade_test(test, "perturbation test", names, closed_to_future)


def check_self_test(test):
    """Grade lab 02's ``test(fn, x)`` -> (T,) booleans: True at t when position t sees token t.

    It runs on the correct causal head, a head without its diagonal and a head
    without it from position 2 on; its verdicts must equal the diagonal of the
    heads' masks. Prints one line and returns True or False.
    """
    _, heads = _lab02_heads()
    names = [next(iter(heads)), *list(heads)[3:]]
    return _grade_test(test, "self-test", names, lambda weights: np.diagonal(weights) > 0)
