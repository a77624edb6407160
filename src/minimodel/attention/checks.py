"""Reusable verifications for any attention implementation: shapes and causality.

    from minimodel.attention.checks import check_causal, check_shape

    check_shape(weights, (H, T, T), "weights")       # AssertionError naming both shapes if not
    check_answer("weights", my_weights, expected)    # a lab exercise: ✓, not answered yet, or why not
    result = check_causal(lambda x: my_attention(x, x, x, causal_mask(len(x)))[0])
    assert result.passed, result

``check_causal`` treats the function as a black box from a sequence ``x`` (T, d)
to outputs (T, ...), so the same test applies to the library, a learner's
version from a lab, or a later phase's layer.
"""

from dataclasses import dataclass

import numpy as np


def check_shape(array, expected, name="array"):
    """Assert that ``array.shape == expected`` (a tuple); returns the array for chaining."""
    shape = np.shape(array)
    if shape != tuple(expected):
        raise AssertionError(f"{name} has shape {shape}, expected {tuple(expected)}")
    return array


def check_answer(name, answer, expected, *, atol=1e-5):
    """Check a lab answer against the expected value (typically the library's result).

    A lab leaves each answer as ``...`` for the learner to fill in: that prints
    "not answered yet" instead of failing, so the lab still runs top to bottom.
    A filled-in answer must have the expected shape and match within ``atol``,
    or AssertionError says by how much it differs. Returns True when it matches.
    """
    if answer is Ellipsis:
        print(f"… {name}: not answered yet (replace the ... above with your answer)")
        return False
    answer, expected = np.asarray(answer, dtype=float), np.asarray(expected, dtype=float)
    check_shape(answer, expected.shape, name)
    error = float(np.max(np.abs(answer - expected), initial=0.0))
    if not error <= atol:  # also catches NaN
        raise AssertionError(f"{name} differs from the expected value by up to {error:.3g} (allowed {atol:g})")
    print(f"✓ {name} matches (largest difference {error:.1e})")
    return True


@dataclass(frozen=True)
class CausalResult:
    """What ``check_causal`` found: ``passed``, and when it failed, the first evidence."""

    passed: bool
    reason: str

    def __bool__(self):
        return self.passed

    def __str__(self):
        return ("causal: " if self.passed else "NOT causal: ") + self.reason


def _outputs(fn, x):
    out = fn(x)
    out = np.asarray(out[0] if isinstance(out, tuple) else out)  # (out, weights) or out
    if out.ndim == 0 or out.shape[0] != x.shape[0]:
        raise ValueError(f"the function must map x of shape {x.shape} to outputs (T, ...), got shape {out.shape}")
    return out


def check_causal(fn, T=8, d=4, *, seed=0, size=100.0):
    """Perturbation test of causality for a self-attention function ``fn(x)``.

    ``fn`` maps a random x of shape (T, d) (pass ``d=d_model`` for a layer of
    fixed width) to outputs (T, ...), or to a tuple whose first item is them.
    For every position t, the tokens after t are changed by random amounts of
    scale ``size``: the outputs at positions 0..t must stay bit-for-bit
    identical (the future never reaches the past). Then token t alone is
    changed: the output at t must change (a token sees itself, so a mask
    shifted one step into the past is caught too).
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(T, d))
    base = _outputs(fn, x)
    for t in range(T):
        future = x.copy()
        future[t + 1 :] += size * rng.normal(size=(T - t - 1, d))
        changed = ~np.all(_outputs(fn, future)[: t + 1] == base[: t + 1], axis=tuple(range(1, base.ndim)))
        if changed.any():
            return CausalResult(False, f"changing the tokens after position {t} changed the output at "
                                       f"position {int(np.argmax(changed))}")
        present = x.copy()
        present[t] += size * rng.normal(size=d)
        if np.array_equal(_outputs(fn, present)[t], base[t]):
            return CausalResult(False, f"changing token {t} left the output at position {t} unchanged: "
                                       "the token does not see itself")
    return CausalResult(True, f"for every t < {T}, outputs 0..t ignore the tokens after t and depend on token t")
